# expect: safe hash
from flask import Flask, request as req
import hashlib

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    pieces = [req.headers["X-Target"]]
    value = "".join(pieces)
    h = hashlib.new("sha512")
    h.update(value.encode())
    stored = h.hexdigest()
