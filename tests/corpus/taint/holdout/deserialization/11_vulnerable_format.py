# expect: vulnerable deserialization
from flask import Flask, request as req
import jsonpickle

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    raw = req.headers["X-Target"]
    value = "{}".format(raw)
    item = jsonpickle.decode(value)
