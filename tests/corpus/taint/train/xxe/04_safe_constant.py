# expect: safe xxe
from flask import Flask, request
from lxml import etree
import io

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    value = "report.txt"
    doc = etree.parse(io.BytesIO(value.encode()))
