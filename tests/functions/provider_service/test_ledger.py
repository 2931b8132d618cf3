"""The ledger stream: usage committed directly in Redis reaches usage_ledger once, even when
the reader that took it died before acknowledging it."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
import redis.asyncio

from functions.provider_service import ledger
from shared import lifecycle, quota
from tests.functions.provider_service._support import admin


@pytest.fixture
def quotas(client_for):
    return client_for("quotas", SERVICE_NAME="provider-service")


def _usage(user: str, *, tokens: int = 100) -> quota.Usage:
    return quota.Usage(
        reservation_id=str(uuid.uuid4()),
        user_id=user,
        project_id=str(uuid.UUID(int=0)),
        provider="openai-ledger",
        model="gpt-4o",
        input_tokens=tokens,
        output_tokens=tokens // 2,
        cost_usd=Decimal("0.0012345678"),
    )


async def _append(client: redis.asyncio.Redis, stream: str, usage: quota.Usage) -> None:
    fields = {name: str(getattr(usage, name)) for name in quota.LEDGER_FIELDS}
    await client.xadd(stream, fields)  # type: ignore[arg-type]


async def _usage_of(quotas, identity, user: str) -> dict:
    answer = await quotas.get("/usage", params={"user_id": user}, headers=admin(identity))
    assert answer.status_code == 200, answer.text
    return answer.json()["totals"]


async def test_a_row_a_dead_reader_took_is_written_once_by_the_next(
    quotas, identity, redis_url, redis_prefix, monkeypatch
) -> None:
    stream = f"{redis_prefix}provider-service:ledger"
    client = redis.asyncio.Redis.from_url(redis_url)
    user = str(uuid.uuid4())
    taken, waiting = _usage(user, tokens=100), _usage(user, tokens=10)
    try:
        await _usage_of(quotas, identity, str(uuid.uuid4()))  # creates the group, drains
        await _append(client, stream, taken)
        # a reader on another instance reads the row and dies before writing it
        read = await client.xreadgroup(ledger.GROUP, "crashed-reader", {stream: ">"}, count=10)
        assert len(read[0][1]) == 1
        await _append(client, stream, waiting)
        monkeypatch.setattr(ledger, "CLAIM_IDLE_MS", 0)  # the dead reader's entries are due

        totals = await _usage_of(quotas, identity, user)

        assert totals["requests"] == 2, totals
        assert totals["input_tokens"] == 110
        assert Decimal(totals["cost_usd"]) == Decimal("0.0024691356")
        assert await client.xlen(stream) == 0
        pending = await client.xpending(stream, ledger.GROUP)
        assert pending["pending"] == 0, pending
        # the same row delivered again (a reader that wrote it but died before XACK)
        await _append(client, stream, taken)
        assert (await _usage_of(quotas, identity, user))["requests"] == 2
    finally:
        await client.aclose()


async def test_the_published_rules_carry_the_prices_and_a_version_that_a_rule_write_changes(
    quotas, identity, redis_url, redis_prefix
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    user = str(uuid.uuid4())
    version_key = f"{redis_prefix}provider-service:quota-rules-version"
    try:
        await _usage_of(quotas, identity, user)
        first = await quotas.put(
            f"/quotas/user/{user}", json={"tokens_per_day": 1000}, headers=admin(identity)
        )
        assert first.status_code == 200, first.text
        before = await client.get(version_key)

        changed = await quotas.put(
            f"/quotas/user/{user}", json={"tokens_per_day": 5}, headers=admin(identity)
        )

        assert changed.status_code == 200, changed.text
        after = await client.get(version_key)
        assert before and after and before != after
        state = quota.decode_snapshot(
            await client.get(f"{redis_prefix}provider-service:quota-rules")
        )
        assert state.version == after.decode()
        (rule,) = state.rules[("user", user)]
        assert rule.tokens_per_day == 5
    finally:
        await client.aclose()


async def test_a_background_drain_is_in_flight_until_it_ends(monkeypatch) -> None:
    """SIGTERM waits for in-flight work before the pools close: a drain started by a
    request counts, so it never writes through a pool being closed under it."""
    release = asyncio.Event()

    async def slow_drain(*, rounds: int = 20) -> int:
        await release.wait()
        return 0

    monkeypatch.setattr(ledger, "drain", slow_drain)
    monkeypatch.setattr(ledger, "_last", [float("-inf")])
    before = lifecycle.state.inflight

    ledger.drain_soon()
    await asyncio.sleep(0)  # the task starts

    assert lifecycle.state.inflight == before + 1
    release.set()
    await asyncio.gather(*ledger._tasks)
    assert lifecycle.state.inflight == before
