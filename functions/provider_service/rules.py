"""rules turns quota rules and model prices (PostgreSQL) into the counters a step touches.

Rules and prices are read from PostgreSQL and kept in-process for
``QUOTA_RULES_CACHE_SECONDS``, so the hot path does no SQL; a write in this process
forgets the cache at once, other processes see it within that time. If PostgreSQL is
down when the cache is stale, the last snapshot keeps serving. Every reload is also
published to Redis (``shared.quota.publish``) for the callers that reserve directly.

Each limit of a matching rule is one Redis counter per window: ``rpm`` per UTC minute,
``tpd`` per UTC day, ``cpm`` per UTC month. A counter holds committed usage plus the
amounts of outstanding reservations. The arithmetic and the types are ``shared.quota``'s
(the one mechanism the orchestrator's direct path uses too).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import UTC, datetime

from functions.provider_service import repository
from functions.provider_service.context import database, redis
from functions.provider_service.settings import settings
from shared import quota
from shared.errors import ProblemError
from shared.quota import (
    ANY,
    COST_UNITS,
    LEDGER_SCALE,
    LIMITS,
    MTOK,
    WINDOW_SLACK_MS,
    Entry,
    Price,
    Rule,
    Snapshot,
    cost,
    estimate_units,
    from_units,
    matching,
    to_units,
    window_end,
    window_id,
)

__all__ = [
    "ANY",
    "COST_UNITS",
    "LEDGER_SCALE",
    "LIMITS",
    "MTOK",
    "WINDOW_SLACK_MS",
    "Entry",
    "Price",
    "Rule",
    "Snapshot",
    "changed",
    "cost",
    "counter_key",
    "entries",
    "estimate_units",
    "from_units",
    "invalidate",
    "matching",
    "rule_from_row",
    "snapshot",
    "to_units",
    "utcnow",
    "window_end",
    "window_id",
]

logger = logging.getLogger(__name__)

_state = Snapshot()
_lock: asyncio.Lock | None = None
_lock_loop: asyncio.AbstractEventLoop | None = None


def invalidate() -> None:
    """Forget the cached rules and prices (after a write in this process)."""
    _state.loaded_at = -math.inf


async def changed() -> None:
    """After a rule write: reload now, which republishes, so direct callers (who check the
    published version in the same script that reserves) apply the change from their next
    reserve on."""
    invalidate()
    await snapshot(refresh=True)


async def snapshot(*, refresh: bool = False) -> Snapshot:
    """The rules and prices, at most ``QUOTA_RULES_CACHE_SECONDS`` old (or forced fresh)."""
    global _lock, _lock_loop
    fresh = time.monotonic() - _state.loaded_at < settings().quota_rules_cache_seconds
    if fresh and not refresh:
        return _state
    loop = asyncio.get_running_loop()
    if _lock is None or _lock_loop is not loop:
        _lock, _lock_loop = asyncio.Lock(), loop
    async with _lock:
        if refresh or time.monotonic() - _state.loaded_at >= settings().quota_rules_cache_seconds:
            await _reload()
    return _state


async def _reload() -> None:
    try:
        async with database.connection() as conn:
            rules = await repository.all_rules(conn)
            prices = await repository.model_prices(conn)
    except ProblemError:
        if _state.loaded_at == -math.inf:
            raise
        logger.warning("Quota rules could not be reloaded; serving the previous snapshot")
        return
    by_scope: dict[tuple[str, str], list[Rule]] = {}
    for row in rules:
        rule = rule_from_row(row)
        by_scope.setdefault((rule.scope, rule.scope_id), []).append(rule)
    _state.rules = by_scope
    _state.prices = {
        (p.provider, p.model): Price(p.input_usd_per_mtok, p.output_usd_per_mtok) for p in prices
    }
    _state.loaded_at = time.monotonic()
    await quota.publish(redis, _state)


def rule_from_row(row: repository.RuleRecord) -> Rule:
    return Rule(
        id=str(row.id),
        scope=row.scope,
        scope_id=row.scope_id,
        provider=row.provider or ANY,
        model=row.model or ANY,
        requests_per_minute=row.requests_per_minute,
        tokens_per_day=row.tokens_per_day,
        cost_usd_per_month=row.cost_usd_per_month,
    )


def counter_key(rule: Rule, limit: str, now: datetime) -> str:
    return quota.counter_key(redis, rule, limit, now)


def entries(
    rules: list[Rule], *, now: datetime, tokens: int, cost_units: int, kinds: str = "rtc"
) -> list[Entry]:
    """The counters of ``rules`` in the windows containing ``now``, with the amounts to add."""
    return quota.entries(redis, rules, now=now, tokens=tokens, cost_units=cost_units, kinds=kinds)


def utcnow() -> datetime:
    return datetime.now(UTC)
