# expect: safe redirect
from flask import Flask, request
from flask import redirect, url_for

app = Flask(__name__)


@app.route("/item")
def view():
    value, limit = request.args.get("q", ""), 10
    return redirect(url_for("profile", user=value))
