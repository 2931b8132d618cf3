"""Tests of shared/idempotency.py on the real Redis, through the sample function."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest_asyncio

from tests.shared.sample_functions import Sample, open_sample


@pytest_asyncio.fixture
async def routes(platform_env: dict[str, str]) -> AsyncIterator[Sample]:
    async with open_sample("routes", platform_env) as sample:
        yield sample


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"key-{uuid.uuid4().hex}"}


async def test_repeat_with_same_key_and_body_replays_without_running_again(
    routes: Sample,
) -> None:
    headers = key()
    first = await routes.client.post("/items", json={"name": "a", "quantity": 1}, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = await routes.client.post("/items", json={"name": "a", "quantity": 1}, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    assert again.json() == first.json(), "the stored answer, same generated id"
    assert routes.module.calls["create"] == 1


async def test_requests_without_a_key_always_run(routes: Sample) -> None:
    one = await routes.client.post("/items", json={"name": "a", "quantity": 1})
    two = await routes.client.post("/items", json={"name": "a", "quantity": 1})
    assert one.json()["id"] != two.json()["id"]
    assert routes.module.calls["create"] == 2


async def test_same_key_with_another_body_is_a_422(routes: Sample) -> None:
    headers = key()
    await routes.client.post("/items", json={"name": "a", "quantity": 1}, headers=headers)
    other = await routes.client.post("/items", json={"name": "b", "quantity": 1}, headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"] == [
        {"loc": ["header", "Idempotency-Key"], "msg": "was already used with a different body"}
    ]
    assert routes.module.calls["create"] == 1


async def test_repeat_while_the_first_is_running_is_a_409(routes: Sample) -> None:
    routes.module.entered, routes.module.release = asyncio.Event(), asyncio.Event()
    headers = key()
    first = asyncio.create_task(routes.client.post("/gated", headers=headers))
    await asyncio.wait_for(routes.module.entered.wait(), timeout=5)
    repeat = await routes.client.post("/gated", headers=headers)
    routes.module.release.set()
    assert repeat.status_code == 409
    assert repeat.json()["detail"] == (
        "A request with this Idempotency-Key is still being processed."
    )
    done = await first
    assert done.status_code == 201 and done.json() == {"done": "yes"}


async def test_server_errors_are_not_stored(routes: Sample) -> None:
    routes.module.flaky_failures = 1
    headers = key()
    failed = await routes.client.post("/flaky", headers=headers)
    assert failed.status_code == 503
    retried = await routes.client.post("/flaky", headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert retried.json() == {"attempt": 2}
    replay = await routes.client.post("/flaky", headers=headers)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == {"attempt": 2}


async def test_a_failed_handler_releases_the_key(routes: Sample) -> None:
    headers = key()
    invalid = await routes.client.post("/items", json={"name": ""}, headers=headers)
    assert invalid.status_code == 422
    valid = await routes.client.post("/items", json={"name": "a", "quantity": 1}, headers=headers)
    assert valid.status_code == 201, "the key was released, so another body may use it"
    assert "idempotent-replayed" not in valid.headers


async def test_each_caller_has_its_own_key_scope(routes: Sample) -> None:
    headers = key()
    body = {"name": "a", "quantity": 1}
    alice = await routes.client.post(
        "/items", json=body, headers={**headers, "Authorization": "Bearer alice"}
    )
    bob = await routes.client.post(
        "/items", json=body, headers={**headers, "Authorization": "Bearer bob"}
    )
    assert "idempotent-replayed" not in bob.headers
    assert alice.json()["id"] != bob.json()["id"]
    assert routes.module.calls["create"] == 2


async def test_a_key_longer_than_255_characters_is_a_422(routes: Sample) -> None:
    answer = await routes.client.post(
        "/items", json={"name": "a", "quantity": 1}, headers={"Idempotency-Key": "k" * 256}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert routes.module.calls["create"] == 0
    fits = await routes.client.post(
        "/items",
        json={"name": "a", "quantity": 1},
        headers={"Idempotency-Key": f"{uuid.uuid4().hex}{'k' * 223}"},
    )
    assert fits.status_code == 201


async def test_redis_down_makes_idempotent_routes_unavailable(platform_env: dict[str, str]) -> None:
    from localdev import local

    down = f"redis://127.0.0.1:{local.free_port()}/0"
    async with open_sample("routes", platform_env, REDIS_URL=down) as sample:
        answer = await sample.client.post(
            "/items", json={"name": "a", "quantity": 1}, headers=key()
        )
    assert answer.status_code == 503
    assert answer.json()["detail"] == "A dependency is unavailable; retry later."
    assert "redis" not in answer.text.lower()
    assert answer.headers["retry-after"] == "5"
