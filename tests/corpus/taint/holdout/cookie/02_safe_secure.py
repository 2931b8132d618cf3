# expect: safe cookie
from starlette.requests import Request
from starlette.responses import Response


async def endpoint(request: Request):
    value = ""
    for ch in request.query_params["term"]:
        value += ch
    out = Response(str(len(value)))
    out.set_cookie(key="visit", value="1", secure=True, httponly=True, samesite="strict")
    return out
