# expect: safe path
from flask import Flask, request
import os

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    limit = 10
    if limit > 99:
        os.remove(f"/tmp/uploads/{value}")
    return None
