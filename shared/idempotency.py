"""idempotency replays the first answer to a repeated ``Idempotency-Key`` (creating endpoints).

The key is scoped to the method, path and caller (a hash of ``Authorization``); the
first request's status and body are kept in Redis for ``TTL`` seconds. A repeat with
the same body gets the stored answer (header ``Idempotent-Replayed: true``); the same
key with another body is a 422; a repeat while the first is still running is a 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from shared.cache import Cache, down_errors
from shared.errors import Conflict, Unavailable, ValidationFailed

TTL = 24 * 3600
PENDING_TTL = 60
MAX_KEY_LENGTH = 255


async def run(
    cache: Cache, request: Request, body: bytes, handler: Callable[[], Awaitable[Response]]
) -> Response:
    """Run ``handler`` once per idempotency key; a request without the header just runs."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return await handler()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            [
                {
                    "loc": ["header", "Idempotency-Key"],
                    "msg": f"must be 1 to {MAX_KEY_LENGTH} characters",
                }
            ]
        )
    scope = "\n".join(
        (request.method, request.url.path, request.headers.get("authorization", ""), key)
    )
    redis_key = cache.key("idempotency", hashlib.sha256(scope.encode()).hexdigest())
    fingerprint = hashlib.sha256(body).hexdigest()
    try:
        client = cache.client()
        claimed = await client.set(redis_key, b"pending", nx=True, ex=PENDING_TTL)
        if not claimed:
            stored = await client.get(redis_key)
            return _replay(stored if isinstance(stored, bytes) else None, fingerprint)
        try:
            response = await handler()
        except BaseException:
            await client.delete(redis_key)
            raise
        if response.status_code >= 500:
            await client.delete(redis_key)
            return response
        record = {
            "fingerprint": fingerprint,
            "status": response.status_code,
            "media_type": response.media_type or response.headers.get("content-type"),
            "body": bytes(response.body).decode("utf-8"),
        }
        await client.set(redis_key, json.dumps(record).encode(), ex=TTL)
        return response
    except down_errors() as e:
        raise Unavailable("redis") from e


def _replay(stored: bytes | None, fingerprint: str) -> Response:
    if stored is None or stored == b"pending":
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    record = json.loads(stored)
    if record["fingerprint"] != fingerprint:
        raise ValidationFailed(
            [
                {
                    "loc": ["header", "Idempotency-Key"],
                    "msg": "was already used with a different body",
                }
            ]
        )
    return Response(
        record["body"].encode(),
        status_code=record["status"],
        media_type=record["media_type"],
        headers={"Idempotent-Replayed": "true"},
    )
