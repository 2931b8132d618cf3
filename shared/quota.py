"""quota is the one quota mechanism: rules, prices, counters in Redis (Lua) and the ledger stream.

provider-service owns quotas (its rules and prices in PostgreSQL, its usage ledger), and
its quotas function is the HTTP API. Its counters live in Redis under the namespace
``provider-service`` whoever runs the scripts, so a caller that holds Redis (the
orchestrator's chat gateway) can reserve and commit without an HTTP round trip through
the same scripts, on the same keys, with the same arithmetic:

* **Rules and prices** are published by provider-service as a JSON snapshot in Redis
  (``quota-rules``) each time it reloads them from PostgreSQL (and at once after a rule
  write). A reader uses a snapshot only while it is younger than its bound; an older one
  (or none) sends the reader back to the quotas function, which reloads and republishes.
* **Counters**: one Lua script per step (reserve, commit, release), see ``RESERVE``.
* **The ledger** of a direct commit: the commit script also appends the usage row to the
  Redis stream ``ledger`` in the same atomic step. provider-service's consumer
  (``functions/provider_service/ledger.py``) writes the stream into PostgreSQL idempotently
  by reservation id and acknowledges only after its transaction commits.

Costs are counted in integer units of 1e-10 USD (the ledger's scale), exact up to about
900,000 USD per counter (Lua numbers are doubles).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from shared.cache import Cache, down_errors
from shared.errors import Unavailable

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

NAMESPACE = "provider-service"
"""The Redis namespace of every quota key, whichever service runs the script."""
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
RECLAIM_BATCH = 100
LEDGER_STREAM = "ledger"
LEDGER_FIELDS = (
    "reservation_id",
    "user_id",
    "project_id",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cost_usd",
)


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


@dataclass(frozen=True, slots=True)
class Entry:
    """One counter a reservation touches (the Lua scripts' argument group)."""

    key: str
    kind: str
    limit: int
    amount: int
    expire_at_ms: int
    name: str


@dataclass
class Snapshot:
    """Rules by ``(scope, scope_id)`` and prices by ``(provider, model)``; ``loaded_at`` is
    ``time.monotonic()`` of this process, ``published_at`` the publisher's wall clock."""

    rules: dict[tuple[str, str], list[Rule]] = field(default_factory=dict)
    prices: dict[tuple[str, str], Price] = field(default_factory=dict)
    loaded_at: float = float("-inf")
    published_at: float = 0.0
    version: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """One ledger row as the stream carries it (ids as text, cost exact)."""

    reservation_id: str
    user_id: str
    project_id: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


def key(cache: Cache, *parts: str) -> str:
    """``<prefix>provider-service:<part>:...``, the same from every service."""
    return cache.settings().redis_key_prefix + ":".join((NAMESPACE, *parts))


# ---------------------------------------------------------------- rules and arithmetic


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


def counter_key(cache: Cache, rule: Rule, limit: str, now: datetime) -> str:
    window = LIMITS[limit][1]
    return key(cache, "q", rule.id, limit, window_id(window, now))


def entries(
    cache: Cache,
    rules: list[Rule],
    *,
    now: datetime,
    tokens: int,
    cost_units: int,
    kinds: str = "rtc",
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
                    counter_key(cache, rule, limit, now),
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


# ---------------------------------------------------------------- the published snapshot


def encode_snapshot(rules: Iterable[Rule], prices: dict[tuple[str, str], Price]) -> tuple[str, str]:
    """The snapshot's JSON and its version (a digest of the rules and prices alone, so a
    reload that found nothing new keeps the version readers hold)."""
    content = json.dumps(
        {
            "rules": [
                [
                    r.id,
                    r.scope,
                    r.scope_id,
                    r.provider,
                    r.model,
                    r.requests_per_minute,
                    r.tokens_per_day,
                    None if r.cost_usd_per_month is None else str(r.cost_usd_per_month),
                ]
                for r in sorted(rules, key=lambda r: r.id)
            ],
            "prices": [
                [provider, model, str(p.input_usd_per_mtok), str(p.output_usd_per_mtok)]
                for (provider, model), p in sorted(prices.items())
            ],
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    version = hashlib.sha256(content.encode()).hexdigest()[:24]
    envelope = f'{{"version":"{version}","published_at":{time.time()!r},"content":{content}}}'
    return envelope, version


def decode_snapshot(raw: bytes | str) -> Snapshot:
    envelope = json.loads(raw)
    data = envelope["content"]
    state = Snapshot(
        published_at=float(envelope["published_at"]),
        loaded_at=time.monotonic(),
        version=str(envelope["version"]),
    )
    for rid, scope, scope_id, provider, model, rpm, tpd, cpm in data["rules"]:
        rule = Rule(
            rid, scope, scope_id, provider, model, rpm, tpd, None if cpm is None else Decimal(cpm)
        )
        state.rules.setdefault((scope, scope_id), []).append(rule)
    for provider, model, given, taken in data["prices"]:
        state.prices[(provider, model)] = Price(Decimal(given), Decimal(taken))
    return state


async def publish(cache: Cache, state: Snapshot) -> None:
    """Make ``state`` the snapshot direct callers read (best effort: they fall back to HTTP)."""
    rules = [rule for group in state.rules.values() for rule in group]
    envelope, version = encode_snapshot(rules, state.prices)
    mapping = {key(cache, "quota-rules"): envelope, key(cache, "quota-rules-version"): version}
    try:
        await cache.client().mset(mapping)
    except down_errors():
        pass


async def published(cache: Cache) -> Snapshot | None:
    """The snapshot provider-service last published, if any.

    Raises:
        Unavailable: Redis is down.
    """
    try:
        raw = await cache.client().get(key(cache, "quota-rules"))
    except down_errors() as e:
        raise Unavailable("redis", retry_after=2) from e
    return None if raw is None else decode_snapshot(raw)


# ---------------------------------------------------------------- the counters (Lua)

# Gives back what the reservation ``id`` (its hash) still holds and forgets it; counters
# are only lowered while they exist. Returns 1 if something was held.
_UNDO = """
local function undo(deadlines, hash, id)
  local held = redis.call('HGETALL', hash)
  for i = 1, #held, 2 do
    local amount = tonumber(string.match(held[i + 1], ':(%-?%d+)$'))
    if amount ~= 0 and redis.call('EXISTS', held[i]) == 1 then
      redis.call('DECRBY', held[i], amount)
    end
  end
  redis.call('DEL', hash)
  redis.call('ZREM', deadlines, id)
  if #held == 0 or (#held == 2 and held[1] == '-') then return 0 end
  return 1
end
"""

_RECLAIM = (
    _UNDO
    + """
local function reclaim(deadlines, prefix, now, batch)
  local expired = redis.call('ZRANGEBYSCORE', deadlines, '-inf', now, 'LIMIT', 0, batch)
  for _, id in ipairs(expired) do
    undo(deadlines, prefix .. id, id)
  end
end
"""
)

# A reservation is a hash ``rsv:<uuid>`` mapping each counter it raised to
# ``<kind>:<amount>`` (kind r = requests, t = tokens, c = cost units), plus a member of the
# sorted set ``rsv-deadlines`` scored by its deadline; one that no rule limits holds only
# the field ``-`` (``n:0``), so a commit can still tell a live reservation from one that
# was released, expired or already committed. Every reserve first reclaims
# reservations past their deadline (up to RECLAIM_BATCH), giving their amounts back, so
# expiry is exact and atomic without a background job. The hash outlives the deadline
# (until its counters' windows end) so the reclaim can still read it; counters are only
# lowered while they exist, so a window that already ended never goes negative.
# KEYS: deadlines zset, this reservation's hash.
# ARGV: now_ms, deadline_ms, id, hash prefix, batch, hash_expire_at_ms,
#       then per counter: key, kind, limit, amount, expire_at_ms, name.
# Returns {1} admitted, or {0, limit name, ms until the window ends}.
_HOLD = """
local function hold(deadlines, hash, first)
  local now = tonumber(ARGV[1])
  reclaim(deadlines, ARGV[4], now, tonumber(ARGV[5]))
  local n = (#ARGV - first + 1) / 6
  for i = 0, n - 1 do
    local b = first + i * 6
    local used = tonumber(redis.call('GET', ARGV[b]) or '0')
    if used + tonumber(ARGV[b + 3]) > tonumber(ARGV[b + 2]) then
      return {0, ARGV[b + 5], tonumber(ARGV[b + 4]) - now}
    end
  end
  if n == 0 then redis.call('HSET', hash, '-', 'n:0') end
  for i = 0, n - 1 do
    local b = first + i * 6
    redis.call('INCRBY', ARGV[b], ARGV[b + 3])
    redis.call('PEXPIREAT', ARGV[b], ARGV[b + 4])
    redis.call('HSET', hash, ARGV[b], ARGV[b + 1] .. ':' .. ARGV[b + 3])
  end
  redis.call('PEXPIREAT', hash, ARGV[6])
  redis.call('ZADD', deadlines, ARGV[2], ARGV[3])
  return {1}
end
"""
RESERVE = _RECLAIM + _HOLD + "return hold(KEYS[1], KEYS[2], 7)\n"

# KEYS: deadlines zset. ARGV: now_ms, hash prefix, batch. Reclaim only (no reservation).
RECLAIM = _RECLAIM + "reclaim(KEYS[1], ARGV[2], tonumber(ARGV[1]), tonumber(ARGV[3]))\nreturn 1\n"

# KEYS as RESERVE plus the snapshot's version key; ARGV as RESERVE with the version the
# caller computed its counters from at ARGV[7]. Returns {2} without holding anything when
# the rules changed since (the caller reloads the snapshot and asks again).
RESERVE_IF_CURRENT = (
    _RECLAIM
    + _HOLD
    + """
if redis.call('GET', KEYS[3]) ~= ARGV[7] then return {2} end
return hold(KEYS[1], KEYS[2], 8)
"""
)

# The commit step as a Lua function (used alone, and before the ledger append).
# ARGV: id, input+output tokens, cost units, then per fallback counter: key, kind,
# expire_at_ms (from ARGV[first]). A held reservation trades its hold for the actual
# amounts (the request stays counted); one already gone (expired or released) adds the
# actual amounts to the fallback counters.
_COMMIT = """
local function commit(deadlines, hash, first, last)
  local tokens, units = tonumber(ARGV[2]), tonumber(ARGV[3])
  local held = redis.call('HGETALL', hash)
  if #held > 0 then
    for i = 1, #held, 2 do
      local kind, amount = string.match(held[i + 1], '^(%a):(%-?%d+)$')
      local delta = 0
      if kind == 't' then delta = tokens - tonumber(amount) end
      if kind == 'c' then delta = units - tonumber(amount) end
      if delta ~= 0 and redis.call('EXISTS', held[i]) == 1 then
        redis.call('INCRBY', held[i], delta)
      end
    end
    redis.call('DEL', hash)
    redis.call('ZREM', deadlines, ARGV[1])
    return 1
  end
  for b = first, last, 3 do
    local amount = units
    if ARGV[b + 1] == 't' then amount = tokens end
    if amount ~= 0 then
      redis.call('INCRBY', ARGV[b], amount)
      redis.call('PEXPIREAT', ARGV[b], ARGV[b + 2])
    end
  end
  return 0
end
"""

# KEYS: deadlines zset, the reservation's hash. ARGV as _COMMIT. Returns 1 if it was held.
COMMIT = _COMMIT + "return commit(KEYS[1], KEYS[2], 4, #ARGV)\n"

# KEYS: deadlines zset, the reservation's hash, the ledger stream.
# ARGV: id, tokens, cost units, n (fallback counters), 3n fallback values, then the
# ledger row's field/value pairs. Counters and the ledger row change in one atomic step:
# a usage is either counted and recorded, or neither.
COMMIT_AND_RECORD = (
    _COMMIT
    + """
local n = tonumber(ARGV[4])
local held = commit(KEYS[1], KEYS[2], 5, 4 + 3 * n)
local row = {}
for i = 5 + 3 * n, #ARGV do row[#row + 1] = ARGV[i] end
redis.call('XADD', KEYS[3], '*', unpack(row))
return held
"""
)

# KEYS: deadlines zset, the reservation's hash, the ledger stream, the reservation's
# "committed" marker. ARGV: id, tokens, cost units, marker TTL (ms), the marker's value
# ("input:output:cost"), then the ledger row's field/value pairs. A reservation committed
# before (its marker stands) changes nothing and answers {2, marker}; one no longer held
# (expired, released, or committed and already drained) changes nothing and answers {0};
# a held one trades its hold for the actual amounts, appends the row and leaves the
# marker, in one atomic step, and answers {1}.
COMMIT_ONCE = (
    _COMMIT
    + """
local done = redis.call('GET', KEYS[4])
if done then return {2, done} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
commit(KEYS[1], KEYS[2], 6, 5)  -- held: an empty fallback range (6 > 5) is never read
local row = {}
for i = 6, #ARGV do row[#row + 1] = ARGV[i] end
redis.call('XADD', KEYS[3], '*', unpack(row))
redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[4])
return {1}
"""
)
COMMITTED_MARKER_TTL_MS = 24 * 3600 * 1000
"""How long a commit's marker outlives it at most; the ledger writer deletes it as soon as
the row is in PostgreSQL, where a later repeat of the commit finds it instead."""

# KEYS: deadlines zset, the reservation's hash. ARGV: id. Returns 1 if something was held.
RELEASE = _UNDO + "return undo(KEYS[1], KEYS[2], ARGV[1])\n"


class Counters:
    """The quota steps on ``cache``'s Redis: one EVALSHA each (loaded on first NOSCRIPT)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._scripts: dict[str, AsyncScript] = {}

    async def _run(self, source: str, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA ``source``; Redis down = 503."""
        try:
            client = self.cache.client()
            script = self._scripts.get(source)
            if script is None or script.registered_client is not client:
                script = self._scripts[source] = client.register_script(source)
            return await script(keys=keys, args=args)
        except down_errors() as e:
            raise Unavailable("redis", retry_after=2) from e

    def _keys(self, reservation_id: str) -> list[str]:
        return [key(self.cache, "rsv-deadlines"), key(self.cache, "rsv", reservation_id)]

    async def reserve(
        self, reservation_id: str, found: list[Entry], *, now_ms: int, deadline_ms: int
    ) -> tuple[bool, str, int]:
        """Hold every entry's amount atomically, or none: ``(admitted, limit, retry ms)``."""
        keep_until = max([deadline_ms, *(e.expire_at_ms for e in found)]) + 60_000
        args: list[Any] = [now_ms, deadline_ms, reservation_id, key(self.cache, "rsv", "")]
        args += [RECLAIM_BATCH, keep_until]
        for e in found:
            args.extend((e.key, e.kind, e.limit, e.amount, e.expire_at_ms, e.name))
        answer = await self._run(RESERVE, self._keys(reservation_id), args)
        return self._admitted(answer)

    async def reserve_if_current(
        self,
        version: str,
        reservation_id: str,
        found: list[Entry],
        *,
        now_ms: int,
        deadline_ms: int,
    ) -> tuple[bool, str, int] | None:
        """``reserve`` if the published rules are still ``version``; None if they changed."""
        keep_until = max([deadline_ms, *(e.expire_at_ms for e in found)]) + 60_000
        args: list[Any] = [now_ms, deadline_ms, reservation_id, key(self.cache, "rsv", "")]
        args += [RECLAIM_BATCH, keep_until, version]
        for e in found:
            args.extend((e.key, e.kind, e.limit, e.amount, e.expire_at_ms, e.name))
        keys = [*self._keys(reservation_id), key(self.cache, "quota-rules-version")]
        answer = await self._run(RESERVE_IF_CURRENT, keys, args)
        if int(answer[0]) == 2:
            return None
        return self._admitted(answer)

    @staticmethod
    def _admitted(answer: list[Any]) -> tuple[bool, str, int]:
        if int(answer[0]) == 1:
            return True, "", 0
        name = answer[1].decode() if isinstance(answer[1], bytes) else str(answer[1])
        return False, name, int(answer[2])

    async def reclaim(self, *, now_ms: int) -> None:
        """Give back what expired reservations still hold (one script, no reservation)."""
        args = [now_ms, key(self.cache, "rsv", ""), RECLAIM_BATCH]
        await self._run(RECLAIM, [key(self.cache, "rsv-deadlines")], args)

    async def commit(
        self, reservation_id: str, *, tokens: int, cost_units: int, fallback: list[Entry]
    ) -> bool:
        """Trade the hold for actual usage; True if the reservation was still held."""
        args: list[Any] = [reservation_id, tokens, cost_units]
        for e in fallback:
            args.extend((e.key, e.kind, e.expire_at_ms))
        return int(await self._run(COMMIT, self._keys(reservation_id), args)) == 1

    async def commit_and_record(
        self, usage: Usage, *, cost_units: int, fallback: list[Entry]
    ) -> bool:
        """``commit`` and append ``usage`` to the ledger stream, atomically."""
        tokens = usage.input_tokens + usage.output_tokens
        args: list[Any] = [usage.reservation_id, tokens, cost_units, len(fallback)]
        for e in fallback:
            args.extend((e.key, e.kind, e.expire_at_ms))
        for name in LEDGER_FIELDS:
            args.extend((name, str(getattr(usage, name))))
        keys = [*self._keys(usage.reservation_id), key(self.cache, LEDGER_STREAM)]
        return int(await self._run(COMMIT_AND_RECORD, keys, args)) == 1

    async def commit_once(self, usage: Usage) -> tuple[str, Usage | None]:
        """Commit a held reservation and record ``usage`` in the ledger stream, once.

        Returns ``("recorded", None)`` when this call committed it; ``("replayed", first)``
        when it was committed before and its row is still on its way to PostgreSQL
        (``first`` carries that commit's amounts); ``("not-held", None)`` when there is no
        hold to trade (expired, released, or committed and already written to
        PostgreSQL): then nothing changed, and the caller settles through the ledger.

        Raises:
            Unavailable: Redis is down.
        """
        marker = f"{usage.input_tokens}:{usage.output_tokens}:{usage.cost_usd}"
        args: list[Any] = [
            usage.reservation_id,
            usage.input_tokens + usage.output_tokens,
            to_units(usage.cost_usd),
            COMMITTED_MARKER_TTL_MS,
            marker,
        ]
        for name in LEDGER_FIELDS:
            args.extend((name, str(getattr(usage, name))))
        keys = [
            *self._keys(usage.reservation_id),
            key(self.cache, LEDGER_STREAM),
            committed_key(self.cache, usage.reservation_id),
        ]
        answer = await self._run(COMMIT_ONCE, keys, args)
        outcome = int(answer[0])
        if outcome == 1:
            return "recorded", None
        if outcome == 0:
            return "not-held", None
        raw = answer[1].decode() if isinstance(answer[1], bytes) else str(answer[1])
        tokens_in, tokens_out, cost_usd = raw.split(":")
        first = Usage(
            usage.reservation_id,
            usage.user_id,
            usage.project_id,
            usage.provider,
            usage.model,
            int(tokens_in),
            int(tokens_out),
            Decimal(cost_usd),
        )
        return "replayed", first

    async def release(self, reservation_id: str) -> bool:
        """Give the hold back; False if nothing was held (committed, released or expired)."""
        answer = await self._run(RELEASE, self._keys(reservation_id), [reservation_id])
        return int(answer) == 1

    async def current(self, keys: list[str]) -> list[int]:
        """The counters' values (0 when absent)."""
        if not keys:
            return []
        try:
            values = await self.cache.client().mget(keys)
        except down_errors() as e:
            raise Unavailable("redis", retry_after=2) from e
        return [int(v) if v is not None else 0 for v in values]


def committed_key(cache: Cache, reservation_id: str) -> str:
    """The marker ``Counters.commit_once`` leaves on a reservation it committed."""
    return key(cache, "rsv-done", reservation_id)


def usage_of(fields: dict[bytes, bytes]) -> Usage:
    """A ledger row read back from the stream.

    Raises:
        KeyError, ValueError: the entry is not one ``commit_and_record`` wrote.
    """
    text: Callable[[str], str] = lambda name: fields[name.encode()].decode()  # noqa: E731
    return Usage(
        reservation_id=text("reservation_id"),
        user_id=text("user_id"),
        project_id=text("project_id"),
        provider=text("provider"),
        model=text("model"),
        input_tokens=int(text("input_tokens")),
        output_tokens=int(text("output_tokens")),
        cost_usd=Decimal(text("cost_usd")),
    )
