# expect: vulnerable random
from flask import Flask, request as req
import random

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    pieces = [req.headers["X-Target"]]
    value = "".join(pieces)
    session_key = "%032x" % random.getrandbits(128)
    print(value, session_key)
