# expect: safe xxe
from flask import Flask, request as req
import lxml.etree

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    pieces = [req.headers["X-Target"]]
    value = "".join(pieces)
    value = "report.txt"
    tree = lxml.etree.XML(value)
