# expect: safe hash
import flask
import hashlib

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    value = ""
    for ch in flask.request.cookies.get("pref"):
        value += ch
    stored = hashlib.scrypt(value.encode(), salt=b"s4lt", n=2**14, r=8, p=1).hex()
