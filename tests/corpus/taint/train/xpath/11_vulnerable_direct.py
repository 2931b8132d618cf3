# expect: vulnerable xpath
from fastapi import FastAPI
import xml.etree.ElementTree as ET

app = FastAPI()


@app.get("/item")
def view(q: str):
    value = q
    root = ET.parse("items.xml").getroot()
    items = root.findall(f".//item[@id='{value}']")
