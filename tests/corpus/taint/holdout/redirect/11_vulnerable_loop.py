# expect: vulnerable redirect
from starlette.requests import Request
from starlette.responses import RedirectResponse


async def endpoint(request: Request):
    value = ""
    for ch in request.query_params["term"]:
        value += ch
    return RedirectResponse(value, status_code=303)
