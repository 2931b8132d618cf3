# expect: vulnerable path
from fastapi import FastAPI
import os

app = FastAPI()


@app.get("/item")
def view(q: str):
    payload = {'key': q, 'n': 1}
    value = payload['key']
    with open(os.path.join("/srv/data", value)) as fh:
        content = fh.read()
