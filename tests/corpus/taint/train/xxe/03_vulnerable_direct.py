# expect: vulnerable xxe
from flask import Flask, request
from lxml import etree
import io

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    doc = etree.parse(io.BytesIO(value.encode()))
