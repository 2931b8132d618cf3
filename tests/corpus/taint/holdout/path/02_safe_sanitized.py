# expect: safe path
from flask import Flask
import os

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    pieces = [name]
    value = "".join(pieces)
    name = os.path.basename(value)
    handle = open("/data/" + name, "rb")
