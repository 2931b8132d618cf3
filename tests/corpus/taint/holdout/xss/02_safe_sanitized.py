# expect: safe xss
from flask import Flask, request as req
from markupsafe import escape

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    value = ""
    for ch in req.headers["X-Target"]:
        value += ch
    return "<b>" + str(escape(value)) + "</b>"
