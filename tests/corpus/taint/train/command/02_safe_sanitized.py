# expect: safe command
from flask import Flask, request
import os
import shlex

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    os.system("ping -c 1 " + shlex.quote(value))
