# expect: safe trust
from flask import Flask
import flask

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    value = ""
    for ch in name:
        value += ch
    value = "report.txt"
    flask.session[value] = True
    return "saved"
