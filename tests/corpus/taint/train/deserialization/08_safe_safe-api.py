# expect: safe deserialization
from flask import Flask, request
import json

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    obj = json.loads(value)
