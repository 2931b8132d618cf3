# expect: vulnerable code
from fastapi import FastAPI

app = FastAPI()


@app.get("/calc")
def calc(expr: str):
    namespace = {}
    exec("result = " + expr, {"__builtins__": {}}, namespace)
    return {"result": namespace["result"]}
