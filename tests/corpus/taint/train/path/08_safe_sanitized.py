# expect: safe path
from fastapi import FastAPI
from werkzeug.utils import secure_filename
import os

app = FastAPI()


@app.get("/item")
def view(q: str):
    payload = {'key': q, 'n': 1}
    value = payload['key']
    with open(os.path.join("/srv/data", secure_filename(value))) as fh:
        content = fh.read()
