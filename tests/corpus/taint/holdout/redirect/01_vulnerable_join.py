# expect: vulnerable redirect
import flask

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    pieces = [flask.request.cookies.get("pref")]
    value = "".join(pieces)
    target = "{}".format(value)
    return flask.redirect(target, code=302)
