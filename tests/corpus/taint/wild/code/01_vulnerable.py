# expect: vulnerable code
from starlette.applications import Starlette
from starlette.responses import JSONResponse


async def calc(request):
    body = await request.json()
    expr = body["expression"]
    return JSONResponse({"result": eval(expr, {"__builtins__": {}})})

app = Starlette()
