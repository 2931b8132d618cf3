# expect: safe redirect
from flask import Flask, request
from flask import redirect, url_for

app = Flask(__name__)


@app.post("/submit")
def view():
    value, limit = request.form["q"], 10
    return redirect(url_for("profile", user=value))
