# expect: vulnerable xpath
from flask import Flask, request as req
from lxml import etree

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    pieces = [req.headers["X-Target"]]
    value = "".join(pieces)
    doc = etree.fromstring(b"<r/>")
    expr = "//entry[title='{}']".format(value)
    entries = doc.xpath(expr)
