"""quota reserves, commits and releases usage for the caller: in Redis directly, or at quotas.

**Directly** (``QUOTA_DIRECT``, the default): the rules and prices provider-service
publishes in Redis, the same Lua scripts on the same counters (``shared.quota``), and at
commit the usage row appended to the ledger stream in the same script, which
provider-service writes into its ledger (``functions/provider_service/ledger.py`` says why
no row can be lost). No HTTP round trip and no SQL on the call's path. The reserve script
first checks that the published rules are still the version the counters were computed
from, so a rule written at provider-service applies from the next reserve.
Authorization is the quotas function's: the call is charged to the token's own user
(``Caller.user_id``) and the caller's membership of the project was checked by the
handler before routing (``shared.access``, the same cached check quotas makes).

**At the quotas function** (the fallback): when nothing is published, the snapshot is
older than ``QUOTA_RULES_MAX_AGE_SECONDS`` (price changes reach Redis when
provider-service reloads, which this call makes it do), or the model has no published
price. The caller's own ``Authorization`` (and ``X-Acting-User``) is forwarded, so quotas
applies the rules of the user and project the call is made for.

Either way a reserve refused with 429 reaches the caller as such (with ``limit`` and
``Retry-After``) and no provider is called.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from functions.ai_orchestrator.context import redis
from functions.ai_orchestrator.settings import settings
from shared import clients
from shared import quota as shared_quota
from shared.errors import Forbidden, QuotaExceeded, Unauthorized, Unavailable

logger = logging.getLogger(__name__)
_counters = shared_quota.Counters(redis)
_published: list[shared_quota.Snapshot] = []


@dataclass(frozen=True, slots=True)
class Direct:
    """What a reservation held here needs at commit: whose it is and the price it used."""

    user_id: str
    project_id: str
    provider: str
    model: str
    price: shared_quota.Price


@dataclass(frozen=True, slots=True)
class Held:
    """A reservation: the quotas function's signed id, or one held here (``direct``)."""

    id: str
    direct: Direct | None = None


class ModelNotPriced(Exception):
    """quotas does not know the model (the catalog changed since it was read)."""


async def reserve(
    headers: dict[str, str],
    *,
    user_id: str,
    project_id: uuid.UUID,
    provider: str,
    model: str,
    estimated_tokens: int,
) -> Held:
    """A reservation holding ``estimated_tokens`` for one call.

    Raises:
        QuotaExceeded: a limit would be exceeded (429 with the limit and Retry-After).
        ModelNotPriced: quotas has no price for the model.
        Unavailable: Redis or quotas is down, or quotas answered unexpectedly.
    """
    if settings().quota_direct:
        unpriced = shared_quota.Price(Decimal(0), Decimal(0))  # the snapshot's price is used
        direct = Direct(user_id, str(project_id), provider, model, unpriced)
        held = await _reserve_directly(direct, estimated_tokens)
        if held is not None:
            return held
    body = {
        "user_id": user_id,
        "project_id": str(project_id),
        "provider": provider,
        "model": model,
        "estimated_tokens": estimated_tokens,
    }
    response = await _post("/quotas/reserve", body, headers)
    if response.status_code == 201:
        return Held(str(response.json()["reservation_id"]))
    if response.status_code == 429:
        raise _exceeded(response)
    if response.status_code == 404:
        raise ModelNotPriced(f"quotas has no price for {provider}/{model}")
    raise _unexpected(response, "reserve")


async def _snapshot(*, reload: bool = False) -> shared_quota.Snapshot | None:
    """The published rules, read again every ``QUOTA_RULES_CACHE_SECONDS``; None when none
    is published or it is older than ``QUOTA_RULES_MAX_AGE_SECONDS``."""
    config = settings()
    cached = _published[0] if _published else None
    if (
        reload
        or cached is None
        or time.monotonic() - cached.loaded_at >= config.quota_rules_cache_seconds
    ):
        cached = await shared_quota.published(redis)
        _published[:] = [] if cached is None else [cached]
    if cached is None or time.time() - cached.published_at > config.quota_rules_max_age_seconds:
        _published.clear()  # the quotas call this causes republishes: read it again next time
        return None
    return cached


async def _reserve_directly(direct: Direct, estimated_tokens: int) -> Held | None:
    """Hold quota in Redis; None when the quotas function must answer instead.

    Raises:
        QuotaExceeded: a limit would be exceeded.
        Unavailable: Redis is down (fail closed, as quotas does).
    """
    for reload in (False, True):
        state = await _snapshot(reload=reload)
        price = None if state is None else state.prices.get((direct.provider, direct.model))
        if state is None:
            return None
        if price is None:
            continue  # a model new since this copy was read: read the published one again
        now = datetime.now(UTC)
        matched = shared_quota.matching(
            state,
            user_id=direct.user_id,
            project_id=direct.project_id,
            provider=direct.provider,
            model=direct.model,
        )
        hold = shared_quota.estimate_units(price, estimated_tokens)
        found = shared_quota.entries(
            redis, matched, now=now, tokens=estimated_tokens, cost_units=hold
        )
        reservation_id = str(uuid.uuid4())
        deadline = now + timedelta(seconds=settings().reservation_ttl_seconds)
        answer = await _counters.reserve_if_current(
            state.version,
            reservation_id,
            found,
            now_ms=int(now.timestamp() * 1000),
            deadline_ms=int(deadline.timestamp() * 1000),
        )
        if answer is None:
            continue  # the rules changed since this snapshot: read them again
        admitted, limit, retry_ms = answer
        if not admitted:
            raise QuotaExceeded(
                f"Quota '{limit}' is exhausted for this window.",
                retry_after=math.ceil((retry_ms - shared_quota.WINDOW_SLACK_MS) / 1000),
                extra={"limit": limit},
            )
        held = Direct(direct.user_id, direct.project_id, direct.provider, direct.model, price)
        return Held(reservation_id, held)
    return None


async def _commit_directly(
    held: Held, direct: Direct, *, input_tokens: int, output_tokens: int
) -> Decimal | None:
    """Counters and the ledger row in one script (the row reaches PostgreSQL via the
    stream); None if Redis failed twice (logged with the row, as a failed quotas commit is)."""
    cost = shared_quota.cost(direct.price, input_tokens=input_tokens, output_tokens=output_tokens)
    usage = shared_quota.Usage(
        held.id,
        direct.user_id,
        direct.project_id,
        direct.provider,
        direct.model,
        input_tokens,
        output_tokens,
        cost,
    )
    state = _published[0] if _published else None
    matched = (
        []
        if state is None
        else shared_quota.matching(
            state,
            user_id=direct.user_id,
            project_id=direct.project_id,
            provider=direct.provider,
            model=direct.model,
        )
    )
    units = shared_quota.to_units(cost)
    fallback = shared_quota.entries(
        redis,
        matched,
        now=datetime.now(UTC),
        tokens=input_tokens + output_tokens,
        cost_units=units,
        kinds="tc",
    )
    for attempt in range(3):
        try:
            await _counters.commit_and_record(usage, cost_units=units, fallback=fallback)
            return cost
        except Unavailable:
            if attempt == 2:
                break
    logger.error("Quota commit failed (redis unreachable); usage not recorded: %s", usage)
    return None


async def commit(
    headers: dict[str, str], held: Held, *, input_tokens: int, output_tokens: int
) -> Decimal | None:
    """The call's cost as recorded for the ledger; None if recording failed (logged)."""
    if held.direct is not None:
        return await _commit_directly(
            held, held.direct, input_tokens=input_tokens, output_tokens=output_tokens
        )
    body = {
        "reservation_id": held.id,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }
    try:
        response = await _post("/quotas/commit", body, headers)
    except Unavailable:
        response = None
    if response is None or response.status_code != 200:
        status = "unreachable" if response is None else response.status_code
        logger.error("Quota commit failed (%s); the reservation will expire on its own", status)
        return None
    return Decimal(str(response.json()["cost_usd"]))


async def release(headers: dict[str, str], held: Held) -> None:
    """Give a reservation back (best effort: an unreleased one expires on its own)."""
    if held.direct is not None:
        try:
            await _counters.release(held.id)
        except Unavailable:
            logger.warning("Quota release failed: redis unreachable")
        return
    try:
        response = await _post("/quotas/release", {"reservation_id": held.id}, headers)
    except Unavailable:
        logger.warning("Quota release failed: quotas unreachable")
        return
    if response.status_code != 200:
        logger.warning("Quota release answered %s", response.status_code)


async def _post(path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    url = settings().quotas_url.rstrip("/") + path
    try:
        # commit and release are idempotent by reservation id; reserve is not retried.
        return await clients.request(
            "POST",
            url,
            json=body,
            headers=headers,
            timeout=5.0,
            retries=0 if path.endswith("reserve") else 2,
            retry_unsafe=True,
        )
    except clients.transport_errors() as e:
        raise Unavailable("quotas", detail="The quotas function could not be reached.") from e


def _exceeded(response: httpx.Response) -> QuotaExceeded:
    problem = _json(response)
    limit = problem.get("limit")
    try:
        retry_after = int(response.headers.get("retry-after", "1"))
    except ValueError:
        retry_after = 1
    return QuotaExceeded(
        str(problem.get("detail") or f"Quota '{limit}' is exhausted."),
        retry_after=retry_after,
        extra={"limit": limit},
    )


def _unexpected(response: httpx.Response, action: str) -> Exception:
    if response.status_code == 401:
        return Unauthorized("The access token was refused.")
    if response.status_code == 403:
        return Forbidden(str(_json(response).get("detail") or "The caller may not use quota here."))
    return Unavailable(
        "quotas", detail=f"The quotas function answered {response.status_code} to {action}."
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
