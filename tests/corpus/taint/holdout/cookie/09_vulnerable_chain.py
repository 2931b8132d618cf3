# expect: vulnerable cookie
from starlette.requests import Request
from starlette.responses import Response


def first(x):
    return second(x)


def second(y):
    return y


async def endpoint(request: Request):
    value = first(request.query_params["term"])
    out = Response("ok")
    out.set_cookie(key="visit", value=str(len(value)), httponly=True)
    return out
