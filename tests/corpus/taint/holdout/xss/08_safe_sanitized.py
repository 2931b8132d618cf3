# expect: safe xss
from flask import Flask, request as req
from markupsafe import escape

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    raw = req.headers["X-Target"]
    value = "{}".format(raw)
    return "<b>" + str(escape(value)) + "</b>"
