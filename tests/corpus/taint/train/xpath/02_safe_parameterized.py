# expect: safe xpath
from fastapi import FastAPI
from lxml import etree

app = FastAPI()


@app.get("/item")
def view(q: str):
    payload = {'key': q, 'n': 1}
    value = payload['key']
    tree = etree.parse("users.xml")
    found = tree.xpath("//user[@name=$name]", name=value)
