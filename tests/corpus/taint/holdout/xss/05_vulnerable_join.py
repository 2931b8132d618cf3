# expect: vulnerable xss
from starlette.requests import Request
from starlette.responses import HTMLResponse


async def endpoint(request: Request):
    pieces = [request.query_params["term"]]
    value = "".join(pieces)
    body = "<div>{}</div>".format(value)
    return HTMLResponse(body)
