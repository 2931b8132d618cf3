# expect: safe code
from flask import Flask, request as req
import builtins

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    raw = req.headers["X-Target"]
    value = "{}".format(raw)
    value = "report.txt"
    value2 = builtins.eval(value)
