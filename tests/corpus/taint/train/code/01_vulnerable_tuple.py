# expect: vulnerable code
from fastapi import FastAPI

app = FastAPI()


@app.get("/item")
def view(q: str):
    value, limit = q, 10
    result = eval(value)
