# expect: vulnerable xxe
from flask import Flask
import lxml.etree

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    value = ""
    for ch in name:
        value += ch
    tree = lxml.etree.XML(value)
