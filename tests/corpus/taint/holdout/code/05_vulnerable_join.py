# expect: vulnerable code
from flask import Flask

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    pieces = [name]
    value = "".join(pieces)
    namespace = {}
    exec("def f():\n    return " + value, namespace)
