# expect: safe redirect
from starlette.requests import Request
from starlette.responses import RedirectResponse

LINKS = {"docs": "https://docs.example.com", "blog": "https://blog.example.com"}


async def go(request: Request):
    link = LINKS.get(request.path_params["link"], "https://example.com")
    return RedirectResponse(url=link, status_code=302)
