"""cache owns a lazily created Redis client per process; every key carries the prefix."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.config import BaseConfig
from shared.errors import Unavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis


def down_errors() -> tuple[type[BaseException], ...]:
    """Exceptions meaning Redis is unreachable (map them to 503 or fail closed).

    RuntimeError is included because redis-py's asyncio connection raises it ("the
    handler is closed") when the transport drops under a command in flight.
    """
    from redis import exceptions

    return (exceptions.ConnectionError, exceptions.TimeoutError, OSError, RuntimeError)


MAX_CONNECTIONS = 100
"""Redis connections per process (redis-py's default pool size)."""


class Cache:
    """A lazily opened Redis client.

    Args:
        settings: Returns the loaded settings (``REDIS_URL``, ``REDIS_KEY_PREFIX``).
    """

    instances: weakref.WeakSet[Cache] = weakref.WeakSet()
    """Every holder in the process (tests close them all at the end)."""

    def __init__(self, settings: Callable[[], BaseConfig]) -> None:
        self._settings = settings
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        Cache.instances.add(self)

    def settings(self) -> BaseConfig:
        return self._settings()

    def key(self, *parts: str) -> str:
        """``<prefix><service>:<part>:<part>``; the prefix isolates runs and tenants."""
        settings = self._settings()
        return settings.redis_key_prefix + ":".join((settings.service_name, *parts))

    def client(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            from redis.asyncio import BlockingConnectionPool, Redis

            settings = self._settings()
            if settings.redis_url is None:
                raise Unavailable("redis", detail="REDIS_URL is not configured.")
            # Blocking: a burst beyond MAX_CONNECTIONS commands in flight waits (up to the
            # socket timeout) for a connection instead of failing as "Too many connections".
            pool = BlockingConnectionPool.from_url(
                settings.redis_url.get_secret_value(),
                max_connections=MAX_CONNECTIONS,
                timeout=2.0,
                socket_timeout=2.0,
                socket_connect_timeout=2.0,
                health_check_interval=30,
                decode_responses=False,
            )
            self._client = Redis.from_pool(pool)  # closing the client closes the pool
            self._loop = loop
        return self._client

    async def check(self) -> None:
        """Readiness: ``PING``."""
        await self.client().ping()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
