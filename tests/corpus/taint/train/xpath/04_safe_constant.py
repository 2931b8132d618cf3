# expect: safe xpath
import xml.etree.ElementTree as ET


def main():
    value, limit = input("value: "), 10
    value = "report.txt"
    root = ET.parse("items.xml").getroot()
    items = root.findall(f".//item[@id='{value}']")
