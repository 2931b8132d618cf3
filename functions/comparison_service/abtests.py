"""abtests implements the ab-tests function: tests, sticky assignment, outcomes, results."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from functions.comparison_service import assignment, outcomes, remote, reports, repository
from functions.comparison_service.context import database, redis
from functions.comparison_service.schemas import (
    Assignment,
    OutcomeIn,
    Promote,
    Test,
    TestCreate,
    TestPatch,
)
from functions.comparison_service.settings import settings
from shared import clients, events, pagination
from shared.auth import Principal, principal
from shared.cache import down_errors
from shared.errors import Conflict, Forbidden, Unavailable, ValidationFailed
from shared.function import Router, path_uuid, query_uuid

router = Router()
DEFINITION_TTL = 60
"""Seconds a test's definition stays cached for /assign (every change deletes it)."""


def _admin(request: Request) -> Principal:
    who = principal(request)
    if not who.is_admin:
        raise Forbidden("Managing A/B tests needs the admin role.")
    return who


def _writer(request: Request) -> Principal:
    """Admins and internal services (the analysis side) may record outcomes."""
    who = principal(request)
    if not who.is_privileged:
        raise Forbidden("Recording outcomes needs the admin role or the internal scope.")
    return who


def _unit(request: Request, who: Principal) -> str:
    """The unit to assign: any for admins and internal services (analysis-service assigns
    the analysed project), only their own user id for anyone else. Otherwise a member
    could pick units until one arm is full and steer the test (issue 9)."""
    unit = request.query_params.get("unit", "")
    if not who.is_privileged:
        own = str(who.user())
        if unit not in ("", own):
            raise Forbidden("A member may ask only for their own assignment (unit = user id).")
        return own
    if not 1 <= len(unit) <= 200:
        raise ValidationFailed([{"loc": ["query", "unit"], "msg": "must be 1 to 200 characters"}])
    return unit


@router.post("/ab-tests", status=201, body=TestCreate, response=Test, idempotent=True)
async def create_test(request: Request, body: TestCreate) -> Test:
    """Create a draft A/B test (admin); every variant must be a version of the experiment."""
    admin = _admin(request)
    await _check_versions(body, headers=clients.forwarded(request))
    fields = body.model_dump(exclude={"variants"})
    variants = [v.model_dump() for v in body.variants]
    async with database.transaction() as conn:
        test_id = await repository.create_test(
            conn, fields={**fields, "created_by": admin.actor}, variants=variants
        )
        return Test.model_validate(await repository.test(conn, test_id), from_attributes=True)


async def _check_versions(body: TestCreate, *, headers: dict[str, str]) -> None:
    errors = []
    for index, variant in enumerate(body.variants):
        found = await remote.version(variant.version_id, headers=headers)
        loc = ["body", "variants", index, "version_id"]
        if found is None:
            errors.append({"loc": loc, "msg": f"version '{variant.version_id}' does not exist"})
        elif found.experiment_id != body.experiment_id:
            errors.append({"loc": loc, "msg": "is a version of another experiment"})
    if errors:
        raise ValidationFailed(errors)


@router.get("/ab-tests")
async def list_tests(request: Request) -> dict[str, Any]:
    """Tests, newest first; ``?experiment_id=`` and ``?status=`` filter."""
    limit, cursor = pagination.params(request)
    status = request.query_params.get("status")
    if status not in (None, "draft", "running", "stopped"):
        raise ValidationFailed([{"loc": ["query", "status"], "msg": "draft, running or stopped"}])
    after = pagination.created_after(cursor)
    async with database.connection() as conn:
        rows = await repository.list_tests(
            conn,
            experiment_id=query_uuid(request, "experiment_id"),
            status=status,
            limit=limit + 1,
            after=after,
        )
    items = [Test.model_validate(r, from_attributes=True) for r in rows]
    return pagination.page(items, limit=limit, key=pagination.created_key)


@router.get("/ab-tests/assign")
async def assign_for_experiment(request: Request) -> Response:
    """The unit's variant in the experiment's running test, or ``null`` when none runs."""
    experiment_id = query_uuid(request, "experiment_id", required=True)
    unit = _unit(request, principal(request))
    test_id = await _running_test(experiment_id)
    if test_id is None:
        return Response(b"null", media_type="application/json")
    try:
        found = await _assign(test_id, unit)
    except Conflict:  # stopped between the lookup and the assignment
        return Response(b"null", media_type="application/json")
    return Response(found.model_dump_json(), media_type="application/json")


@router.post("/ab-tests/events", public=True, optional_auth=True, internal=True)
async def receive_event(request: Request) -> dict[str, str]:
    """Outcome CloudEvents (``dev.acr.finding.feedback``, ``dev.acr.analysis.completed``),
    binary or structured mode, from the broker's Trigger; the event id dedupes. Broker
    deliveries carry no token: an event counts only if a platform producer signed it
    (``shared.events.delivery``), whatever its Host, and it is internal as well."""
    async with events.delivery(
        request, consumer="ab-tests", settings=settings(), redis=redis
    ) as event:
        if event is None:
            return {"status": "duplicate", "reason": "The event was already handled."}
        async with database.transaction() as conn:
            answer = await outcomes.apply_event(
                conn,
                event_id=str(event["id"]),
                event_type=str(event["type"]),
                data=event.get_data(),
                produced_at=events.produced_at(event),
            )
    return {"id": str(event["id"]), **answer}


@router.get("/ab-tests/{id}", response=Test)
async def read_test(request: Request) -> Test:
    """One test with its variants."""
    async with database.connection() as conn:
        return Test.model_validate(
            await repository.test(conn, path_uuid(request)), from_attributes=True
        )


@router.patch("/ab-tests/{id}", body=TestPatch, response=Test)
async def update_test(request: Request, body: TestPatch) -> Test:
    """Change weights (assigned units stay where they are) or ``auto_promote`` (admin)."""
    _admin(request)
    test_id = path_uuid(request)
    async with database.transaction() as conn:
        await repository.update_weights(conn, test_id, {v.name: v.weight for v in body.variants})
        if body.auto_promote is not None:
            await repository.set_auto_promote(conn, test_id, body.auto_promote)
        await _forget(test_id, strict=True)
        updated = await repository.test(conn, test_id)
    await _forget(test_id)
    return Test.model_validate(updated, from_attributes=True)


@router.post("/ab-tests/{id}/start", response=Test)
async def start_test(request: Request) -> Test:
    """Start assigning (admin); one running test per experiment."""
    return await _transition(request, to="running", allowed_from=("draft",))


@router.post("/ab-tests/{id}/stop", response=Test)
async def stop_test(request: Request) -> Test:
    """Stop assigning and counting (admin); with ``auto_promote``, a winner is promoted.

    Promotion happens only by an admin's action (this stop, or ``/promote``), never as a
    side effect of reading results: a reader's token or a burst of outcomes must not move
    ``production``.
    """
    stopped = await _transition(request, to="stopped", allowed_from=("running",))
    if stopped.auto_promote and not stopped.promoted_variant:
        document, test = await reports.results(stopped.id)
        if document["decision"] == "winner":
            await reports.promote(test, document, document["winner"], clients.forwarded(request))
            async with database.connection() as conn:
                stopped = Test.model_validate(
                    await repository.test(conn, stopped.id), from_attributes=True
                )
    return stopped


async def _transition(request: Request, *, to: str, allowed_from: tuple[str, ...]) -> Test:
    _admin(request)
    test_id = path_uuid(request)
    async with database.transaction() as conn:
        await repository.set_status(conn, test_id, to=to, allowed_from=allowed_from)
        updated = await repository.test(conn, test_id)
        await _forget(test_id, updated.experiment_id, strict=True)
    await _forget(test_id, updated.experiment_id)
    return Test.model_validate(updated, from_attributes=True)


@router.get("/ab-tests/{id}/assign", response=Assignment)
async def assign(request: Request) -> Assignment:
    """The unit's variant: deterministic, and sticky once made (running tests only)."""
    return await _assign(path_uuid(request), _unit(request, principal(request)))


class _Variant(BaseModel):
    name: str
    version_id: uuid.UUID
    weight: float


class _Definition(BaseModel):
    """What /assign needs of a test, as Redis keeps it (JSON, ``DEFINITION_TTL``)."""

    name: str
    experiment_id: uuid.UUID
    status: str
    epoch: int
    variants: list[_Variant]


async def _assign(test_id: uuid.UUID, unit: str) -> Assignment:
    key = redis.key("assign", str(test_id), hashlib.sha256(unit.encode()).hexdigest())
    cached, variant = await _cache_get_many(redis.key("ab-test", str(test_id)), key)
    definition = (
        _Definition.model_validate_json(cached)
        if cached is not None
        else await _definition(test_id)
    )
    if definition.status != "running":
        raise Conflict(f"A/B test '{test_id}' is {definition.status}; only running tests assign.")
    versions = {v.name: v.version_id for v in definition.variants}
    if variant not in versions:
        weights = [(v.name, v.weight) for v in definition.variants]
        chosen = assignment.pick(str(test_id), unit, weights)
        async with database.transaction() as conn:
            variant = await repository.assign(
                conn, test_id=test_id, unit=unit, variant=chosen, epoch=definition.epoch
            )
        await _cache_set(key, variant, settings().assignment_cache_seconds)
    return Assignment(
        ab_test_id=test_id,
        test_name=definition.name,
        experiment_id=definition.experiment_id,
        unit=unit,
        variant=variant,
        version_id=versions[variant],
    )


async def _running_test(experiment_id: uuid.UUID) -> uuid.UUID | None:
    """The experiment's running test (every analysis asks), cached with "none" too; start
    and stop forget it (``_forget``)."""
    key = redis.key("running", str(experiment_id))
    cached = await _cache_get(key)
    if cached is not None:
        return uuid.UUID(cached) if cached != "none" else None
    async with database.connection() as conn:
        test_id = await repository.running_test_id(conn, experiment_id)
    await _cache_set(key, str(test_id) if test_id else "none", DEFINITION_TTL)
    return test_id


async def _definition(test_id: uuid.UUID) -> _Definition:
    """What /assign needs of a test, read from the database and cached in Redis."""
    key = redis.key("ab-test", str(test_id))
    async with database.connection() as conn:
        test = await repository.test(conn, test_id)
    definition = _Definition.model_validate(test, from_attributes=True)
    await _cache_set(key, definition.model_dump_json(), DEFINITION_TTL)
    return definition


@router.post("/ab-tests/{id}/outcomes", status=201, body=OutcomeIn, idempotent=True)
async def record_outcome(request: Request, body: OutcomeIn) -> dict[str, Any]:
    """Record one unit's outcome (admin or internal); the unit must be in that variant."""
    _writer(request)
    test_id = path_uuid(request)
    metrics = body.metrics
    async with database.transaction() as conn:
        test = await repository.test(conn, test_id)
        if test.status != "running":
            raise Conflict(f"A/B test '{test.name}' is {test.status}; it counts no outcomes.")
        if body.variant not in {v.name for v in test.variants}:
            raise ValidationFailed([{"loc": ["body", "variant"], "msg": "is not a variant"}])
        assigned = await repository.assigned_variant(conn, test_id, body.unit)
        if assigned != body.variant:
            raise Conflict(
                f"Unit '{body.unit[:100]}' is assigned to {assigned!r}, not '{body.variant}'."
            )
        measured = metrics.cost_usd is not None or metrics.latency_ms is not None
        await repository.bump(
            conn,
            test_id=test_id,
            variant=body.variant,
            counts={
                "accepted": metrics.accepted,
                "dismissed": metrics.dismissed,
                "false_positive": metrics.false_positive,
                "analyses": int(measured),
            },
            cost=float(metrics.cost_usd) if metrics.cost_usd is not None else None,
            latency=metrics.latency_ms,
        )
        data = body.model_dump(mode="json")
        await repository.append_outcome(
            conn,
            test_id=test_id,
            variant=body.variant,
            unit=body.unit,
            source="api",
            event_id=None,
            data=data,
        )
    return {"ab_test_id": str(test_id), "recorded": data}


@router.get("/ab-tests/{id}/results")
async def read_results(request: Request) -> dict[str, Any]:
    """Per-variant metrics with 95% CIs, lifts, p-values, the SRM check and the decision."""
    test_id = path_uuid(request)
    document, _ = await reports.results(test_id)
    return document  # reading never promotes: see stop_test


@router.post("/ab-tests/{id}/promote", body=Promote)
async def promote(request: Request, body: Promote) -> dict[str, Any]:
    """Move the experiment's ``production`` alias to the winner's version (admin).

    Without a winner only ``{"variant": ..., "force": true}`` promotes, and the alias
    history then says it was forced.
    """
    _admin(request)
    document, test = await reports.results(path_uuid(request))
    winner = document["winner"] if document["decision"] == "winner" else None
    if body.force and body.variant:
        chosen = body.variant
    elif winner is None:
        raise Conflict(
            f"A/B test '{test.name}' has no winner (decision '{document['decision']}');"
            ' an admin may force one with {"variant": ..., "force": true}.'
        )
    elif body.variant not in (None, winner):
        raise Conflict(f"The winner is '{winner}', not '{body.variant}'.")
    else:
        chosen = winner
    if test.promoted_variant == chosen:
        raise Conflict(f"Variant '{chosen}' of A/B test '{test.name}' is already promoted.")
    return await reports.promote(test, document, chosen, clients.forwarded(request))


async def _cache_get(key: str) -> str | None:
    return (await _cache_get_many(key))[0]


async def _cache_get_many(*keys: str) -> list[str | None]:
    """The keys' values in one round trip; all None when Redis is down."""
    try:
        values = await redis.client().mget(keys)
    except down_errors():
        return [None] * len(keys)
    return [v.decode() if isinstance(v, bytes) else None for v in values]


async def _cache_set(key: str, value: str, ttl: int) -> None:
    if ttl:
        try:
            await redis.client().set(key, value.encode(), ex=ttl)
        except down_errors():
            return


async def _forget(
    test_id: uuid.UUID, experiment_id: uuid.UUID | None = None, *, strict: bool = False
) -> None:
    """Drop the cached definition (and the experiment's running test, when its status
    changes): inside the change's transaction (``strict``: a Redis failure aborts the
    change, so /assign never sees a stale status) and after commit."""
    keys = [redis.key("ab-test", str(test_id))]
    if experiment_id is not None:
        keys.append(redis.key("running", str(experiment_id)))
    try:
        await redis.client().delete(*keys)
    except down_errors() as e:
        if strict:
            raise Unavailable("redis", detail="The A/B test cache could not be invalidated.") from e
