"""Tests of shared/db.py on the real PostgreSQL: lazy pool, schema, timeouts, outages."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from localdev import local
from shared import config, db
from shared.errors import Unavailable


def _database(**env: str) -> db.Database:
    os.environ.update(env)
    config.reset_caches()
    return db.Database(lambda: config.load(config.BaseConfig))


@pytest.fixture
def service() -> str:
    return f"db-test-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture
async def database(database_url: str, service: str) -> AsyncIterator[db.Database]:
    handle = _database(
        SERVICE_NAME=service, DATABASE_URL=database_url, DB_STATEMENT_TIMEOUT_MS="200"
    )
    yield handle
    await handle.close()


async def _sessions(database_url: str, name: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        count: int = await conn.fetchval(
            "select count(*) from pg_stat_activity where application_name = $1", name
        )
        return count
    finally:
        await conn.close()


async def test_pool_opens_on_first_use_only(
    database: db.Database, database_url: str, service: str
) -> None:
    assert await _sessions(database_url, service) == 0, "no connection before first use"
    await database.check()
    assert await _sessions(database_url, service) >= 1
    first = await database.pool()
    assert await database.pool() is first, "one pool per process and loop"


async def test_connections_use_the_service_schema(database: db.Database, service: str) -> None:
    async with database.connection() as conn:
        path = await conn.fetchval("show search_path")
    assert path == f"{service.replace('-', '_')},public"


async def test_statement_timeout_cancels_long_queries(database: db.Database) -> None:
    async with database.connection() as conn:
        assert await conn.fetchval("show statement_timeout") == "200ms"
        with pytest.raises(asyncpg.QueryCanceledError):
            await conn.execute("select pg_sleep(2)")


async def test_an_unhandled_statement_timeout_is_a_retryable_503(database: db.Database) -> None:
    with pytest.raises(Unavailable) as caught:
        async with database.connection() as conn:
            await conn.execute("select pg_sleep(2)")
    error = caught.value
    assert (error.status, error.headers["Retry-After"]) == (503, "1")
    assert error.reason == "The database is busy; retry shortly."  # logged, not answered
    assert isinstance(error.__cause__, asyncpg.QueryCanceledError)
    async with database.connection() as conn:  # the connection went back to the pool usable
        assert await conn.fetchval("select 1") == 1


async def test_a_deadlock_victim_is_a_retryable_503(database: db.Database) -> None:
    table = f"public.dl_{uuid.uuid4().hex[:8]}"
    await database.execute(f"create table {table} (id int primary key, n int)")
    await database.execute(f"insert into {table} values (1, 0), (2, 0)")
    both_locked = asyncio.Barrier(2)

    async def update(first: int, second: int) -> None:
        async with database.transaction() as conn:
            await conn.execute("set local statement_timeout = '5s'")
            await conn.execute(f"update {table} set n = n + 1 where id = $1", first)
            await both_locked.wait()
            await conn.execute(f"update {table} set n = n + 1 where id = $1", second)

    try:
        results = await asyncio.gather(update(1, 2), update(2, 1), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert len(failures) == 1, results
        assert isinstance(failures[0], Unavailable)
        assert failures[0].headers["Retry-After"] == "1"
        assert isinstance(failures[0].__cause__, asyncpg.DeadlockDetectedError)
        async with database.connection() as conn:  # the victim's transaction rolled back
            assert await conn.fetchval(f"select sum(n) from {table}") == 2
    finally:
        await database.execute(f"drop table {table}")


async def test_transaction_rolls_back_on_error(database: db.Database, service: str) -> None:
    table = f"public.tx_{uuid.uuid4().hex[:8]}"
    await database.execute(f"create table {table} (id int)")
    try:
        with pytest.raises(RuntimeError):
            async with database.transaction() as conn:
                await conn.execute(f"insert into {table} values (1)")
                raise RuntimeError("abort")
        async with database.connection() as conn:
            assert await conn.fetchval(f"select count(*) from {table}") == 0
    finally:
        await database.execute(f"drop table {table}")


async def test_unreachable_database_is_unavailable_with_retry_after(service: str) -> None:
    url = f"postgresql://postgres@127.0.0.1:{local.free_port()}/nothing"
    database = _database(SERVICE_NAME=service, DATABASE_URL=url, DB_CONNECT_TIMEOUT_SECONDS="1")
    with pytest.raises(Unavailable) as caught:
        await database.check()
    error = caught.value
    assert error.status == 503
    assert error.headers["Retry-After"] == "5"
    assert error.dependency == "database"
    assert "127.0.0.1" not in error.detail, "the URL stays out of the answer"


async def test_missing_database_url_is_unavailable_naming_the_setting(service: str) -> None:
    os.environ.pop("DATABASE_URL", None)
    database = _database(SERVICE_NAME=service)
    with pytest.raises(Unavailable, match="DATABASE_URL is not configured"):
        await database.check()


async def test_close_without_a_pool_is_harmless(service: str) -> None:
    database = _database(SERVICE_NAME=service)
    await database.close()
    await database.close()


async def test_a_pool_with_every_connection_busy_waits_the_connect_timeout_then_503(
    database_url: str, service: str
) -> None:
    """The acquire is bounded only when it must wait: one connection, held, and a second
    request gets a 503 after ``DB_CONNECT_TIMEOUT_SECONDS``, not a hang; released, the
    connection serves the next one."""
    database = _database(
        SERVICE_NAME=service,
        DATABASE_URL=database_url,
        DB_POOL_MAX_SIZE="1",
        DB_CONNECT_TIMEOUT_SECONDS="1",
    )
    try:
        async with database.connection() as held:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(Unavailable) as caught:
                async with database.connection():
                    pytest.fail("a second connection from a pool of one")
            waited = loop.time() - started
            assert caught.value.dependency == "database"
            assert 0.9 <= waited < 5, waited
            assert await held.fetchval("select 1") == 1, "the holder keeps its connection"
        async with database.connection() as again:
            assert await again.fetchval("select 2") == 2
    finally:
        await database.close()
