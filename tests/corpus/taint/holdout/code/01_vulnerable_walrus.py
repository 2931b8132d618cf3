# expect: vulnerable code
from starlette.requests import Request


async def endpoint(request: Request):
    if (value := request.query_params["term"]) is None:
        value = ""
    compiled = compile(value, "<input>", "exec")
    exec(compiled)
