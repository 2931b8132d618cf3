# expect: vulnerable xxe
from lxml import etree
import io


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    doc = etree.parse(io.BytesIO(value.encode()))
