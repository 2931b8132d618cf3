# expect: safe trust
from flask import Flask, request
from flask import session

app = Flask(__name__)


@app.route("/item")
def view():
    value, limit = request.args.get("q", ""), 10
    limit = 10
    if limit > 99:
        session["username"] = value
        return "ok"
    return None
