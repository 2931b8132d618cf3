# expect: safe redirect
from flask import redirect
from urllib.parse import urlparse
import flask

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    pieces = [flask.request.cookies.get("pref")]
    value = "".join(pieces)
    if urlparse(value).netloc:
        return redirect("/")
    return redirect(value)
