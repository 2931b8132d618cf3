# expect: vulnerable code
from fastapi import FastAPI

app = FastAPI()


@app.get("/item")
def view(q: str):
    payload = {'key': q, 'n': 1}
    value = payload['key']
    answer = eval(f"{value} * 2")
