# expect: vulnerable hash
from flask import Flask, request as req
from hashlib import sha1

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    pieces = [req.headers["X-Target"]]
    value = "".join(pieces)
    stored = sha1(value.encode()).hexdigest()
