"""rules turns quota rules and model prices (PostgreSQL) into the counters a step touches.

Rules and prices are read from PostgreSQL and kept in-process for
``QUOTA_RULES_CACHE_SECONDS``, so the hot path does no SQL; a write in this process
forgets the cache at once, other processes see it within that time. If PostgreSQL is
down when the cache is stale, the last snapshot keeps serving.

Each limit of a matching rule is one Redis counter per window: ``rpm`` per UTC minute,
``tpd`` per UTC day, ``cpm`` per UTC month. A counter holds committed usage plus the
amounts of outstanding reservations. Costs are counted in integer units of 1e-10 USD
(the ledger's scale), exact up to about 900,000 USD per counter (Lua numbers are doubles).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext

from functions.provider_service import repository
from functions.provider_service.context import database, redis
from functions.provider_service.settings import settings
from shared.errors import ProblemError

logger = logging.getLogger(__name__)

COST_UNITS = Decimal(10) ** 10
LEDGER_SCALE = Decimal("1e-10")
MTOK = Decimal(1_000_000)
ANY = "*"
LIMITS = {
    "requests_per_minute": ("r", "minute"),
    "tokens_per_day": ("t", "day"),
    "cost_usd_per_month": ("c", "month"),
}
WINDOW_SLACK_MS = 60_000
"""Counters outlive their window by this much (their expiry is not their reset)."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    scope: str
    scope_id: str
    provider: str
    model: str
    requests_per_minute: int | None
    tokens_per_day: int | None
    cost_usd_per_month: Decimal | None

    def limit_name(self, limit: str) -> str:
        """``project:<id>:tokens_per_day`` (``@provider/model`` when the rule is narrowed)."""
        where = (
            "" if (self.provider, self.model) == (ANY, ANY) else f"@{self.provider}/{self.model}"
        )
        return f"{self.scope}:{self.scope_id}:{limit}{where}"


@dataclass(frozen=True, slots=True)
class Price:
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal


@dataclass
class Snapshot:
    rules: dict[tuple[str, str], list[Rule]] = field(default_factory=dict)
    prices: dict[tuple[str, str], Price] = field(default_factory=dict)
    loaded_at: float = -math.inf


@dataclass(frozen=True, slots=True)
class Entry:
    """One counter a reservation touches (the Lua scripts' argument group)."""

    key: str
    kind: str
    limit: int
    amount: int
    expire_at_ms: int
    name: str


_state = Snapshot()
_lock: asyncio.Lock | None = None
_lock_loop: asyncio.AbstractEventLoop | None = None


def invalidate() -> None:
    """Forget the cached rules and prices (after a write in this process)."""
    _state.loaded_at = -math.inf


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


def matching(
    state: Snapshot, *, user_id: str, project_id: str, provider: str, model: str
) -> list[Rule]:
    """The rules that govern one call: global, the project's and the user's, narrowed or not."""
    found = []
    for scope in (("global", ANY), ("project", project_id), ("user", user_id)):
        for rule in state.rules.get(scope, []):
            if rule.provider in (ANY, provider) and rule.model in (ANY, model):
                found.append(rule)
    return found


def window_end(window: str, now: datetime) -> datetime:
    if window == "minute":
        return now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if window == "day":
        return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def window_id(window: str, now: datetime) -> str:
    return now.strftime({"minute": "%Y%m%d%H%M", "day": "%Y%m%d", "month": "%Y%m"}[window])


def counter_key(rule: Rule, limit: str, now: datetime) -> str:
    window = LIMITS[limit][1]
    return redis.key("q", rule.id, limit, window_id(window, now))


def entries(
    rules: list[Rule], *, now: datetime, tokens: int, cost_units: int, kinds: str = "rtc"
) -> list[Entry]:
    """The counters of ``rules`` in the windows containing ``now``, with the amounts to add."""
    amounts = {"r": 1, "t": tokens, "c": cost_units}
    found = []
    for rule in rules:
        for limit, (kind, window) in LIMITS.items():
            maximum = getattr(rule, limit)
            if maximum is None or kind not in kinds:
                continue
            ceiling = to_units(maximum) if kind == "c" else int(maximum)
            expire = int(window_end(window, now).timestamp() * 1000) + WINDOW_SLACK_MS
            found.append(
                Entry(
                    counter_key(rule, limit, now),
                    kind,
                    ceiling,
                    amounts[kind],
                    expire,
                    rule.limit_name(limit),
                )
            )
    return found


def to_units(usd: Decimal) -> int:
    """USD to integer counter units of 1e-10, rounded up (a hold never under-counts)."""
    return int((usd * COST_UNITS).to_integral_value(rounding=ROUND_CEILING))


def from_units(units: int) -> Decimal:
    return Decimal(units) / COST_UNITS


def estimate_units(price: Price, tokens: int) -> int:
    """The hold for ``tokens`` not yet split into input and output: the dearer rate."""
    rate = max(price.input_usd_per_mtok, price.output_usd_per_mtok)
    with localcontext() as ctx:
        ctx.prec = 60
        return to_units(Decimal(tokens) * rate / MTOK)


def cost(price: Price, *, input_tokens: int, output_tokens: int) -> Decimal:
    """Exact cost at the ledger's scale: tokens x price per million, half-up at 1e-10 USD."""
    with localcontext() as ctx:
        ctx.prec = 60
        total = (
            Decimal(input_tokens) * price.input_usd_per_mtok
            + Decimal(output_tokens) * price.output_usd_per_mtok
        ) / MTOK
        return total.quantize(LEDGER_SCALE, rounding=ROUND_HALF_UP)


def utcnow() -> datetime:
    return datetime.now(UTC)
