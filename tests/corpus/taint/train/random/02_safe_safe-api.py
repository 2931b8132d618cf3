# expect: safe random
from fastapi import FastAPI
import secrets

app = FastAPI()


@app.get("/item")
def view(q: str):
    value = q
    token = secrets.token_urlsafe(32)
    print(value, token)
