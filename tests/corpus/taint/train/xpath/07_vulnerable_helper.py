# expect: vulnerable xpath
from flask import Flask, request
import xml.etree.ElementTree as ET

app = Flask(__name__)


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.post("/submit")
def view():
    value = tidy(request.form["q"])
    root = ET.parse("items.xml").getroot()
    items = root.findall(f".//item[@id='{value}']")
