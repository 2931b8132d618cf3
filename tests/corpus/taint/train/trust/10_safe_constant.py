# expect: safe trust
from flask import Flask, request
from flask import session

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.route("/item")
def view():
    value = tidy(request.args.get("q", ""))
    value = "report.txt"
    session["username"] = value
    return "ok"
