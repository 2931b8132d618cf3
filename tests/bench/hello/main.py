"""hello is the benchmark baseline: the smallest functions-framework ASGI functions.

``one_query`` is the floor of an authenticated read such as ``GET /users/me``: one asyncpg
query per request on a pool (released without asyncpg's reset round trip, as
``shared.db`` releases), answered as JSON, and nothing else (no authentication, routing,
validation or access log). What a read costs beyond it is the platform's own stack.
"""

from __future__ import annotations

import json
import os
from typing import Any

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


_pool: Any = None


async def _no_reset(connection: Any) -> None:
    """asyncpg's default reset is one more round trip per release; ``shared.db`` skips it."""


@functions_framework.aio.http
async def one_query(request: Request) -> Response:
    global _pool  # noqa: PLW0603 - one pool per process, made on the first request
    if _pool is None:
        import asyncpg  # not at import: hello's own cold start stays hello's

        _pool = await asyncpg.create_pool(
            os.environ["DATABASE_URL"], min_size=1, max_size=10, reset=_no_reset
        )
    async with _pool.acquire() as connection:
        row = await connection.fetchrow(
            "select 1 as id, 'floor@example.com' as email, now() as created_at"
        )
    body = {"id": row["id"], "email": row["email"], "created_at": row["created_at"].isoformat()}
    return Response(json.dumps(body), media_type="application/json")
