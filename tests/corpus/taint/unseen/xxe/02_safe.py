# expect: safe xxe
from defusedxml import ElementTree
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/import")
async def import_feed(request: Request):
    root = ElementTree.fromstring(await request.body())
    return {"items": len(root)}
