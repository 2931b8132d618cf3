# expect: safe code
from fastapi import FastAPI
import ast

app = FastAPI()


@app.get("/item")
def view(q: str):
    value, limit = q, 10
    result = ast.literal_eval(value)
