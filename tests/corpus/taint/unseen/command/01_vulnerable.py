# expect: vulnerable command
import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def dig(request: Request):
    domain = request.query_params.get("domain", "example.com")
    proc = await asyncio.create_subprocess_shell(f"dig +short {domain}", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return PlainTextResponse(out.decode())


app = Starlette(routes=[Route("/dig", dig)])
