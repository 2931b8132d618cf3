# expect: vulnerable xxe
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.post("/submit")
def view():
    value = tidy(request.form["q"])
    doc = etree.fromstring(value.encode())
