"""Tests of shared/pagination.py: limit and cursor parsing, and page building."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from shared import pagination
from shared.errors import ValidationFailed


def request(query: str = "") -> Request:
    return Request({"type": "http", "method": "GET", "query_string": query.encode(), "headers": []})


def test_limit_defaults_to_50_and_cursor_to_none() -> None:
    assert pagination.params(request()) == (50, None)


@pytest.mark.parametrize(("query", "limit"), [("limit=1", 1), ("limit=200", 200)])
def test_limit_bounds_are_accepted(query: str, limit: int) -> None:
    assert pagination.params(request(query))[0] == limit


@pytest.mark.parametrize("value", ["0", "201", "abc", "-1", "1.5", ""])
def test_limit_out_of_range_or_not_a_number_is_a_422(value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        pagination.params(request(f"limit={value}"))
    assert caught.value.status == 422
    assert caught.value.extra["errors"] == [
        {"loc": ["query", "limit"], "msg": "must be an integer from 1 to 200"}
    ]


def test_cursor_round_trips_through_the_query() -> None:
    position = {"created_at": "2024-05-01T10:00:00+00:00", "id": "b1"}
    cursor = pagination.encode(position)
    assert pagination.params(request(f"limit=10&cursor={cursor}")) == (10, position)


@pytest.mark.parametrize("cursor", ["garbage!!", "bm90IGpzb24", pagination.encode([1])[:-1] + "x"])
def test_garbage_cursor_is_a_422(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        pagination.params(request(f"cursor={cursor}"))
    assert caught.value.extra["errors"][0]["loc"] == ["query", "cursor"]


def test_a_cursor_that_is_json_but_not_an_object_is_a_422() -> None:
    with pytest.raises(ValidationFailed):
        pagination.decode(pagination.encode(["not", "a", "dict"]))  # type: ignore[arg-type]


def test_page_sets_next_cursor_only_when_there_are_more() -> None:
    rows = [{"id": n} for n in range(4)]
    more = pagination.page(rows, limit=3, key=lambda r: {"after": r["id"]})
    assert more["items"] == rows[:3]
    assert pagination.decode(more["next_cursor"]) == {"after": 2}
    last = pagination.page(rows[:3], limit=3, key=lambda r: {"after": r["id"]})
    assert last == {"items": rows[:3], "next_cursor": None}
    assert pagination.page([], limit=3, key=lambda r: r) == {"items": [], "next_cursor": None}


def test_a_created_at_cursor_round_trips_and_a_forged_one_is_a_422() -> None:
    import uuid
    from dataclasses import dataclass
    from datetime import UTC, datetime

    from shared.errors import ValidationFailed

    @dataclass
    class Item:
        created_at: datetime
        id: uuid.UUID

    item = Item(datetime(2026, 11, 26, 7, 0, tzinfo=UTC), uuid.uuid4())
    cursor = pagination.decode(pagination.encode(pagination.created_key(item)))
    assert pagination.created_after(cursor) == (item.created_at, item.id)
    assert pagination.created_after(None) is None
    for forged in ({"t": "yesterday", "id": str(item.id)}, {"t": "2026-11-26"}, {"id": "x"}):
        with pytest.raises(ValidationFailed):
            pagination.created_after(forged)
