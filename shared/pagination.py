"""pagination parses ``limit``/``cursor`` and builds ``{items, next_cursor}`` pages."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

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
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= MAX_LIMIT:
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
    except (ValueError, UnicodeDecodeError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed([{"loc": ["query", "cursor"], "msg": "is not a valid cursor"}])
    return value


def page(items: list[Any], *, limit: int, key: Any) -> dict[str, Any]:
    """Trim a ``limit + 1`` fetch to ``limit`` items and point the cursor after the last."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode(key(items[-1])) if more and items else None}


class Created(Protocol):
    """A listed item ordered by ``(created_at, id)``."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


def created_key(item: Created) -> dict[str, str]:
    """The cursor after ``item`` in a ``(created_at, id)`` order (see ``created_after``)."""
    return {"t": item.created_at.isoformat(), "id": str(item.id)}


def created_after(cursor: dict[str, Any] | None) -> tuple[datetime, uuid.UUID] | None:
    """The ``(created_at, id)`` a ``created_key`` cursor points after, for keyset queries.

    Raises:
        ValidationFailed: the cursor is not one ``created_key`` made.
    """
    if cursor is None:
        return None
    try:
        moment = datetime.fromisoformat(str(cursor["t"]))
        if moment.tzinfo is None:
            raise ValueError("a cursor's time has an offset")
        # A tampered offset can push the time past datetime's range: refused here, not
        # as a 500 when the driver converts it.
        return moment.astimezone(UTC), uuid.UUID(str(cursor["id"]))
    except (KeyError, ValueError, OverflowError):
        raise ValidationFailed(
            [{"loc": ["query", "cursor"], "msg": "is not a valid cursor"}]
        ) from None
