# expect: vulnerable deserialization
from flask import Flask
import pickle

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    pieces = [name]
    value = "".join(pieces)
    state = pickle.loads(value.encode('latin-1'))
