# expect: safe code
from fastapi import FastAPI

app = FastAPI()


@app.get("/item")
def view(q: str):
    payload = {'key': q, 'n': 1}
    value = payload['key']
    limit = 10
    if limit > 99:
        answer = eval(f"{value} * 2")
    return None
