"""Redis or PostgreSQL down under a real quotas process: reserve fails closed without Redis,
and commits reach the ledger whichever of the two is away."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import asyncpg
import httpx

from tests.fakes.tcp_proxy import TcpProxy, postgres_proxy, through
from tests.functions.provider_service._support import call, create_provider, put_rule, service


async def test_redis_down_refuses_reserve_with_503_and_loses_no_commit(
    client_for, start_function, identity, redis_url, database_url
) -> None:
    providers = client_for("providers", SERVICE_NAME="provider-service")
    provider = (await create_provider(providers, identity))["name"]
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379).start()
    try:
        quotas = start_function(
            "quotas", REDIS_URL=f"redis://127.0.0.1:{proxy.port}{target.path or '/0'}"
        )
        project = uuid.uuid4()
        async with httpx.AsyncClient(base_url=quotas.url, timeout=20) as client:
            await put_rule(client, identity, "project", str(project), tokens_per_day=100_000)
            body = call(provider, user_id=uuid.uuid4(), project_id=project, tokens=500)
            held = await client.post("/quotas/reserve", json=body, headers=service(identity))
            assert held.status_code == 201, held.text
            rid = held.json()["reservation_id"]

            proxy.cut()
            refused = await client.post("/quotas/reserve", json=body, headers=service(identity))
            assert refused.status_code == 503, refused.text
            assert "redis" not in refused.text.lower(), refused.json()
            assert int(refused.headers["retry-after"]) >= 1, refused.headers
            committed = await client.post(
                "/quotas/commit",
                json={"reservation_id": rid, "input_tokens": 1234, "output_tokens": 567},
                headers=service(identity),
            )
            assert committed.status_code == 200, committed.text + quotas.output()
            assert committed.json()["cost_usd"] == "0.008755", committed.json()

            proxy.restore()
            again = await client.post("/quotas/reserve", json=body, headers=service(identity))
            assert again.status_code == 201, f"reserve should recover with Redis: {again.text}"
    finally:
        proxy.stop()
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "select input_tokens, output_tokens, cost_usd::text from provider_service.usage_ledger"
            " where project_id = $1",
            project,
        )
    finally:
        await conn.close()
    assert row is not None, "the commit made while Redis was down is missing from the ledger"
    assert tuple(row) == (1234, 567, "0.0087550000"), tuple(row)


async def test_database_down_a_held_commit_still_succeeds_and_reaches_the_ledger_later(
    client_for, start_function, identity, database_url
) -> None:
    """A commit within its hold needs only Redis: with PostgreSQL gone it is answered, its
    row waits in the ledger stream, and the first drain after PostgreSQL is back writes it."""
    providers = client_for("providers", SERVICE_NAME="provider-service")
    provider = (await create_provider(providers, identity))["name"]
    proxy = postgres_proxy(database_url)
    try:
        quotas = start_function(
            "quotas",
            DATABASE_URL=through(database_url, proxy),
            QUOTA_RULES_CACHE_SECONDS="300",  # the prices stay known while PostgreSQL is away
        )
        user = uuid.uuid4()
        async with httpx.AsyncClient(base_url=quotas.url, timeout=20) as client:
            body = call(provider, user_id=user, project_id=uuid.uuid4(), tokens=500)
            held = await client.post("/quotas/reserve", json=body, headers=service(identity))
            assert held.status_code == 201, held.text
            commit = {
                "reservation_id": held.json()["reservation_id"],
                "input_tokens": 1234,
                "output_tokens": 567,
            }

            proxy.cut()
            committed = await client.post("/quotas/commit", json=commit, headers=service(identity))
            assert committed.status_code == 200, committed.text + quotas.output()
            assert committed.json()["cost_usd"] == "0.008755", committed.json()
            usage = {"user_id": str(user)}
            down = await client.get("/usage", params=usage, headers=service(identity))
            assert down.status_code == 503, down.text

            proxy.restore()
            totals = (await client.get("/usage", params=usage, headers=service(identity))).json()
    finally:
        proxy.stop()
    assert totals["totals"]["requests"] == 1, totals
    assert totals["totals"]["input_tokens"] == 1234, totals
    assert totals["totals"]["cost_usd"] == "0.008755", totals
