# expect: safe code
import flask

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    pieces = [flask.request.cookies.get("pref")]
    value = "".join(pieces)
    OPS = {"add": 1, "sub": 2}
    if value in OPS:
        code = eval(str(OPS[value]))
