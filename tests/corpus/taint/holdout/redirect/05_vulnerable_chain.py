# expect: vulnerable redirect
from starlette.requests import Request
from starlette.responses import RedirectResponse


def first(x):
    return second(x)


def second(y):
    return y


async def endpoint(request: Request):
    value = first(request.query_params["term"])
    return RedirectResponse(value, status_code=303)
