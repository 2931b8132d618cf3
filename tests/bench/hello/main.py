"""hello is the benchmark baseline: the smallest functions-framework ASGI functions.

``one_query`` is the floor of an authenticated read such as ``GET /users/me``: one asyncpg
query per request on a pool (released without asyncpg's reset round trip, as
``shared.db`` releases), answered as JSON, and nothing else (no authentication, routing,
validation or access log). What a read costs beyond it is the platform's own stack.

``one_script`` is the same floor for a request answered by one Redis script: one
``EVALSHA`` (of ``return 1``, the script of the raw Redis baseline) through redis-py's
asyncio client on a connection pool, per request, answered as JSON. Two of them are the
floor of a quota reserve + commit pair, whose requests are one script each.

``stack_floor`` is the floor of a cold start with the platform's libraries (the design
card's and ``shared/requirements.in``'s): its first request imports and uses each once, as
a function's first authenticated read does: httpx fetches the JWKS, joserfc verifies the
bearer token (ES256, issuer and audience), asyncpg queries through a pool, redis-py reads a
key, and a pydantic model renders the answer. No settings, Secret Manager, routing, logging
or migrations: what a function's cold start costs beyond it is the platform's own.
"""

from __future__ import annotations

import json
import os
import ssl
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


_script: list[Any] = []


@functions_framework.aio.http
async def one_script(request: Request) -> Response:
    if not _script:
        import redis.asyncio as redis  # not at import, as one_query's asyncpg

        client = redis.Redis.from_url(os.environ["REDIS_URL"], max_connections=50)
        _script.append(client.register_script("return 1"))  # EVALSHA, loaded on a miss
    result = await _script[0]()
    return Response(json.dumps({"result": result}), media_type="application/json")


_floor: dict[str, Any] = {}


async def _floor_parts() -> dict[str, Any]:
    """The libraries, imported and set up on the first request (as the platform's are)."""
    if not _floor:
        from datetime import datetime

        import asyncpg
        import httpx
        import pydantic
        import redis.asyncio as redis
        from joserfc.jwk import KeySet

        class Me(pydantic.BaseModel):
            id: int
            email: str
            created_at: datetime

        # no CA bundle loaded (the JWKS is plain HTTP), as shared.clients.tls defers it
        client = httpx.AsyncClient(timeout=10.0, verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        jwks = (await client.get(os.environ["JWKS_URL"])).raise_for_status().json()
        _floor.update(
            model=Me,
            client=client,
            keys=KeySet.import_key_set(jwks),
            redis=redis.Redis.from_url(os.environ["REDIS_URL"]),
            pool=await asyncpg.create_pool(
                os.environ["DATABASE_URL"], min_size=1, max_size=10, reset=_no_reset
            ),
        )
    return _floor


@functions_framework.aio.http
async def stack_floor(request: Request) -> Response:
    if request.url.path.startswith("/health"):
        return Response("ok")
    from joserfc import jwt

    parts = await _floor_parts()
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
    token = jwt.decode(bearer, parts["keys"], algorithms=["ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": "https://auth.ai-codereview.dev"},
        aud={"essential": True, "value": "ai-codereview"},
    ).validate(token.claims)
    await parts["redis"].get(f"{os.environ.get('REDIS_KEY_PREFIX', '')}floor:{token.claims['sub']}")
    async with parts["pool"].acquire() as connection:
        row = await connection.fetchrow(
            "select 1 as id, 'floor@example.com' as email, now() as created_at"
        )
    me = parts["model"].model_validate(dict(row))
    return Response(me.model_dump_json(), media_type="application/json")
