# expect: safe trust
from flask import Flask, request, session

app = Flask(__name__)


@app.route("/impersonate")
def impersonate():
    who = request.args.get("user")
    session["last_search_length"] = len(who or "")
    return "ok"
