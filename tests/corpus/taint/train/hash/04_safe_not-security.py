# expect: safe hash
from fastapi import FastAPI
import hashlib

app = FastAPI()


@app.get("/item")
def view(q: str):
    value = q
    etag = hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()
