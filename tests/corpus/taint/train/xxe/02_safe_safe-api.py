# expect: safe xxe
import defusedxml.ElementTree as DET


def main():
    value, limit = input("value: "), 10
    doc = DET.fromstring(value)
