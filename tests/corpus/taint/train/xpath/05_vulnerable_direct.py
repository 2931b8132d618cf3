# expect: vulnerable xpath
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    tree = etree.parse("users.xml")
    found = tree.xpath("//user[@name='" + value + "']")
