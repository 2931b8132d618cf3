# expect: safe redirect
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

app = FastAPI()


@app.get("/item")
def view(q: str):
    payload = {'key': q, 'n': 1}
    value = payload['key']
    limit = 10
    if limit > 99:
        return RedirectResponse(url=value)
    return None
