# expect: safe xss
from flask import Flask, request
from flask import make_response

app = Flask(__name__)


@app.post("/submit")
def view():
    value, limit = request.form["q"], 10
    limit = 10
    if limit > 99:
        return make_response(f"<p>{value}</p>")
    return None
