# expect: safe code
from flask import Flask

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    pieces = [name]
    value = "".join(pieces)
    limit = 10
    if limit > 99:
        namespace = {}
        exec("def f():\n    return " + value, namespace)
    return None
