# expect: vulnerable cookie
from flask import Flask
import flask

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    raw = name
    value = "{}".format(raw)
    r = flask.make_response("ok")
    r.set_cookie("lang", "en", max_age=3600)
    return r
