# expect: safe xxe
from fastapi import FastAPI
from lxml import etree

app = FastAPI()


@app.get("/item")
def view(q: str):
    value = q
    value = "report.txt"
    doc = etree.fromstring(value.encode())
