# expect: vulnerable cookie
from starlette.requests import Request
from starlette.responses import Response


async def endpoint(request: Request):
    value = ""
    for ch in request.query_params["term"]:
        value += ch
    out = Response("ok")
    out.set_cookie(key="visit", value=str(len(value)), httponly=True)
    return out
