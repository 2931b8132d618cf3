# expect: safe xxe
from lxml import etree
import io


def tidy(text):
    cleaned = text.strip()
    return cleaned


def main():
    value = tidy(input("value: "))
    limit = 10
    if limit > 99:
        doc = etree.parse(io.BytesIO(value.encode()))
    return None
