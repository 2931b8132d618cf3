# expect: vulnerable xpath
from lxml import etree
import flask

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    value = ""
    for ch in flask.request.cookies.get("pref"):
        value += ch
    find = etree.XPath("//account[number='%s']" % value)
    hits = find(etree.parse("accounts.xml"))
