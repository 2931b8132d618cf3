# expect: vulnerable xss
from flask import Flask, request

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    return "<h1>Hello " + value + "</h1>"
