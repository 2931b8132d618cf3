# expect: safe cookie
import flask

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    value = ""
    for ch in flask.request.cookies.get("pref"):
        value += ch
    r = flask.make_response("ok")
    r.headers["X-Lang"] = str(len(value))
    return r
