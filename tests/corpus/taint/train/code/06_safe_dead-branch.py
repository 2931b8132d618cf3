# expect: safe code
from flask import Flask, request

app = Flask(__name__)


@app.route("/item")
def view():
    payload = {'key': request.args.get("q", ""), 'n': 1}
    value = payload['key']
    limit = 10
    if limit > 99:
        answer = eval(f"{value} * 2")
    return None
