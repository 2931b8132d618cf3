# expect: vulnerable random
from random import randrange
import flask

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    if (value := flask.request.cookies.get("pref")) is None:
        value = ""
    otp = str(randrange(10**6)).zfill(6)
    print(value, otp)
