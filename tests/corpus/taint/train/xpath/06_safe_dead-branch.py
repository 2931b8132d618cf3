# expect: safe xpath
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    limit = 10
    if limit > 99:
        tree = etree.parse("users.xml")
        found = tree.xpath("//user[@name='" + value + "']")
    return None
