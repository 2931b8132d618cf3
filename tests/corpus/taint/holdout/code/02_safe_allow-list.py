# expect: safe code
from starlette.requests import Request


async def endpoint(request: Request):
    if (value := request.query_params["term"]) is None:
        value = ""
    OPS = {"add": 1, "sub": 2}
    if value in OPS:
        code = eval(str(OPS[value]))
