# expect: vulnerable xpath
from lxml import etree
import sys


def run_tool():
    if (value := sys.argv[1]) is None:
        value = ""
    find = etree.XPath("//account[number='%s']" % value)
    hits = find(etree.parse("accounts.xml"))
