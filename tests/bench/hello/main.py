"""hello is the benchmark baseline: the smallest functions-framework ASGI function."""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response


@functions_framework.aio.http
async def hello(request: Request) -> Response:
    # every path, /health/startup included, reaches the function: all answer 200
    return Response("hello")
