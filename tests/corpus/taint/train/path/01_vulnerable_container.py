# expect: vulnerable path
from flask import Flask, request
import os

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    with open(os.path.join("/srv/data", value)) as fh:
        content = fh.read()
