# expect: safe deserialization
from flask import Flask
import yaml

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    pieces = [name]
    value = "".join(pieces)
    data = yaml.load(value, Loader=yaml.SafeLoader)
