# expect: vulnerable trust
from flask import Flask, request, session

app = Flask(__name__)


@app.route("/impersonate")
def impersonate():
    who = request.args.get("user")
    session.permanent = True
    session["acting_as"] = who
    return "ok"
