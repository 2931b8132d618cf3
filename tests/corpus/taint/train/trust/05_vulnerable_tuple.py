# expect: vulnerable trust
from flask import Flask, request
from flask import session

app = Flask(__name__)


@app.route("/item")
def view():
    value, limit = request.args.get("q", ""), 10
    session["username"] = value
    return "ok"
