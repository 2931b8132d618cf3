# expect: vulnerable code
from flask import Flask, request

app = Flask(__name__)


@app.post("/submit")
def view():
    value, limit = request.form["q"], 10
    result = eval(value)
