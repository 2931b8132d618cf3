# expect: safe code
import ast
from starlette.applications import Starlette
from starlette.responses import JSONResponse


async def calc(request):
    body = await request.json()
    expr = body["expression"]
    return JSONResponse({"result": ast.literal_eval(expr)})

app = Starlette()
