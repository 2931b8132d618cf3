"""limiter slows password guessing with backoff, never with a lock an attacker can set.

Every attempt is counted *before* its password is checked (an attempt is a failure until
it succeeds), in three Redis counters at once, by one Lua script:

* the account from this address (``LOGIN_MAX_FAILURES_PER_ACCOUNT`` free failures),
* the account from every address (``LOGIN_ACCOUNT_WIDE_FAILURES``),
* the address, across accounts (``LOGIN_MAX_FAILURES_PER_IP``).

Past its free failures a counter asks for a delay since its last attempt, doubling from
1 s: up to ``LOGIN_WINDOW_SECONDS`` for the two an attacker owns (their address), but only
up to ``LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS`` (60 s) account-wide, so a stranger failing on
purpose can slow the owner's login by a minute at most instead of locking them out for
15. An attempt refused by a delay is a 429 with ``Retry-After`` and is not counted, and
because counting comes first, twenty concurrent guesses are twenty attempts: only the free
ones are checked. A success gives its attempt back and clears the account's counters.
Counters expire ``LOGIN_WINDOW_SECONDS`` after the last attempt. If Redis is down, logins
fail closed (503).

The client address comes only from the hop we trust: the peer, unless the peer is one of
``TRUSTED_PROXIES``, in which case ``X-Forwarded-For`` is read from the right, past every
trusted proxy, to the first address they did not add. In a Knative pod the peer is always
the queue-proxy on loopback (behind an Istio sidecar too: its inbound hop comes from
127.0.0.6), which appends the address it was called from; so there (``K_SERVICE`` set)
the default trusts loopback, and the cluster adds its ingress and activator pods
(knative/base/config.yaml). Elsewhere (``make run``) a loopback peer may be any local
client, and nothing is trusted by default. A caller reaching the container port from
another pod is not on loopback: its own ``X-Forwarded-For`` is ignored.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from functools import cache

from starlette.requests import Request

from functions.auth_service.context import redis
from functions.auth_service.settings import settings
from shared.cache import down_errors
from shared.errors import RateLimited, Unavailable

_ATTEMPT = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  local free = tonumber(ARGV[1 + 2 * i])
  local cap = tonumber(ARGV[2 + 2 * i])
  local state = redis.call('HMGET', key, 'n', 'last')
  local n = tonumber(state[1] or '0')
  if n >= free then
    local delay = math.min(1000 * 2 ^ (n - free), cap)
    local wait = tonumber(state[2] or '0') + delay - now
    if wait > 0 then return {0, wait, i} end
  end
end
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'n', 1)
  redis.call('HSET', key, 'last', now)
  redis.call('EXPIRE', key, window)
end
return {1, 0, 0}
"""
_WHY = {
    1: "Too many failed logins for this account from this address.",
    2: "Too many failed logins for this account.",
    3: "Too many failed logins from this address.",
}


@cache
def _networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip()
    )


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _networks(settings().trusted_hops))


def client_ip(request: Request) -> str:
    """The caller's address, from the hop we trust (see the module docstring)."""
    peer = request.client.host if request.client else "unknown"
    if not _trusted(peer):
        return peer
    hops = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop):
            return hop[:64]
    return peer


def _keys(account: str, ip: str) -> list[str]:
    digest = hashlib.sha256(account.encode()).hexdigest()[:32]
    return [
        redis.key("login", "pair", digest, ip),
        redis.key("login", "account", digest),
        redis.key("login", "ip", ip),
    ]


async def attempt(*, account: str, ip: str) -> None:
    """Count one login attempt, or refuse it while a counter asks for a delay.

    Raises:
        RateLimited: a delay is running (``Retry-After`` = seconds until it ends).
        Unavailable: Redis is down (fail closed).
    """
    config = settings()
    window_ms = config.login_window_seconds * 1000
    limits = [
        (config.login_max_failures_per_account, window_ms),
        (config.login_account_wide_failures, config.login_account_backoff_max_seconds * 1000),
        (config.login_max_failures_per_ip, window_ms),
    ]
    args: list[int] = [int(time.time() * 1000), config.login_window_seconds]
    for free, cap in limits:
        args += [free, cap]
    try:
        allowed, wait_ms, which = await redis.client().eval(_ATTEMPT, 3, *_keys(account, ip), *args)
    except down_errors() as e:
        raise Unavailable("redis") from e
    if not allowed:
        raise RateLimited(_WHY[int(which)], retry_after=max(math.ceil(float(wait_ms) / 1000), 1))


async def succeeded(*, account: str, ip: str) -> None:
    """The attempt was right: clear the account's counters, give the address its attempt."""
    pair, account_key, ip_key = _keys(account, ip)
    try:
        pipe = redis.client().pipeline(transaction=False)
        pipe.delete(pair, account_key)
        pipe.hincrby(ip_key, "n", -1)
        await pipe.execute()
    except down_errors() as e:
        raise Unavailable("redis") from e
