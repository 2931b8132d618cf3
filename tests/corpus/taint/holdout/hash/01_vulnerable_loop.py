# expect: vulnerable hash
import flask
import hashlib

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    value = ""
    for ch in flask.request.cookies.get("pref"):
        value += ch
    h = hashlib.new("md5")
    h.update(value.encode())
    stored = h.hexdigest()
