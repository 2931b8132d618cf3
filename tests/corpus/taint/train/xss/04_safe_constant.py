# expect: safe xss
from flask import Flask, request
from flask import make_response

app = Flask(__name__)


@app.post("/submit")
def view():
    payload = {'key': request.form["q"], 'n': 1}
    value = payload['key']
    value = "report.txt"
    return make_response(f"<p>{value}</p>")
