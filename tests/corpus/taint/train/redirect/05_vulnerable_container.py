# expect: vulnerable redirect
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

app = FastAPI()


@app.get("/item")
def view(q: str):
    payload = {'key': q, 'n': 1}
    value = payload['key']
    return RedirectResponse(url=value)
