# expect: vulnerable cookie
from flask import Flask, request as req
import flask

site = Flask(__name__)


class Holder:
    def unwrap(self, item):
        return item


@site.route("/api", methods=["POST"])
def api_call():
    value = Holder().unwrap(req.headers["X-Target"])
    r = flask.make_response("ok")
    r.set_cookie("lang", "en", max_age=3600)
    return r
