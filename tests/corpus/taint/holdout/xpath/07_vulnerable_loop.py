# expect: vulnerable xpath
from flask import Flask
from lxml import etree

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    value = ""
    for ch in name:
        value += ch
    doc = etree.fromstring(b"<r/>")
    expr = "//entry[title='{}']".format(value)
    entries = doc.xpath(expr)
