# expect: safe xxe
import flask
import xml.etree.ElementTree as ET

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    value = ""
    for ch in flask.request.cookies.get("pref"):
        value += ch
    tree = ET.fromstring(value)
