# expect: safe redirect
from starlette.requests import Request
from starlette.responses import RedirectResponse


def first(x):
    return second(x)


def second(y):
    return y


async def endpoint(request: Request):
    value = first(request.query_params["term"])
    limit = 10
    if limit > 99:
        return RedirectResponse(value, status_code=303)
    return None
