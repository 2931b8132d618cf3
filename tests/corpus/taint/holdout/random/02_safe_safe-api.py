# expect: safe random
from flask import Flask, request as req
import random

site = Flask(__name__)


@site.route("/api", methods=["POST"])
def api_call():
    pieces = [req.headers["X-Target"]]
    value = "".join(pieces)
    rng = random.SystemRandom()
    otp = str(rng.randrange(10**6)).zfill(6)
    print(value, otp)
