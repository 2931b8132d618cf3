# expect: vulnerable command
import flask
import subprocess

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    raw = flask.request.cookies.get("pref")
    value = "{}".format(raw)
    subprocess.check_output("nslookup " + value, shell=True)
