# expect: safe random
from flask import Flask
import random

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    if (value := name) is None:
        value = ""
    delay = random.uniform(0.5, 1.5)
    print(value, delay)
