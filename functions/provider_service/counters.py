"""counters runs the quota steps in Redis: one Lua script (one EVALSHA) per step.

A reservation is a hash ``rsv:<uuid>`` mapping each counter it raised to
``<kind>:<amount>`` (kind r = requests, t = tokens, c = cost units), plus a member of
the sorted set ``rsv-deadlines`` scored by its deadline. Every reserve first reclaims
reservations past their deadline (up to ``RECLAIM_BATCH``), giving their amounts back,
so expiry is exact and atomic without a background job. The hash itself outlives the
deadline (until its counters' windows end) so the reclaim can still read it; counters
are only lowered while they exist, so a window that already ended never goes negative.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.provider_service.context import redis
from functions.provider_service.rules import Entry
from shared.cache import down_errors
from shared.errors import Unavailable

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

RECLAIM_BATCH = 100

_RECLAIM = """
local function reclaim(deadlines, prefix, now, batch)
  local expired = redis.call('ZRANGEBYSCORE', deadlines, '-inf', now, 'LIMIT', 0, batch)
  for _, id in ipairs(expired) do
    local held = redis.call('HGETALL', prefix .. id)
    for i = 1, #held, 2 do
      local amount = tonumber(string.match(held[i + 1], ':(%-?%d+)$'))
      if amount ~= 0 and redis.call('EXISTS', held[i]) == 1 then
        redis.call('DECRBY', held[i], amount)
      end
    end
    redis.call('DEL', prefix .. id)
    redis.call('ZREM', deadlines, id)
  end
end
"""

# KEYS: deadlines zset, this reservation's hash.
# ARGV: now_ms, deadline_ms, id, hash prefix, batch, hash_expire_at_ms,
#       then per counter: key, kind, limit, amount, expire_at_ms, name.
# Returns {1} admitted, or {0, limit name, ms until the window ends}.
RESERVE = (
    _RECLAIM
    + """
local now = tonumber(ARGV[1])
reclaim(KEYS[1], ARGV[4], now, tonumber(ARGV[5]))
local first, n = 7, (#ARGV - 6) / 6
for i = 0, n - 1 do
  local b = first + i * 6
  local used = tonumber(redis.call('GET', ARGV[b]) or '0')
  if used + tonumber(ARGV[b + 3]) > tonumber(ARGV[b + 2]) then
    return {0, ARGV[b + 5], tonumber(ARGV[b + 4]) - now}
  end
end
if n == 0 then return {1} end
for i = 0, n - 1 do
  local b = first + i * 6
  redis.call('INCRBY', ARGV[b], ARGV[b + 3])
  redis.call('PEXPIREAT', ARGV[b], ARGV[b + 4])
  redis.call('HSET', KEYS[2], ARGV[b], ARGV[b + 1] .. ':' .. ARGV[b + 3])
end
redis.call('PEXPIREAT', KEYS[2], ARGV[6])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return {1}
"""
)

# KEYS: deadlines zset, the reservation's hash.
# ARGV: id, input+output tokens, cost units, then per fallback counter: key, kind, expire_at_ms.
# A held reservation trades its hold for the actual amounts (the request stays counted);
# one already gone (expired or released) adds the actual amounts to the fallback counters.
COMMIT = """
local tokens, units = tonumber(ARGV[2]), tonumber(ARGV[3])
local held = redis.call('HGETALL', KEYS[2])
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
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
for b = 4, #ARGV, 3 do
  local amount = units
  if ARGV[b + 1] == 't' then amount = tokens end
  if amount ~= 0 then
    redis.call('INCRBY', ARGV[b], amount)
    redis.call('PEXPIREAT', ARGV[b], ARGV[b + 2])
  end
end
return 0
"""

# KEYS: deadlines zset, the reservation's hash. ARGV: id. Returns 1 if something was held.
RELEASE = """
local held = redis.call('HGETALL', KEYS[2])
if #held == 0 then return 0 end
for i = 1, #held, 2 do
  local amount = tonumber(string.match(held[i + 1], ':(%-?%d+)$'))
  if amount ~= 0 and redis.call('EXISTS', held[i]) == 1 then
    redis.call('DECRBY', held[i], amount)
  end
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""

_scripts: dict[str, AsyncScript] = {}


async def _run(source: str, keys: list[str], args: list[Any]) -> Any:
    """EVALSHA ``source`` (loaded on first NOSCRIPT); Redis down = 503."""
    try:
        client = redis.client()
        script = _scripts.get(source)
        if script is None or script.registered_client is not client:
            script = _scripts[source] = client.register_script(source)
        return await script(keys=keys, args=args)
    except down_errors() as e:
        raise Unavailable("redis", retry_after=2) from e


def _keys(reservation_id: str) -> list[str]:
    return [redis.key("rsv-deadlines"), redis.key("rsv", reservation_id)]


async def reserve(
    reservation_id: str, entries: list[Entry], *, now_ms: int, deadline_ms: int
) -> tuple[bool, str, int]:
    """Hold every entry's amount atomically, or none: ``(admitted, limit name, retry ms)``."""
    keep_until = max([deadline_ms, *(e.expire_at_ms for e in entries)]) + 60_000
    args: list[Any] = [now_ms, deadline_ms, reservation_id, redis.key("rsv", ""), RECLAIM_BATCH]
    args.append(keep_until)
    for e in entries:
        args.extend((e.key, e.kind, e.limit, e.amount, e.expire_at_ms, e.name))
    answer = await _run(RESERVE, _keys(reservation_id), args)
    if int(answer[0]) == 1:
        return True, "", 0
    name = answer[1].decode() if isinstance(answer[1], bytes) else str(answer[1])
    return False, name, int(answer[2])


async def reclaim(*, now_ms: int) -> None:
    """Give back what expired reservations still hold (the reserve script with no counters)."""
    await _run(RESERVE, _keys("-"), [now_ms, 0, "-", redis.key("rsv", ""), RECLAIM_BATCH, 0])


async def commit(
    reservation_id: str, *, tokens: int, cost_units: int, fallback: list[Entry]
) -> bool:
    """Trade the hold for actual usage; True if the reservation was still held."""
    args: list[Any] = [reservation_id, tokens, cost_units]
    for e in fallback:
        args.extend((e.key, e.kind, e.expire_at_ms))
    return int(await _run(COMMIT, _keys(reservation_id), args)) == 1


async def release(reservation_id: str) -> bool:
    """Give the hold back; False if nothing was held (committed, released or expired)."""
    return int(await _run(RELEASE, _keys(reservation_id), [reservation_id])) == 1


async def current(keys: list[str]) -> list[int]:
    """The counters' values (0 when absent)."""
    if not keys:
        return []
    try:
        values = await redis.client().mget(keys)
    except down_errors() as e:
        raise Unavailable("redis", retry_after=2) from e
    return [int(v) if v is not None else 0 for v in values]
