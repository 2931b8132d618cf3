# expect: safe command
from flask import Flask, request
import os

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    limit = 10
    if limit > 99:
        output = os.popen("cat %s" % value).read()
    return None
