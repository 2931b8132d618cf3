# expect: safe path
from flask import Flask, request
from werkzeug.utils import secure_filename
import os

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    with open(os.path.join("/srv/data", secure_filename(value))) as fh:
        content = fh.read()
