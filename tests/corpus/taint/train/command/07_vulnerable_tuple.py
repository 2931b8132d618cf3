# expect: vulnerable command
from fastapi import FastAPI
import os

app = FastAPI()


@app.get("/item")
def view(q: str):
    value, limit = q, 10
    os.system("ping -c 1 " + value)
