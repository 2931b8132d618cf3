# expect: safe deserialization
import flask
import marshal

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    pieces = [flask.request.cookies.get("pref")]
    value = "".join(pieces)
    value = "report.txt"
    code = marshal.loads(bytes.fromhex(value))
