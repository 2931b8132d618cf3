# expect: vulnerable xxe
from lxml import etree


def main():
    value, limit = input("value: "), 10
    doc = etree.fromstring(value.encode())
