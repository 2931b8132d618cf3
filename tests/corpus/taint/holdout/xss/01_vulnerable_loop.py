# expect: vulnerable xss
from flask import Flask, request as req
from flask import render_template_string

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    value = ""
    for ch in req.headers["X-Target"]:
        value += ch
    return render_template_string("<b>" + value + "</b>")
