# expect: vulnerable xxe
from flask import Flask, request as req
import lxml.etree

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    pieces = [req.headers["X-Target"]]
    value = "".join(pieces)
    tree = lxml.etree.XML(value)
