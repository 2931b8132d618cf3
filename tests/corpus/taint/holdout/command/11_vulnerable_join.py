# expect: vulnerable command
from flask import Flask
import os

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    pieces = [name]
    value = "".join(pieces)
    cmd = "convert {} out.png".format(value)
    os.system(cmd)
