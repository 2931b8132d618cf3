# expect: safe xss
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/item")
def view(q: str):
    value = q
    return JSONResponse({"q": value})
