# expect: safe command
from fastapi import FastAPI
import os
import shlex

app = FastAPI()


@app.get("/item")
def view(q: str):
    value, limit = q, 10
    os.system("ping -c 1 " + shlex.quote(value))
