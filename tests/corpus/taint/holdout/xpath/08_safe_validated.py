# expect: safe xpath
from flask import Flask
from lxml import etree
import re

site = Flask(__name__)


@site.route("/files/<name>")
def by_name(name):
    value = ""
    for ch in name:
        value += ch
    if not re.fullmatch(r"[0-9]+", value):
        return None
    find = etree.XPath("//account[number='%s']" % value)
