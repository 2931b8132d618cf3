# expect: safe redirect
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

app = FastAPI()


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.get("/item")
def view(q: str):
    value = tidy(q)
    limit = 10
    if limit > 99:
        return RedirectResponse(url=value)
    return None
