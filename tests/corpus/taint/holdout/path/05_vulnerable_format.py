# expect: vulnerable path
from flask import Flask, request as req
import io

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    raw = req.headers["X-Target"]
    value = "{}".format(raw)
    handle = io.open("/data/{}".format(value), "rb")
