# expect: vulnerable redirect
from flask import Flask, request
from flask import redirect

app = Flask(__name__)


@app.route("/item")
def view():
    value, limit = request.args.get("q", ""), 10
    return redirect(value)
