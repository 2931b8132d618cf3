# expect: safe xpath
from fastapi import FastAPI
import xml.etree.ElementTree as ET

app = FastAPI()


@app.get("/item")
def view(q: str):
    value = q
    limit = 10
    if limit > 99:
        root = ET.parse("items.xml").getroot()
        items = root.findall(f".//item[@id='{value}']")
    return None
