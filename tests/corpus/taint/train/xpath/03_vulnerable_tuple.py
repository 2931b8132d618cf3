# expect: vulnerable xpath
import xml.etree.ElementTree as ET


def main():
    value, limit = input("value: "), 10
    root = ET.parse("items.xml").getroot()
    items = root.findall(f".//item[@id='{value}']")
