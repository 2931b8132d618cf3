"""quotas implements the quotas function: rules, reserve / commit / release, and usage.

A caller reserves before a model call and commits the actual tokens after it (or
releases). Reserve answers 429 naming the first limit that would be exceeded, and 503
when Redis is down (fail closed). Commit trades a held reservation for the actual usage
and queues its ledger row in one Redis script (the ledger writer moves it to PostgreSQL,
idempotent by reservation); with no hold left, or Redis down, the row goes to PostgreSQL
first and the counters follow (with Redis down, the hold simply expires). ``GET /usage``
sums the ledger.

Who may call: admins and internal service tokens for anyone; a member only for
themselves (``user_id`` equal to the token's user) and only in a project they belong to
(asked of project-service, ``shared.access``), so nobody can hold or spend another
project's quota. Rules are written by admins.
"""

from __future__ import annotations

import logging
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from functions.provider_service import counters, ledger, repository, reservations, rules
from functions.provider_service.context import database
from functions.provider_service.schemas import (
    CommitIn,
    Committed,
    Consumption,
    QuotaRuleIn,
    QuotaRuleOut,
    QuotaRules,
    Released,
    ReleaseIn,
    Reservation,
    ReserveIn,
    UsageReport,
    UsageRow,
)
from functions.provider_service.settings import settings
from shared import access
from shared.auth import Principal, principal
from shared.cache import down_errors
from shared.errors import Forbidden, NotFound, QuotaExceeded, Unavailable, ValidationFailed
from shared.function import Router, query_uuid
from shared.quota import Usage

logger = logging.getLogger(__name__)
router = Router()
_GLOBAL_IDS = ("*", "global")
NO_PROJECT = uuid.UUID(int=0)
_SCOPE_PATH = {
    "scope": {"type": "string", "enum": ["global", "project", "user"]},
    "scope_id": {
        "anyOf": [
            {"type": "string", "format": "uuid"},
            {"type": "string", "enum": list(_GLOBAL_IDS)},
        ]
    },
}


def _require_self(who: Principal, user_id: uuid.UUID) -> None:
    if not who.is_privileged and who.user_id != user_id:
        raise Forbidden(f"Only admins and internal services may act for user '{user_id}'.")


def _scope(request: Request) -> tuple[str, str]:
    """``(scope, scope_id)`` from the path; the global scope's id is ``*`` (or ``global``)."""
    scope, scope_id = request.path_params["scope"], request.path_params["scope_id"]
    if scope == "global":
        if scope_id not in _GLOBAL_IDS:
            raise ValidationFailed(
                [{"loc": ["path", "scope_id"], "msg": "must be '*' or 'global'"}]
            )
        return scope, "*"
    if scope not in ("project", "user"):
        raise ValidationFailed(
            [{"loc": ["path", "scope"], "msg": "must be 'global', 'project' or 'user'"}]
        )
    try:
        return scope, str(uuid.UUID(scope_id))
    except ValueError:
        raise ValidationFailed([{"loc": ["path", "scope_id"], "msg": "must be a UUID"}]) from None


@router.put(
    "/quotas/{scope}/{scope_id}", body=QuotaRuleIn, response=QuotaRuleOut, path_schemas=_SCOPE_PATH
)
async def put_rule(request: Request, body: QuotaRuleIn) -> QuotaRuleOut:
    """Admin: set the limits of one rule (per provider/model when given); null = no limit."""
    principal(request).require_role("admin")
    scope, scope_id = _scope(request)
    async with database.connection() as conn:
        row, _ = await repository.upsert_rule(
            conn,
            scope=scope,
            scope_id=scope_id,
            provider=body.provider or rules.ANY,
            model=body.model or rules.ANY,
            requests_per_minute=body.requests_per_minute,
            tokens_per_day=body.tokens_per_day,
            cost_usd_per_month=body.cost_usd_per_month,
        )
    await rules.changed()
    return QuotaRuleOut.model_validate(row, from_attributes=True)


@router.delete("/quotas/{scope}/{scope_id}", status=204, path_schemas=_SCOPE_PATH)
async def delete_rule(request: Request) -> None:
    """Admin: remove one rule (``?provider=&model=`` select a narrowed one)."""
    principal(request).require_role("admin")
    scope, scope_id = _scope(request)
    query = request.query_params
    async with database.connection() as conn:
        await repository.delete_rule(
            conn,
            scope=scope,
            scope_id=scope_id,
            provider=query.get("provider") or rules.ANY,
            model=query.get("model") or rules.ANY,
        )
    await rules.changed()


@router.get("/quotas/{scope}/{scope_id}", response=QuotaRules, path_schemas=_SCOPE_PATH)
async def read_rules(request: Request) -> QuotaRules:
    """The scope's rules and their current consumption (committed + held)."""
    who = principal(request)
    scope, scope_id = _scope(request)
    own = ("user", str(who.user_id)) if who.user_id is not None else None
    if not who.is_privileged and (scope, scope_id) != own:
        raise Forbidden("Members may read only their own user quota.")
    async with database.connection() as conn:
        rows = await repository.rules_of(conn, scope=scope, scope_id=scope_id)
    now = rules.utcnow()
    await counters.reclaim(now_ms=int(now.timestamp() * 1000))
    out = [QuotaRuleOut.model_validate(row, from_attributes=True) for row in rows]
    for rule_out, row in zip(out, rows, strict=True):
        rule_out.consumption = await _consumption(rules.rule_from_row(row), now)
    return QuotaRules(scope=scope, scope_id=scope_id, rules=out)


async def _consumption(rule: rules.Rule, now: datetime) -> list[Consumption]:
    found = rules.entries([rule], now=now, tokens=0, cost_units=0)
    values = await counters.current([e.key for e in found])
    answer = []
    for entry, used in zip(found, values, strict=True):
        window = {"r": "minute", "t": "day", "c": "month"}[entry.kind]
        money = entry.kind == "c"
        answer.append(
            Consumption(
                limit=entry.name,
                maximum=rules.from_units(entry.limit) if money else entry.limit,
                used=rules.from_units(used) if money else used,
                window=window,
                resets_at=rules.window_end(window, now),
            )
        )
    return answer


@router.post("/quotas/reserve", status=201, body=ReserveIn, response=Reservation)
async def reserve(request: Request, body: ReserveIn) -> Reservation:
    """Hold quota for one call; 429 names the limit, 503 when Redis is down."""
    ledger.drain_soon()
    who = principal(request)
    _require_self(who, body.user_id)
    if not who.is_privileged and body.project_id != NO_PROJECT:
        # A member holds quota only in their own projects; the nil UUID is "no project"
        # (a chat call that names none), governed by user and global rules only.
        await access.project_role(request, body.project_id, settings=settings())
    price = await _price(body.provider, body.model)
    now = rules.utcnow()
    matched = rules.matching(
        await rules.snapshot(),
        user_id=str(body.user_id),
        project_id=str(body.project_id),
        provider=body.provider,
        model=body.model,
    )
    hold = rules.estimate_units(price, body.estimated_tokens)
    found = rules.entries(matched, now=now, tokens=body.estimated_tokens, cost_units=hold)
    ticket = reservations.Ticket(
        uuid.uuid4(),
        body.user_id,
        body.project_id,
        body.provider,
        body.model,
        price,
        now + timedelta(seconds=settings().reservation_ttl_seconds),
    )
    now_ms = int(now.timestamp() * 1000)
    admitted, limit, retry_ms = await counters.reserve(
        str(ticket.id),
        found,
        now_ms=now_ms,
        deadline_ms=int(ticket.expires_at.timestamp() * 1000),
    )
    if not admitted:
        raise QuotaExceeded(
            f"Quota '{limit}' is exhausted for this window.",
            retry_after=math.ceil((retry_ms - rules.WINDOW_SLACK_MS) / 1000),
            extra={"limit": limit},
        )
    token = reservations.encode(ticket, key=settings().signing_key())
    return Reservation(reservation_id=token, expires_at=ticket.expires_at)


async def _price(provider: str, model: str) -> rules.Price:
    """The model's prices; an unknown model forces one fresh read before it is refused."""
    price = (await rules.snapshot()).prices.get((provider, model))
    if price is None:
        price = (await rules.snapshot(refresh=True)).prices.get((provider, model))
    if price is None:
        raise NotFound(f"Model '{model}' of provider '{provider}' is not configured.")
    return price


@router.post("/quotas/commit", body=CommitIn, response=Committed)
async def commit(request: Request, body: CommitIn) -> Committed:
    """Record actual usage once (exact cost) and trade the hold for it.

    While the reservation is live (the usual case: a commit within its TTL; one that no
    rule limits is live too, holding nothing), one Redis script trades the hold, appends
    the ledger row to the stream the ledger writer drains into PostgreSQL (``ledger.py``
    says why no row is lost) and marks the reservation committed: no PostgreSQL round
    trip on the response path. A repeat finds the mark (or, once the row is written, the
    row). With no hold left (expired or released), or with Redis down, the row goes to
    PostgreSQL first and the counters follow, as before.
    One case answers from the second call's amounts: the first commit made while Redis
    was down and repeated after it came back, while the hold still stands (at most
    ``RESERVATION_TTL_SECONDS``); the ledger keeps the first call's row either way.
    """
    ledger.drain_soon()
    ticket = reservations.decode(body.reservation_id, key=settings().signing_key())
    _require_self(principal(request), ticket.user_id)
    await _known_model(ticket)
    cost = rules.cost(
        ticket.price, input_tokens=body.input_tokens, output_tokens=body.output_tokens
    )
    usage = Usage(
        str(ticket.id),
        str(ticket.user_id),
        str(ticket.project_id),
        ticket.provider,
        ticket.model,
        body.input_tokens,
        body.output_tokens,
        cost,
    )
    try:
        outcome, first = await counters.commit_once(usage)
    except Unavailable as e:
        logger.warning("Commit of reservation %s straight to the ledger: %s", ticket.id, e.reason)
        outcome, first = "redis-down", None
    if outcome == "recorded":
        return _committed(body.reservation_id, usage, replayed=False)
    if first is not None:
        return _committed(body.reservation_id, first, replayed=True)
    if outcome == "not-held":
        await ledger.drain()  # a row still in the stream reaches the ledger before we look
    async with database.connection() as conn:
        row = await repository.record_usage(
            conn,
            reservation_id=ticket.id,
            user_id=ticket.user_id,
            project_id=ticket.project_id,
            provider=ticket.provider,
            model=ticket.model,
            input_tokens=body.input_tokens,
            output_tokens=body.output_tokens,
            cost_usd=cost,
        )
    if row.inserted:
        await _settle(ticket, tokens=body.input_tokens + body.output_tokens, cost=row.cost_usd)
    return Committed(
        reservation_id=body.reservation_id,
        cost_usd=row.cost_usd,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        replayed=not row.inserted,
    )


def _committed(reservation_id: str, usage: Usage, *, replayed: bool) -> Committed:
    return Committed(
        reservation_id=reservation_id,
        cost_usd=usage.cost_usd,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        replayed=replayed,
    )


async def _known_model(ticket: reservations.Ticket) -> None:
    """A commit writes the ledger only for a model the catalog prices (422 otherwise):
    the ticket's signature proves who made it, this proves it names something real."""
    try:
        await _price(ticket.provider, ticket.model)
    except NotFound:
        raise ValidationFailed(
            [{"loc": ["body", "reservation_id"], "msg": "names a model that is not configured"}]
        ) from None


async def _settle(ticket: reservations.Ticket, *, tokens: int, cost: Any) -> None:
    """Adjust the counters to actual usage; the ledger row is already durable."""
    units = rules.to_units(cost)
    try:
        matched = rules.matching(
            await rules.snapshot(),
            user_id=str(ticket.user_id),
            project_id=str(ticket.project_id),
            provider=ticket.provider,
            model=ticket.model,
        )
        fallback = rules.entries(
            matched, now=rules.utcnow(), tokens=tokens, cost_units=units, kinds="tc"
        )
        await counters.commit(str(ticket.id), tokens=tokens, cost_units=units, fallback=fallback)
    except Unavailable as e:
        # Committed usage is in the ledger; the counters catch up when the hold expires.
        logger.warning("Counters not adjusted for reservation %s: %s", ticket.id, e.reason)


@router.post("/quotas/release", body=ReleaseIn, response=Released)
async def release(request: Request, body: ReleaseIn) -> Released:
    """Give a reservation back unused; releasing twice (or after commit) is a no-op."""
    ticket = reservations.decode(body.reservation_id, key=settings().signing_key())
    _require_self(principal(request), ticket.user_id)
    released = await counters.release(str(ticket.id))
    return Released(reservation_id=body.reservation_id, released=released)


def _when(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
        # In UTC now: an offset at the edge of the calendar (9999-12-31T23:59-23:59) would
        # otherwise overflow in the driver, as a 500.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            [{"loc": ["query", name], "msg": "must be an RFC 3339 time or a date"}]
        ) from None


async def _drain_ledger() -> None:
    """Usage committed directly in Redis reaches the ledger before it is summed; with Redis
    down the sums are what PostgreSQL holds (the rows wait in Redis, none is lost)."""
    try:
        await ledger.drain()
    except Unavailable as e:
        logger.warning("Ledger not drained before /usage: %s", e.reason)
    except down_errors() as e:
        logger.warning("Ledger not drained before /usage, Redis is down: %s", e)


@router.get("/usage", response=UsageReport)
async def usage(request: Request) -> UsageReport:
    """Sums from the ledger (``from`` inclusive, ``to`` exclusive), by model or UTC day."""
    who = principal(request)
    user_id = query_uuid(request, "user_id")
    project_id = query_uuid(request, "project_id")
    if not who.is_privileged:
        if user_id is None:
            user_id = who.user()
        _require_self(who, user_id)
    group_by = request.query_params.get("group_by") or None
    if group_by not in (None, "model", "day"):
        raise ValidationFailed([{"loc": ["query", "group_by"], "msg": "must be 'model' or 'day'"}])
    start, end = _when(request, "from"), _when(request, "to")
    await _drain_ledger()
    filters: dict[str, Any] = {"user_id": user_id, "project_id": project_id}
    async with database.connection() as conn:
        totals = await repository.usage(conn, **filters, start=start, end=end, group_by=None)
        groups = []
        if group_by is not None:
            groups = await repository.usage(
                conn, **filters, start=start, end=end, group_by=group_by
            )
    return UsageReport(
        group_by=group_by,
        user_id=user_id,
        project_id=project_id,
        from_=start,
        to=end,
        totals=UsageRow.model_validate(totals[0], from_attributes=True),
        items=[UsageRow.model_validate(g, from_attributes=True) for g in groups],
    )
