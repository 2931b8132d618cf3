# expect: safe trust
from flask import Flask, request as req
from flask import session

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    pieces = [req.headers["X-Target"]]
    value = "".join(pieces)
    THEMES = {"light", "dark"}
    if value in THEMES:
        session["theme"] = value
    return "saved"
