# expect: safe xss
from flask import Flask, request
import html

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.route("/item")
def view():
    value = tidy(request.args.get("q", ""))
    return "<h1>Hello " + html.escape(value) + "</h1>"
