# expect: vulnerable random
from fastapi import FastAPI
import random
import string

app = FastAPI()


@app.get("/item")
def view(q: str):
    value = q
    token = "".join(random.choice(string.ascii_letters) for _ in range(32))
    print(value, token)
