# expect: vulnerable code
import flask

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    pieces = [flask.request.cookies.get("pref")]
    value = "".join(pieces)
    compiled = compile(value, "<input>", "exec")
    exec(compiled)
