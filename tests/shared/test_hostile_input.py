"""Issue 9 item 11: inputs that answered 500 (deep JSON, tampered cursors, odd limits)."""

from __future__ import annotations

import base64
import json

import pytest
from pydantic import BaseModel
from starlette.requests import Request

from shared import pagination
from shared.errors import BadRequest, ValidationFailed
from shared.function import parse_json


class _Body(BaseModel):
    name: str = ""


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000 + b"]" * 5000,
        b'["\\u0041",' + b"[" * 5000 + b"]" * 5000 + b"]",  # the \\u path parses twice
        b'{"name": "\\u0041", "x":' + b'{"y":' * 5000 + b"1" + b"}" * 5001,
    ],
)
def test_json_nested_thousands_deep_is_a_400(raw: bytes) -> None:
    with pytest.raises(BadRequest, match="JSON"):
        parse_json(raw, _Body)


def _request(query: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "query_string": query.encode(),
            "headers": [],
        }
    )


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "query",
    [
        "limit=%C2%B2",  # a superscript two: str.isdigit() says yes, int() says no
        "limit=%EF%BC%95",  # a full-width five
        "cursor=" + base64.urlsafe_b64encode(b"[" * 5000).decode(),
    ],
)
def test_odd_limits_and_cursors_are_422(query: str) -> None:
    with pytest.raises(ValidationFailed):
        pagination.params(_request(query))


@pytest.mark.parametrize(
    "cursor",
    [
        {"t": "0001-01-01T00:00:00+14:00", "id": "00000000-0000-4000-8000-000000000000"},
        {"t": "9999-12-31T23:59:59-23:59", "id": "00000000-0000-4000-8000-000000000000"},
        {"t": "2026-01-01T00:00:00", "id": "00000000-0000-4000-8000-000000000000"},
        {"t": ["x"], "id": "x"},
        {"id": "00000000-0000-4000-8000-000000000000"},
    ],
)
def test_tampered_created_cursors_are_422(cursor: dict[str, object]) -> None:
    limit, decoded = pagination.params(_request("cursor=" + _cursor(cursor)))
    with pytest.raises(ValidationFailed):
        pagination.created_after(decoded)
