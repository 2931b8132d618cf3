# expect: vulnerable deserialization
from flask import Flask, request
import base64
import pickle

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    obj = pickle.loads(base64.b64decode(value))
