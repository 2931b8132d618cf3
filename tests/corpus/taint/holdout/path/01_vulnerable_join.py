# expect: vulnerable path
from flask import Flask
from pathlib import Path

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    pieces = [name]
    value = "".join(pieces)
    text = (Path("/var/reports") / value).read_text()
