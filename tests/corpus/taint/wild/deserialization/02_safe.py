# expect: safe deserialization
import json
from flask import Flask, request

app = Flask(__name__)


@app.route("/restore", methods=["POST"])
def restore():
    blob = request.files["state"].read()
    state = json.loads(blob)
    return {"keys": list(state)}
