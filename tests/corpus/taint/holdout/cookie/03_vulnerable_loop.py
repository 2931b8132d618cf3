# expect: vulnerable cookie
import flask

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    value = ""
    for ch in flask.request.cookies.get("pref"):
        value += ch
    r = flask.make_response("ok")
    r.set_cookie("lang", "en", max_age=3600)
    return r
