"""pagination parses ``limit``/``cursor`` and builds ``{items, next_cursor}`` pages."""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request

from shared.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def params(request: Request) -> tuple[int, dict[str, Any] | None]:
    """Return ``(limit, cursor)`` from the query string.

    Raises:
        ValidationFailed: ``limit`` is not 1..200 or ``cursor`` is not one we issued.
    """
    raw_limit = request.query_params.get("limit", str(DEFAULT_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise ValidationFailed(
            [{"loc": ["query", "limit"], "msg": f"must be an integer from 1 to {MAX_LIMIT}"}]
        )
    raw_cursor = request.query_params.get("cursor")
    return int(raw_limit), decode(raw_cursor) if raw_cursor else None


def encode(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, default=str).encode()).decode()


def decode(cursor: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed([{"loc": ["query", "cursor"], "msg": "is not a valid cursor"}])
    return value


def page(items: list[Any], *, limit: int, key: Any) -> dict[str, Any]:
    """Trim a ``limit + 1`` fetch to ``limit`` items and point the cursor after the last."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode(key(items[-1])) if more and items else None}
