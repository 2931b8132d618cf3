# expect: vulnerable redirect
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

app = FastAPI()


def tidy(text):
    cleaned = text.strip()
    return cleaned


@app.get("/item")
def view(q: str):
    value = tidy(q)
    return RedirectResponse(url=value)
