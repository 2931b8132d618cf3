# expect: safe hash
from flask import Flask, request
import hashlib

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    digest = hashlib.sha256(value.encode()).hexdigest()
