"""hello is the benchmark baseline: the smallest functions-framework ASGI functions."""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response


@functions_framework.aio.http
async def hello(request: Request) -> Response:
    # every path, /health/startup included, reaches the function: all answer 200
    return Response("hello")


@functions_framework.aio.http
async def upload_sink(request: Request) -> Response:
    # the upload baseline: receive the whole body (as an upload handler must), answer its size
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return Response(str(size))
