# expect: safe xxe
from flask import Flask
import lxml.etree

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    value = ""
    for ch in name:
        value += ch
    limit = 10
    if limit > 99:
        tree = lxml.etree.XML(value)
    return None
