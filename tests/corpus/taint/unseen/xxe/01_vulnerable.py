# expect: vulnerable xxe
from lxml import etree
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/import")
async def import_feed(request: Request):
    parser = etree.XMLParser(resolve_entities=True, no_network=False)
    root = etree.fromstring(await request.body(), parser)
    return {"items": len(root)}
