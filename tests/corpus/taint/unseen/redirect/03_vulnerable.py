# expect: vulnerable redirect
from starlette.requests import Request
from starlette.responses import RedirectResponse


async def go(request: Request):
    link = request.path_params["link"]
    return RedirectResponse(url="https://" + link, status_code=302)
