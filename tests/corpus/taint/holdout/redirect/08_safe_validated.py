# expect: safe redirect
from flask import redirect
from urllib.parse import urlparse
import flask

web = flask.Flask(__name__)


class Holder:
    def unwrap(self, item):
        return item


@web.route("/pref")
def show_pref():
    value = Holder().unwrap(flask.request.cookies.get("pref"))
    if urlparse(value).netloc:
        return redirect("/")
    return redirect(value)
