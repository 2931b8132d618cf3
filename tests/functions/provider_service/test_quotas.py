"""The quotas function in-process: rules, atomic reserve/commit/release, expiry, exact costs."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio

from functions.provider_service import ledger
from tests.functions.provider_service._support import (
    admin,
    away_from_the_minute_edge,
    call,
    create_provider,
    member,
    put_rule,
    service,
)
from tests.helpers import new_project


@pytest.fixture
def providers(client_for):
    return client_for("providers", SERVICE_NAME="provider-service")


@pytest.fixture
def quotas(client_for, providers, projects_url):
    return client_for(
        "quotas",
        SERVICE_NAME="provider-service",
        PROJECTS_URL=projects_url,
        PROJECT_ACCESS_CACHE_SECONDS="0",
    )


@pytest.fixture
async def provider(providers, identity) -> str:
    """A fresh provider whose gpt-4o costs $2.50 in / $10 out per million tokens."""
    created = await create_provider(providers, identity)
    name: str = created["name"]
    return name


async def _reserve(quotas: Any, identity: Any, body: dict[str, Any]) -> Any:
    return await quotas.post("/quotas/reserve", json=body, headers=service(identity))


async def _commit(quotas: Any, identity: Any, rid: str, inp: int, out: int) -> Any:
    body = {"reservation_id": rid, "input_tokens": inp, "output_tokens": out}
    return await quotas.post("/quotas/commit", json=body, headers=service(identity))


async def test_two_hundred_concurrent_reserves_admit_exactly_the_limit(
    quotas, identity, provider
) -> None:
    limit, project = 37, uuid.uuid4()
    await put_rule(quotas, identity, "project", str(project), requests_per_minute=limit)
    away_from_the_minute_edge()
    answers = await asyncio.gather(
        *(
            _reserve(quotas, identity, call(provider, user_id=uuid.uuid4(), project_id=project))
            for _ in range(200)
        )
    )
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == limit, f"admitted {statuses.count(201)} of limit {limit}"
    assert statuses.count(429) == 200 - limit, sorted(set(statuses))
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["limit"] == f"project:{project}:requests_per_minute", refused.json()
    assert 1 <= int(refused.headers["retry-after"]) <= 60, refused.headers
    ids = {a.json()["reservation_id"] for a in answers if a.status_code == 201}
    assert len(ids) == limit, "every admitted reservation has its own id"


async def test_tokens_per_day_holds_the_estimate_until_commit_settles_the_actual(
    quotas, identity, provider
) -> None:
    user, project = uuid.uuid4(), uuid.uuid4()
    await put_rule(quotas, identity, "user", str(user), tokens_per_day=1000)
    first = await _reserve(
        quotas, identity, call(provider, user_id=user, project_id=project, tokens=600)
    )
    assert first.status_code == 201, first.text
    second = await _reserve(
        quotas, identity, call(provider, user_id=user, project_id=project, tokens=600)
    )
    assert second.status_code == 429, second.text
    assert second.json()["limit"] == f"user:{user}:tokens_per_day", second.json()
    committed = await _commit(quotas, identity, first.json()["reservation_id"], 60, 40)
    assert committed.status_code == 200, committed.text
    third = await _reserve(
        quotas, identity, call(provider, user_id=user, project_id=project, tokens=900)
    )
    assert third.status_code == 201, "after commit only the actual 100 tokens stay counted"


async def test_cost_per_month_refuses_a_hold_beyond_the_budget(quotas, identity, provider) -> None:
    project = uuid.uuid4()
    await put_rule(quotas, identity, "project", str(project), cost_usd_per_month="0.01")
    # 1000 tokens at the dearer $10/Mtok = $0.01: exactly the budget
    body = call(provider, user_id=uuid.uuid4(), project_id=project, tokens=1000)
    assert (await _reserve(quotas, identity, body)).status_code == 201
    over = await _reserve(quotas, identity, {**body, "estimated_tokens": 1})
    assert over.status_code == 429, over.text
    assert over.json()["limit"] == f"project:{project}:cost_usd_per_month", over.json()
    assert over.headers["content-type"] == "application/problem+json"


async def test_release_gives_the_capacity_back_once(quotas, identity, provider) -> None:
    project = uuid.uuid4()
    await put_rule(quotas, identity, "project", str(project), requests_per_minute=1)
    away_from_the_minute_edge()
    body = call(provider, user_id=uuid.uuid4(), project_id=project)
    held = await _reserve(quotas, identity, body)
    assert (await _reserve(quotas, identity, body)).status_code == 429
    rid = held.json()["reservation_id"]
    released = await quotas.post(
        "/quotas/release", json={"reservation_id": rid}, headers=service(identity)
    )
    assert released.json() == {"reservation_id": rid, "released": True}, released.text
    again = await quotas.post(
        "/quotas/release", json={"reservation_id": rid}, headers=service(identity)
    )
    assert again.json()["released"] is False, "a second release gives nothing back twice"
    assert (await _reserve(quotas, identity, body)).status_code == 201


async def test_an_expired_reservation_releases_itself(client_for, identity, providers) -> None:
    provider = (await create_provider(providers, identity))["name"]
    quotas = client_for("quotas", SERVICE_NAME="provider-service", RESERVATION_TTL_SECONDS="1")
    project = uuid.uuid4()
    await put_rule(quotas, identity, "project", str(project), tokens_per_day=500)
    body = call(provider, user_id=uuid.uuid4(), project_id=project, tokens=500)
    held = await _reserve(quotas, identity, body)
    assert held.status_code == 201, held.text
    assert (await _reserve(quotas, identity, body)).status_code == 429
    await asyncio.sleep(1.3)
    after = await _reserve(quotas, identity, body)
    assert after.status_code == 201, f"the expired hold was not given back: {after.text}"


async def _ledger_rows(database_url: str, user_id: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "select input_tokens, output_tokens, cost_usd from provider_service.usage_ledger"
            " where user_id = $1",
            uuid.UUID(user_id),
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


async def _drain(quotas: Any, identity: Any, user_id: str) -> None:
    """``GET /usage`` writes what the ledger stream holds before it sums."""
    answer = await quotas.get("/usage", params={"user_id": user_id}, headers=admin(identity))
    assert answer.status_code == 200, answer.text


async def _held(quotas: Any, identity: Any, provider: str) -> tuple[dict[str, Any], str]:
    """A reserve body of 2,000 tokens for a fresh user with a daily token rule, and the
    id of the reservation made with it."""
    body = call(provider, user_id=uuid.uuid4(), project_id=uuid.uuid4(), tokens=2000)
    await put_rule(quotas, identity, "user", body["user_id"], tokens_per_day=100_000)
    held = await _reserve(quotas, identity, body)
    assert held.status_code == 201, held.text
    return body, held.json()["reservation_id"]


async def _tokens_used(quotas: Any, identity: Any, user_id: str) -> int:
    answer = await quotas.get(f"/quotas/user/{user_id}", headers=admin(identity))
    assert answer.status_code == 200, answer.text
    (rule,) = answer.json()["rules"]
    (used,) = [c["used"] for c in rule["consumption"] if c["window"] == "day"]
    return int(used)


async def test_commit_is_exact_and_idempotent_with_one_ledger_row(
    quotas, identity, provider, database_url, redis_url, redis_prefix, monkeypatch
) -> None:
    monkeypatch.setattr(ledger, "DRAIN_INTERVAL_SECONDS", float("inf"))  # drains when asked
    body, rid = await _held(quotas, identity, provider)
    first = await _commit(quotas, identity, rid, 1234, 567)
    # a repeat while the row is on its way to PostgreSQL (the commit's marker answers) ...
    second = await _commit(quotas, identity, rid, 9999, 9999)
    marker = f"{redis_prefix}provider-service:rsv-done:{_reservation_uuid(rid)}".encode()
    assert await _markers(redis_url, redis_prefix) >= {marker}, "the commit marks its reservation"
    await _drain(quotas, identity, body["user_id"])
    # ... and once it is there (the marker is gone; the ledger answers)
    third = await _commit(quotas, identity, rid, 8888, 8888)
    answers = [a.json() for a in (first, second, third)]
    assert [a.status_code for a in (first, second, third)] == [200] * 3, answers
    # 1234 x $2.50/M + 567 x $10/M = 0.003085 + 0.00567
    assert [a["cost_usd"] for a in answers] == ["0.008755"] * 3, "repeats answer the first cost"
    assert [a["replayed"] for a in answers] == [False, True, True], answers
    assert [(a["input_tokens"], a["output_tokens"]) for a in answers] == [(1234, 567)] * 3
    assert await _ledger_rows(database_url, body["user_id"]) == [(1234, 567, Decimal("0.008755"))]
    assert await _tokens_used(quotas, identity, body["user_id"]) == 1234 + 567, "counted once"
    assert marker not in await _markers(redis_url, redis_prefix), "a written row takes its marker"


def _reservation_uuid(reservation_id: str) -> str:
    """The reservation's UUID, from the signed id's payload (base64url JSON, field ``i``)."""
    payload = reservation_id.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["i"])


async def _markers(redis_url: str, redis_prefix: str) -> set[bytes]:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        return {k async for k in client.scan_iter(match=f"{redis_prefix}*rsv-done*")}
    finally:
        await client.aclose()


async def test_concurrent_repeats_of_one_commit_count_and_record_it_once(
    quotas, identity, provider, database_url
) -> None:
    body, rid = await _held(quotas, identity, provider)
    answers = await asyncio.gather(*(_commit(quotas, identity, rid, 100 + i, i) for i in range(20)))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
    fresh = [a.json() for a in answers if not a.json()["replayed"]]
    assert len(fresh) == 1, "exactly one of the repeats commits"
    won = (fresh[0]["input_tokens"], fresh[0]["output_tokens"])
    assert {(a.json()["input_tokens"], a.json()["output_tokens"]) for a in answers} == {won}
    await _drain(quotas, identity, body["user_id"])
    rows = await _ledger_rows(database_url, body["user_id"])
    assert [r[:2] for r in rows] == [won], rows
    assert await _tokens_used(quotas, identity, body["user_id"]) == sum(won)


async def test_a_commit_after_release_goes_to_the_ledger_first_and_counts_once(
    quotas, identity, provider, database_url
) -> None:
    body, rid = await _held(quotas, identity, provider)
    released = await quotas.post(
        "/quotas/release", json={"reservation_id": rid}, headers=service(identity)
    )
    assert released.json()["released"] is True, released.text
    assert await _tokens_used(quotas, identity, body["user_id"]) == 0
    # no hold to trade (the call ran after all): the ledger row is written before answering
    late = await _commit(quotas, identity, rid, 300, 200)
    assert (late.status_code, late.json()["replayed"]) == (200, False), late.text
    assert await _ledger_rows(database_url, body["user_id"]) == [(300, 200, Decimal("0.002750"))]
    again = await _commit(quotas, identity, rid, 1, 1)
    assert again.json()["replayed"] is True, again.text
    assert (again.json()["input_tokens"], again.json()["output_tokens"]) == (300, 200)
    assert await _tokens_used(quotas, identity, body["user_id"]) == 500, "counted once"


async def test_the_ledger_refuses_updates_and_deletes(database_url) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for statement in (
            "update provider_service.usage_ledger set cost_usd = 0",
            "delete from provider_service.usage_ledger",
        ):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(statement)
    finally:
        await conn.close()


async def test_a_forged_or_tampered_reservation_id_is_unknown(quotas, identity, provider) -> None:
    body = call(provider, user_id=uuid.uuid4(), project_id=uuid.uuid4())
    rid = (await _reserve(quotas, identity, body)).json()["reservation_id"]
    version, payload, signature = rid.split(".")
    tampered = f"{version}.{payload[:-2]}AA.{signature}"
    for forged in (tampered, "r1.e30.AAAA", "garbage"):
        answer = await _commit(quotas, identity, forged, 1, 1)
        assert answer.status_code == 404, answer.text


async def test_members_reserve_only_for_themselves(
    quotas, identity, provider, projects_url
) -> None:
    me = uuid.uuid4()
    project = uuid.UUID(await new_project(projects_url, member(identity, me)))
    mine = await quotas.post(
        "/quotas/reserve",
        json=call(provider, user_id=me, project_id=project),
        headers=member(identity, me),
    )
    assert mine.status_code == 201, mine.text
    theirs = await quotas.post(
        "/quotas/reserve",
        json=call(provider, user_id=uuid.uuid4(), project_id=uuid.uuid4()),
        headers=member(identity, me),
    )
    assert theirs.status_code == 403, theirs.text
    other = member(identity, uuid.uuid4())
    stolen = await quotas.post(
        "/quotas/commit",
        json={
            "reservation_id": mine.json()["reservation_id"],
            "input_tokens": 1,
            "output_tokens": 1,
        },
        headers=other,
    )
    assert stolen.status_code == 403, "another member may not commit my reservation"


async def test_a_model_that_is_not_configured_cannot_be_reserved(
    quotas, identity, provider
) -> None:
    body = {**call(provider, user_id=uuid.uuid4(), project_id=uuid.uuid4()), "model": "gpt-99"}
    answer = await _reserve(quotas, identity, body)
    assert answer.status_code == 404, answer.text
    assert "gpt-99" in answer.json()["detail"], answer.json()


async def test_a_rule_narrowed_to_a_model_leaves_other_models_alone(
    providers, quotas, identity
) -> None:
    models = [
        {"name": n, "input_usd_per_mtok": "1", "output_usd_per_mtok": "1", "context_window": 1000}
        for n in ("gpt-4o", "gpt-4o-mini")
    ]
    provider = (await create_provider(providers, identity, models=models))["name"]
    project = uuid.uuid4()
    await put_rule(
        quotas,
        identity,
        "project",
        str(project),
        tokens_per_day=10,
        provider=provider,
        model="gpt-4o",
    )
    body = call(provider, user_id=uuid.uuid4(), project_id=project, tokens=50)
    refused = await _reserve(quotas, identity, body)
    assert refused.status_code == 429, refused.text
    assert refused.json()["limit"] == f"project:{project}:tokens_per_day@{provider}/gpt-4o"
    other = await _reserve(quotas, identity, {**body, "model": "gpt-4o-mini"})
    assert other.status_code == 201, other.text


async def test_the_global_rule_applies_to_everyone(providers, quotas, identity) -> None:
    provider = (await create_provider(providers, identity))["name"]
    # narrowed to this test's provider, so the run's other tests are not limited
    rule = await put_rule(quotas, identity, "global", "*", requests_per_minute=1, provider=provider)
    assert (rule["scope"], rule["scope_id"], rule["provider"]) == ("global", "*", provider)
    away_from_the_minute_edge()
    first = await _reserve(
        quotas, identity, call(provider, user_id=uuid.uuid4(), project_id=uuid.uuid4())
    )
    second = await _reserve(
        quotas, identity, call(provider, user_id=uuid.uuid4(), project_id=uuid.uuid4())
    )
    assert (first.status_code, second.status_code) == (201, 429), second.text
    assert second.json()["limit"] == f"global:*:requests_per_minute@{provider}/*"


async def test_reading_a_scope_shows_rules_and_consumption(quotas, identity, provider) -> None:
    user = uuid.uuid4()
    await put_rule(
        quotas, identity, "user", str(user), tokens_per_day=5000, cost_usd_per_month="2.5"
    )
    rid = (
        await _reserve(
            quotas, identity, call(provider, user_id=user, project_id=uuid.uuid4(), tokens=300)
        )
    ).json()["reservation_id"]
    await _commit(quotas, identity, rid, 100, 100)
    answer = await quotas.get(f"/quotas/user/{user}", headers=member(identity, user))
    assert answer.status_code == 200, answer.text
    [rule] = answer.json()["rules"]
    used = {c["limit"]: (c["maximum"], c["used"]) for c in rule["consumption"]}
    assert used == {
        f"user:{user}:tokens_per_day": (5000, 200),
        f"user:{user}:cost_usd_per_month": ("2.5", "0.00125"),
    }, used
    someone_else = await quotas.get(f"/quotas/user/{user}", headers=member(identity, uuid.uuid4()))
    assert someone_else.status_code == 403, someone_else.text


async def test_rule_writes_are_admin_only_and_validated(quotas, identity) -> None:
    project = str(uuid.uuid4())
    refused = await quotas.put(
        f"/quotas/project/{project}",
        json={"tokens_per_day": 1},
        headers=member(identity, uuid.uuid4()),
    )
    assert refused.status_code == 403, refused.text
    for path, body in (
        ("/quotas/team/x", {"tokens_per_day": 1}),
        ("/quotas/project/not-a-uuid", {"tokens_per_day": 1}),
        ("/quotas/global/someone", {"tokens_per_day": 1}),
        (f"/quotas/project/{project}", {"tokens_per_day": -1}),
        (f"/quotas/project/{project}", {"cost_usd_per_month": "abc"}),
    ):
        answer = await quotas.put(path, json=body, headers=admin(identity))
        assert answer.status_code == 422, f"{path} {body}: {answer.text}"


async def test_a_rule_can_be_replaced_and_deleted(quotas, identity, provider) -> None:
    project = uuid.uuid4()
    first = await put_rule(quotas, identity, "project", str(project), requests_per_minute=0)
    body = call(provider, user_id=uuid.uuid4(), project_id=project)
    assert (await _reserve(quotas, identity, body)).status_code == 429
    second = await put_rule(quotas, identity, "project", str(project), requests_per_minute=100)
    assert second["id"] == first["id"], "PUT replaces the rule in place"
    assert (await _reserve(quotas, identity, body)).status_code == 201
    deleted = await quotas.delete(f"/quotas/project/{project}", headers=admin(identity))
    assert deleted.status_code == 204, deleted.text
    listed = await quotas.get(f"/quotas/project/{project}", headers=admin(identity))
    assert listed.json()["rules"] == [], listed.text


async def test_a_member_cannot_reserve_or_commit_against_another_project(
    quotas, identity, provider, projects_url
) -> None:
    """Issue 9 item 2: A reserved against B's project and committed into B's ledger."""
    alice, bob = uuid.uuid4(), uuid.uuid4()
    bobs = uuid.UUID(await new_project(projects_url, member(identity, bob)))
    await put_rule(quotas, identity, "project", str(bobs), requests_per_minute=1)
    away_from_the_minute_edge()
    for project in (bobs, uuid.uuid4()):
        answer = await quotas.post(
            "/quotas/reserve",
            json=call(provider, user_id=alice, project_id=project, tokens=1_000_000),
            headers=member(identity, alice),
        )
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    own = await quotas.post(
        "/quotas/reserve",
        json=call(provider, user_id=bob, project_id=bobs),
        headers=member(identity, bob),
    )
    assert own.status_code == 201, "Alice's attempts must not have used Bob's one request"


async def test_no_published_key_signs_reservations_in_development(
    client_for, identity, provider
) -> None:
    """Issue 9 item 3: the development key is generated, never a constant in source."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from functions.provider_service import reservations, rules, settings

    os.environ.pop("QUOTA_SIGNING_KEY", None)
    quotas = client_for("quotas", SERVICE_NAME="provider-service")
    key = settings.settings().signing_key()
    assert len(key) == 32 and key not in Path(settings.__file__).read_bytes()
    ticket = reservations.Ticket(
        uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4(),
        provider,
        "gpt-4o",
        rules.Price(Decimal("2.5"), Decimal("10")),
        datetime.now(UTC) + timedelta(minutes=1),
    )
    published = reservations.encode(ticket, key=b"development-only-quota-signing-key")
    answer = await _commit(quotas, identity, published, 1, 1_000_000)
    assert answer.status_code == 404, answer.text


async def test_every_field_of_a_signed_commit_is_validated(
    client_for, identity, provider, database_url
) -> None:
    """Issue 9 item 3: a leaked key still cannot write a made-up model or a negative price."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from functions.provider_service import reservations, rules

    quotas = client_for("quotas", SERVICE_NAME="provider-service", QUOTA_SIGNING_KEY="leaked")
    user = uuid.uuid4()

    def ticket(model: str, price: str) -> str:
        made = reservations.Ticket(
            uuid.uuid4(),
            user,
            uuid.uuid4(),
            provider,
            model,
            rules.Price(Decimal(price), Decimal(price)),
            datetime.now(UTC) + timedelta(minutes=1),
        )
        return reservations.encode(made, key=b"leaked")

    for rid in (ticket("made-up-model", "1"), ticket("gpt-4o", "-5"), ticket("gpt-4o", "NaN")):
        answer = await _commit(quotas, identity, rid, 10, 10)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "select 1 from provider_service.usage_ledger where user_id = $1", user
        )
    finally:
        await conn.close()
    assert rows == [], "nothing reached the ledger"


async def test_a_reservation_no_rule_limits_commits_through_redis_and_releases_nothing(
    quotas, identity, provider, database_url, monkeypatch
) -> None:
    """No rule matches: the reservation holds nothing, yet stays live until its commit (so
    the commit takes the one-script path) and a release gives nothing back."""
    monkeypatch.setattr(ledger, "DRAIN_INTERVAL_SECONDS", float("inf"))  # drains when asked
    user = str(uuid.uuid4())
    body = call(provider, user_id=uuid.UUID(user), project_id=uuid.uuid4(), tokens=100)
    first = (await _reserve(quotas, identity, body)).json()["reservation_id"]
    released = await quotas.post(
        "/quotas/release", json={"reservation_id": first}, headers=service(identity)
    )
    assert released.json()["released"] is False, released.text
    second = (await _reserve(quotas, identity, body)).json()["reservation_id"]
    committed = await _commit(quotas, identity, second, 10, 5)
    assert (committed.status_code, committed.json()["replayed"]) == (200, False), committed.text
    assert await _ledger_rows(database_url, user) == [], "the row waits in the stream"
    await _drain(quotas, identity, user)
    assert await _ledger_rows(database_url, user) == [(10, 5, Decimal("0.000075"))]
