# expect: safe code
import ast

from fastapi import FastAPI

app = FastAPI()


@app.get("/calc")
def calc(expr: str):
    return {"result": ast.literal_eval(expr)}
