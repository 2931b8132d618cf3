# expect: vulnerable trust
from flask import Flask, request
from flask import session

app = Flask(__name__)


@app.route("/item")
def view():
    value = request.args.get("q", "")
    session["username"] = value
    return "ok"
