# expect: vulnerable random
from fastapi import FastAPI
import random

app = FastAPI()


@app.get("/item")
def view(q: str):
    payload = {'key': q, 'n': 1}
    value = payload['key']
    reset_code = random.randint(100000, 999999)
    print(value, reset_code)
