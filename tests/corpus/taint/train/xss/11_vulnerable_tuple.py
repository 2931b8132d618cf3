# expect: vulnerable xss
from flask import Flask, request
from flask import make_response

app = Flask(__name__)


@app.post("/submit")
def view():
    value, limit = request.form["q"], 10
    return make_response(f"<p>{value}</p>")
