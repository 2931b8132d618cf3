# expect: vulnerable path
from flask import Flask, request
import os

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    os.remove(f"/tmp/uploads/{value}")
