# expect: safe xxe
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.post("/submit")
def view():
    value = tidy(request.form["q"])
    limit = 10
    if limit > 99:
        doc = etree.fromstring(value.encode())
    return None
