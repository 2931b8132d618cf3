# expect: vulnerable hash
from fastapi import FastAPI
import hashlib

app = FastAPI()


@app.get("/item")
def view(q: str):
    value = q
    digest = hashlib.sha1(value.encode()).hexdigest()
