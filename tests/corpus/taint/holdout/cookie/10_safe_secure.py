# expect: safe cookie
from starlette.requests import Request
from starlette.responses import Response


def first(x):
    return second(x)


def second(y):
    return y


async def endpoint(request: Request):
    value = first(request.query_params["term"])
    out = Response(str(len(value)))
    out.set_cookie(key="visit", value="1", secure=True, httponly=True, samesite="strict")
    return out
