# expect: vulnerable xss
from flask import Flask, request as req
from markupsafe import Markup

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    raw = req.headers["X-Target"]
    value = "{}".format(raw)
    return Markup("<em>%s</em>" % value)
