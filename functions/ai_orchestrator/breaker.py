"""breaker keeps one circuit per provider in Redis, so every orchestrator instance agrees.

Fed only by real call outcomes (no probe calls, nothing woken up): ``closed`` opens after
``BREAKER_FAILURES`` failures within ``BREAKER_WINDOW_SECONDS``; ``open`` turns
``half_open`` once ``BREAKER_COOLDOWN_SECONDS`` have passed, and then admits one trial
call at a time (a ``SET NX`` lease); the trial's success closes the circuit, its failure
opens it again. Every transition is one Lua script reading Redis' own clock, so two
instances never race or disagree about time.

Redis down: every provider counts as closed (reviews go on; the outage is logged).
A provider's cooldown (its ``Retry-After``) is a plain key with that TTL.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Literal

from functions.ai_orchestrator.context import redis
from functions.ai_orchestrator.settings import settings
from shared.cache import down_errors

logger = logging.getLogger(__name__)
State = Literal["closed", "open", "half_open"]
_TTL_MS = 24 * 3600 * 1000  # idle circuits vanish; absent = closed

# KEYS: circuit hash, trial lease, cooldown. ARGV: cooldown ms, lease ms, ttl ms.
# Returns {allowed 0|1, state, trial 0|1, cooling until (epoch seconds) or ''}: a provider
# in its cooldown is refused without touching its circuit; one round trip either way.
_ALLOW = """
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local cooling = redis.call('GET', KEYS[3])
if cooling then return {0, state, 0, cooling} end
if state == 'closed' then return {1, 'closed', 0, ''} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if state == 'open' then
  local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0')
  if now < opened + tonumber(ARGV[1]) then return {0, 'open', 0, ''} end
  redis.call('HSET', KEYS[1], 'state', 'half_open')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return {1, 'half_open', 1, ''} end
return {0, 'half_open', 0, ''}
"""

# KEYS: circuit hash, failure zset, trial lease. ARGV: window ms, threshold, ttl ms, id.
# Returns the state after the failure.
_FAILURE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'open' then return 'open' end
if state == 'half_open' then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('DEL', KEYS[3])
  return 'open'
end
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[1]))
redis.call('PEXPIRE', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('DEL', KEYS[2])
  return 'open'
end
return 'closed'
"""

# KEYS: circuit hash, failure zset, trial lease. Closes a half-open circuit.
_SUCCESS = """
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'half_open' then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 'closed'
end
return state
"""

# KEYS: circuit hash. ARGV: cooldown ms. The state a caller would meet now.
_STATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'open' then
  local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0')
  if now >= opened + tonumber(ARGV[1]) then return 'half_open' end
end
return state
"""


@dataclass(frozen=True)
class Permit:
    """Whether a call may go to the provider now; ``trial`` marks the half-open probe;
    ``cooling_until`` (epoch seconds) when the provider's own Retry-After still runs."""

    allowed: bool
    state: State
    trial: bool = False
    cooling_until: float | None = None


def _keys(provider: str) -> tuple[str, str, str]:
    return (
        redis.key("breaker", provider),
        redis.key("breaker", provider, "failures"),
        redis.key("breaker", provider, "trial"),
    )


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


async def allow(provider: str, *, lease_seconds: float) -> Permit:
    """May a call go to ``provider``? Not while it cools down (its Retry-After); in
    half-open, only the holder of the trial lease."""
    circuit, _, trial = _keys(provider)
    config = settings()
    try:
        allowed, state, is_trial, cooling = await redis.client().eval(
            _ALLOW,
            3,
            circuit,
            trial,
            redis.key("cooldown", provider),
            _ms(config.breaker_cooldown_seconds),
            _ms(lease_seconds),
            _TTL_MS,
        )
    except down_errors():
        logger.warning("Redis is down: treating provider '%s' as closed", provider)
        return Permit(True, "closed")
    until = float(cooling) if cooling else None
    return Permit(bool(allowed), _text(state), bool(is_trial), until)  # type: ignore[arg-type]


async def failure(provider: str) -> State:
    """Count a failed call; answers the state after it."""
    circuit, failures, trial = _keys(provider)
    config = settings()
    try:
        state = await redis.client().eval(
            _FAILURE,
            3,
            circuit,
            failures,
            trial,
            _ms(config.breaker_window_seconds),
            config.breaker_failures,
            _TTL_MS,
            f"{time.time_ns()}",
        )
    except down_errors():
        logger.warning("Redis is down: failure of provider '%s' not counted", provider)
        return "closed"
    return _text(state)  # type: ignore[return-value]


async def success(provider: str) -> None:
    """A call succeeded: a half-open circuit closes."""
    try:
        await redis.client().eval(_SUCCESS, 3, *_keys(provider))
    except down_errors():
        logger.warning("Redis is down: success of provider '%s' not recorded", provider)


async def abandon(provider: str) -> None:
    """Give back a trial lease that was never used (the call did not happen)."""
    try:
        await redis.client().delete(_keys(provider)[2])
    except down_errors():
        pass


async def states(providers: list[str]) -> dict[str, State]:
    """The state each provider's callers meet now (``half_open`` once the cooldown ended)."""
    cooldown = _ms(settings().breaker_cooldown_seconds)
    answer: dict[str, State] = {}
    for provider in providers:
        try:
            state = await redis.client().eval(_STATE, 1, _keys(provider)[0], cooldown)
        except down_errors():
            state = b"closed"
        answer[provider] = _text(state)  # type: ignore[assignment]
    return answer


async def cool_down(provider: str, seconds: float) -> float:
    """Skip ``provider`` for ``seconds`` (capped by ``MAX_COOLDOWN_SECONDS``); the seconds set."""
    seconds = min(seconds, settings().max_cooldown_seconds)
    if seconds <= 0:
        return 0.0
    until = time.time() + seconds
    try:
        await redis.client().set(redis.key("cooldown", provider), f"{until:.3f}", px=_ms(seconds))
    except down_errors():
        logger.warning("Redis is down: cooldown of provider '%s' not stored", provider)
    return seconds


async def cooling_until(providers: list[str]) -> dict[str, float]:
    """Epoch seconds until which each cooling provider is skipped (absent = not cooling)."""
    if not providers:
        return {}
    try:
        values = await redis.client().mget([redis.key("cooldown", p) for p in providers])
    except down_errors():
        return {}
    return {p: float(v) for p, v in zip(providers, values, strict=True) if v is not None}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
