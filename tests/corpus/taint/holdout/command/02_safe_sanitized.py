# expect: safe command
from shlex import quote
import flask
import subprocess

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    raw = flask.request.cookies.get("pref")
    value = "{}".format(raw)
    subprocess.call("grep " + quote(value) + " app.log", shell=True)
