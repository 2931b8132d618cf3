# expect: vulnerable trust
from flask import Flask
import flask

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    raw = name
    value = "{}".format(raw)
    flask.session[value] = True
    return "saved"
