# expect: safe random
import flask
import random

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    if (value := flask.request.cookies.get("pref")) is None:
        value = ""
    rng = random.SystemRandom()
    otp = str(rng.randrange(10**6)).zfill(6)
    print(value, otp)
