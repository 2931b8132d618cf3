"""A database outage under a real auth-users process: 503s that name the database, then recovery."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.tcp_proxy import TcpProxy, postgres_proxy, through


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    link = postgres_proxy(database_url)
    yield link
    link.stop()


def _new_user() -> dict[str, str]:
    return {
        "email": f"outage-{uuid.uuid4().hex[:10]}@example.com",
        "password": "correct horse battery",
    }


def _database(ready: httpx.Response) -> dict[str, Any]:
    components: dict[str, dict[str, Any]] = {c["name"]: c for c in ready.json()["components"]}
    assert "database" in components, ready.text
    return components["database"]


async def _poll_ready(
    client: httpx.AsyncClient, status: int, attempts: int = 100
) -> httpx.Response:
    for _ in range(attempts):
        answer = await client.get("/ready")
        if answer.status_code == status:
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"/ready never answered {status}; last: {answer.status_code} {answer.text}"
    )


async def test_a_lost_database_is_a_503_naming_it_and_the_function_recovers_by_itself(
    start_function: Callable[..., Any], database_url: str, proxy: TcpProxy
) -> None:
    fn = start_function("auth_users", DATABASE_URL=through(database_url, proxy))
    async with httpx.AsyncClient(base_url=fn.url, timeout=15) as client:
        ready = await client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert _database(ready)["status"] == "healthy", ready.text

        proxy.cut()
        down = await client.get("/ready")
        assert down.status_code == 503, down.text
        database = _database(down)
        assert database["status"] == "unhealthy", database
        assert isinstance(database["latency_ms"], int | float), database

        refused = await client.post("/users", json=_new_user())
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1, refused.headers
        problem = refused.json()
        assert problem["detail"] == "A dependency is unavailable; retry later.", problem
        for internal in ("Traceback", "asyncpg", "database", "postgres", "127.0.0.1"):
            assert internal not in refused.text.lower(), refused.text

        alive = await client.get("/health")
        assert alive.status_code == 200, f"liveness must not depend on the database: {alive.text}"

        proxy.restore()
        await _poll_ready(client, 200)
        user = _new_user()
        created = await client.post("/users", json=user)
        assert created.status_code == 202, created.text
        assert created.json()["email"] == user["email"], created.json()
