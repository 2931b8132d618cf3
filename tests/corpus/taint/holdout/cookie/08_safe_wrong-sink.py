# expect: safe cookie
from flask import Flask
import flask

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    raw = name
    value = "{}".format(raw)
    r = flask.make_response("ok")
    r.headers["X-Lang"] = str(len(value))
    return r
