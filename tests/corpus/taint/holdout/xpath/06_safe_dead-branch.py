# expect: safe xpath
from lxml import etree
import sys


def run_tool():
    if (value := sys.argv[1]) is None:
        value = ""
    limit = 10
    if limit > 99:
        find = etree.XPath("//account[number='%s']" % value)
        hits = find(etree.parse("accounts.xml"))
    return None
