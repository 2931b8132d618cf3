# expect: vulnerable xss
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/item")
def view(q: str):
    value = q
    return HTMLResponse(f"<i>{value}</i>")
