# expect: vulnerable xss
from flask import Flask, request

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.route("/item")
def view():
    value = tidy(request.args.get("q", ""))
    return "<h1>Hello " + value + "</h1>"
