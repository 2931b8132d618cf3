"""GET /usage: exact sums from the ledger, by model and by UTC day; members see their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest

from tests.functions.provider_service._support import (
    admin,
    call,
    create_provider,
    member,
    service,
)


@pytest.fixture
def providers(client_for):
    return client_for("providers", SERVICE_NAME="provider-service")


@pytest.fixture
def quotas(client_for, providers):
    return client_for("quotas", SERVICE_NAME="provider-service")


async def _spend(quotas, identity, provider, *, user, project, model, inp, out) -> None:
    body = {**call(provider, user_id=user, project_id=project), "model": model}
    reserved = await quotas.post("/quotas/reserve", json=body, headers=service(identity))
    assert reserved.status_code == 201, reserved.text
    committed = await quotas.post(
        "/quotas/commit",
        json={
            "reservation_id": reserved.json()["reservation_id"],
            "input_tokens": inp,
            "output_tokens": out,
        },
        headers=service(identity),
    )
    assert committed.status_code == 200, committed.text


async def test_usage_by_model_sums_tokens_and_exact_costs(providers, quotas, identity) -> None:
    models = [
        {
            "name": "gpt-4o",
            "input_usd_per_mtok": "2.50",
            "output_usd_per_mtok": "10",
            "context_window": 128000,
        },
        {
            "name": "gpt-4o-mini",
            "input_usd_per_mtok": "0.15",
            "output_usd_per_mtok": "0.60",
            "context_window": 128000,
        },
    ]
    provider = (await create_provider(providers, identity, models=models))["name"]
    user, project = uuid.uuid4(), uuid.uuid4()
    for model, inp, out in (("gpt-4o", 1234, 567), ("gpt-4o", 1, 1), ("gpt-4o-mini", 1000, 333)):
        await _spend(
            quotas, identity, provider, user=user, project=project, model=model, inp=inp, out=out
        )
    answer = await quotas.get(
        "/usage", params={"user_id": str(user), "group_by": "model"}, headers=admin(identity)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    by_model = {
        i["model"]: (i["requests"], i["input_tokens"], i["output_tokens"], i["cost_usd"])
        for i in body["items"]
    }
    assert by_model == {
        "gpt-4o": (2, 1235, 568, "0.0087675"),
        "gpt-4o-mini": (1, 1000, 333, "0.0003498"),
    }, by_model
    assert body["totals"]["cost_usd"] == "0.0091173", body["totals"]
    assert body["totals"]["requests"] == 3, body["totals"]


async def test_usage_by_day_groups_on_utc_days_within_the_range(
    quotas, identity, database_url
) -> None:
    user, project = uuid.uuid4(), uuid.uuid4()
    rows = [
        (datetime(2024, 3, 1, 23, 59, tzinfo=UTC), 10, Decimal("0.1000000001")),
        (datetime(2024, 3, 1, 0, 0, tzinfo=UTC), 20, Decimal("0.2")),
        (datetime(2024, 3, 2, 0, 0, tzinfo=UTC), 30, Decimal("0.3")),
        (datetime(2024, 3, 5, 0, 0, tzinfo=UTC), 40, Decimal("0.4")),
    ]
    conn = await asyncpg.connect(database_url)
    try:
        for at, tokens, cost in rows:
            await conn.execute(
                "insert into provider_service.usage_ledger (reservation_id, user_id, project_id,"
                " provider, model, input_tokens, output_tokens, cost_usd, committed_at)"
                " values ($1, $2, $3, 'p', 'm', $4, 0, $5, $6)",
                uuid.uuid4(),
                user,
                project,
                tokens,
                cost,
                at,
            )
    finally:
        await conn.close()
    answer = await quotas.get(
        "/usage",
        params={
            "project_id": str(project),
            "group_by": "day",
            "from": "2024-03-01",
            "to": "2024-03-05T00:00:00Z",
        },
        headers=admin(identity),
    )
    assert answer.status_code == 200, answer.text
    days = [(i["day"], i["input_tokens"], i["cost_usd"]) for i in answer.json()["items"]]
    assert days == [("2024-03-01", 30, "0.3000000001"), ("2024-03-02", 30, "0.3")], days
    assert answer.json()["totals"]["cost_usd"] == "0.6000000001"
    assert answer.json()["from"].startswith("2024-03-01T00:00:00"), answer.json()


async def test_members_read_only_their_own_usage(quotas, identity) -> None:
    me = uuid.uuid4()
    own = await quotas.get("/usage", headers=member(identity, me))
    assert own.status_code == 200, own.text
    assert own.json()["user_id"] == str(me), "a member's usage defaults to their own"
    assert own.json()["totals"] == {
        "provider": None,
        "model": None,
        "day": None,
        "requests": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": "0",
    }
    other = await quotas.get(
        "/usage", params={"user_id": str(uuid.uuid4())}, headers=member(identity, me)
    )
    assert other.status_code == 403, other.text


@pytest.mark.parametrize(
    "params",
    [{"group_by": "week"}, {"from": "yesterday"}, {"user_id": "nope"}],
)
async def test_bad_usage_queries_are_422(quotas, identity, params) -> None:
    answer = await quotas.get("/usage", params=params, headers=admin(identity))
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-13-01"]
)
async def test_extreme_dates_are_422_not_500(quotas, identity, moment) -> None:
    """Issue 9 item 11."""
    answer = await quotas.get("/usage", params={"from": moment}, headers=service(identity))
    assert answer.status_code == 422, answer.text
