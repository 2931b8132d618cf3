# expect: vulnerable redirect
from flask import Flask, request, redirect

app = Flask(__name__)


@app.route("/login", methods=["POST"])
def login():
    next_url = request.form.get("next") or request.args.get("next") or "/"
    return redirect(next_url)
