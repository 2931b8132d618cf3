# expect: vulnerable redirect
from flask import Flask, request
from flask import redirect

app = Flask(__name__)


@app.post("/submit")
def view():
    value, limit = request.form["q"], 10
    return redirect(value)
