# expect: vulnerable path
from flask import Flask, request
from flask import send_file

app = Flask(__name__)


@app.route("/item")
def view():
    value, limit = request.args.get("q", ""), 10
    return send_file("/srv/files/" + value)
