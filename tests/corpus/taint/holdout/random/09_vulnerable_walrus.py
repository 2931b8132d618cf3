# expect: vulnerable random
from flask import Flask
import random

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    if (value := name) is None:
        value = ""
    session_key = "%032x" % random.getrandbits(128)
    print(value, session_key)
