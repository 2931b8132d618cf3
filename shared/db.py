"""db owns a lazily created asyncpg pool per process, scoped to the service's schema."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from shared.config import BaseConfig
from shared.errors import Unavailable

if TYPE_CHECKING:
    import asyncpg

logger = logging.getLogger(__name__)


def _down_errors() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (
        OSError,
        TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
    )


def _busy_errors() -> tuple[type[BaseException], ...]:
    """Server errors that say "try again", not "your request is wrong": a statement
    cancelled by ``statement_timeout``, a lock not granted in time, a deadlock victim,
    a serialization failure. They surface as a 503 with a short ``Retry-After``."""
    import asyncpg

    return (
        asyncpg.QueryCanceledError,
        asyncpg.LockNotAvailableError,
        asyncpg.DeadlockDetectedError,
        asyncpg.SerializationError,
    )


async def _rollback_if_needed(conn: asyncpg.Connection) -> None:
    """Pool release hook: end a transaction left open, and nothing else.

    asyncpg's default runs ``RESET ALL; UNLISTEN *; ...`` on every release, one more
    round trip per request. The functions set no session state (``SET LOCAL`` only, in
    transactions) and release every advisory lock they take, so only an open
    transaction can leak, and that costs a round trip only when it happens.
    """
    if conn.is_in_transaction():
        await conn.execute("rollback")


class Database:
    """A lazily opened pool; connection failures surface as ``Unavailable("database")``.

    Args:
        settings: Returns the loaded settings (``DATABASE_URL``, pool size, timeouts).
    """

    instances: weakref.WeakSet[Database] = weakref.WeakSet()
    """Every holder in the process (tests close them all at the end)."""

    def __init__(self, settings: Callable[[], BaseConfig]) -> None:
        Database.instances.add(self)
        self._settings = settings
        self._pool: asyncpg.Pool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    def settings(self) -> BaseConfig:
        return self._settings()

    async def pool(self) -> asyncpg.Pool:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._loop is loop:
            return self._pool
        if self._lock is None or self._loop is not loop:
            self._lock, self._pool, self._loop = asyncio.Lock(), None, loop
        async with self._lock:
            if self._pool is None:
                self._pool = await self._create()
        return self._pool

    async def _create(self) -> asyncpg.Pool:
        import asyncpg

        settings = self._settings()
        if settings.database_url is None:
            raise Unavailable("database", detail="DATABASE_URL is not configured.")
        try:
            pool = await asyncpg.create_pool(
                settings.database_url.get_secret_value(),
                min_size=1,
                max_size=settings.db_pool_max_size,
                timeout=settings.db_connect_timeout_seconds,
                command_timeout=settings.db_statement_timeout_ms / 1000 + 1,
                reset=_rollback_if_needed,
                server_settings={
                    "search_path": f"{settings.schema_name},public",
                    "statement_timeout": str(settings.db_statement_timeout_ms),
                    "application_name": settings.service_name,
                },
            )
        except _down_errors() as e:
            raise Unavailable("database") from e
        assert pool is not None
        return pool

    def connection(self) -> _Pooled:
        """A pooled connection (``async with``); a lost database becomes a 503 problem, and
        so does an overloaded one (a statement timeout, a lock wait, a deadlock) that the
        caller did not handle itself: the client retries after a second instead of seeing
        a 500."""
        return _Pooled(self)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def check(self) -> None:
        """Readiness: ``select 1`` on a pooled connection."""
        async with self.connection() as conn:
            await conn.fetchval("select 1")

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=5)
            except _down_errors():
                pool.terminate()

    async def execute(self, query: str, *args: Any) -> str:
        async with self.connection() as conn:
            result: str = await conn.execute(query, *args)
            return result


class _Pooled:
    """``Database.connection()``: acquire, hand out, release, and map the errors.

    A class rather than an ``asynccontextmanager`` generator, and the acquire timeout only
    when it can matter: every request takes a connection, and asyncpg's
    ``acquire(timeout=)`` wraps even an immediate acquire in ``wait_for`` (a task per
    call). With an idle connection in the pool the acquire returns without waiting (a
    holder that must reconnect is bounded by the pool's connect timeout); only when every
    connection is busy does the wait get ``db_connect_timeout_seconds``.
    """

    __slots__ = ("_conn", "_database", "_pool")

    def __init__(self, database: Database) -> None:
        self._database = database
        self._pool: asyncpg.Pool | None = None
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        try:
            pool = self._pool = await self._database.pool()
            if pool.get_idle_size():
                self._conn = await pool.acquire()
            else:
                timeout = self._database.settings().db_connect_timeout_seconds
                async with asyncio.timeout(timeout):
                    self._conn = await pool.acquire()
        except _down_errors() as e:
            raise Unavailable("database") from e
        return self._conn

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: Any
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pool is not None:
            try:
                await self._pool.release(conn)
            except _down_errors() as e:
                if error is None:
                    raise Unavailable("database") from e
        if error is None or not isinstance(error, Exception):
            return
        if isinstance(error, _busy_errors()):
            logger.warning("Database busy: %s", error.__class__.__name__)
            raise Unavailable(
                "database", retry_after=1, detail="The database is busy; retry shortly."
            ) from error
        if isinstance(error, _down_errors()):
            raise Unavailable("database") from error
