"""limiter slows password guessing: failures counted per account and per client IP in Redis.

Each failed login increments two counters that expire ``LOGIN_WINDOW_SECONDS`` after
the first failure; once a counter reaches its limit, logins for that account (or from
that IP) answer 429 with ``Retry-After`` until it expires. A success clears the
account's counter. If Redis is down, logins fail closed (503).
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request

from functions.auth_service.context import redis
from functions.auth_service.settings import settings
from shared.cache import down_errors
from shared.errors import RateLimited, Unavailable

_INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


def client_ip(request: Request) -> str:
    """The caller's IP: trusted proxies' ``X-Forwarded-For`` entries are skipped from the right."""
    hops = settings().trusted_proxy_hops
    forwarded = [
        p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()
    ]
    if hops and forwarded:
        return forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
    return request.client.host if request.client else "unknown"


def _keys(account: str, ip: str) -> tuple[str, str]:
    digest = hashlib.sha256(account.encode()).hexdigest()[:32]
    return redis.key("login-fail", "account", digest), redis.key("login-fail", "ip", ip)


async def check(*, account: str, ip: str) -> None:
    """Refuse when the account or the IP has too many recent failures.

    Raises:
        RateLimited: a limit is reached (``Retry-After`` = seconds until it lifts).
        Unavailable: Redis is down (fail closed).
    """
    config = settings()
    account_key, ip_key = _keys(account, ip)
    try:
        client = redis.client()
        async with client.pipeline(transaction=False) as pipe:
            for key in (account_key, ip_key):
                pipe.get(key)
                pipe.ttl(key)
            acc_n, acc_ttl, ip_n, ip_ttl = await pipe.execute()
    except down_errors() as e:
        raise Unavailable("redis") from e
    if acc_n is not None and int(acc_n) >= config.login_max_failures_per_account:
        raise RateLimited(
            "Too many failed logins for this account.", retry_after=max(int(acc_ttl), 1)
        )
    if ip_n is not None and int(ip_n) >= config.login_max_failures_per_ip:
        raise RateLimited(
            "Too many failed logins from this address.", retry_after=max(int(ip_ttl), 1)
        )


async def failed(*, account: str, ip: str) -> None:
    window = settings().login_window_seconds
    try:
        pipe = redis.client().pipeline(transaction=False)  # both counters, one round trip
        for key in _keys(account, ip):
            pipe.eval(_INCR, 1, key, window)
        await pipe.execute()
    except down_errors() as e:
        raise Unavailable("redis") from e


async def succeeded(*, account: str) -> None:
    try:
        await redis.client().delete(_keys(account, "")[0])
    except down_errors() as e:
        raise Unavailable("redis") from e
