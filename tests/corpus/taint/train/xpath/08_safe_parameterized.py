# expect: safe xpath
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.post("/submit")
def view():
    value = tidy(request.form["q"])
    tree = etree.parse("users.xml")
    found = tree.xpath("//user[@name=$name]", name=value)
