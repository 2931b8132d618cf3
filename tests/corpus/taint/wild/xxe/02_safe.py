# expect: safe xxe
from defusedxml import ElementTree
from flask import Flask, request

app = Flask(__name__)


@app.route("/import", methods=["POST"])
def import_feed():
    root = ElementTree.fromstring(request.data)
    return {"items": len(root)}
