"""Tests of shared/migrations.py on the real PostgreSQL, one fresh schema per test."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from shared import migrations
from shared.migrations import MigrationError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def schema() -> str:
    return f"t_{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture
async def conn(database_url: str, schema: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.execute(f"drop schema if exists {schema} cascade")
    await connection.close()


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


INIT = "create table widgets (id int primary key, name text not null);"
SECOND = "alter table widgets add column color text; insert into widgets values (1, 'a', 'red');"


async def recorded(conn: asyncpg.Connection, schema: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(f"select version, sha256 from {schema}.schema_migrations order by 1")
    return [(r["version"], r["sha256"]) for r in rows]


async def test_files_apply_in_order_into_the_schema_with_their_digest(
    conn: asyncpg.Connection, schema: str, tmp_path: Path
) -> None:
    folder = write(tmp_path, {"0002_color.sql": SECOND, "0001_init.sql": INIT})
    assert await migrations.apply(conn, directory=folder, schema=schema) == [
        "0001_init.sql",
        "0002_color.sql",
    ]
    assert await recorded(conn, schema) == [
        ("0001_init.sql", hashlib.sha256(INIT.encode()).hexdigest()),
        ("0002_color.sql", hashlib.sha256(SECOND.encode()).hexdigest()),
    ]
    row = await conn.fetchrow(f"select id, name, color from {schema}.widgets")
    assert tuple(row) == (1, "a", "red"), "unqualified names land in the service schema"


async def test_a_second_run_applies_nothing_and_a_new_file_only_it(
    conn: asyncpg.Connection, schema: str, tmp_path: Path
) -> None:
    folder = write(tmp_path, {"0001_init.sql": INIT})
    await migrations.apply(conn, directory=folder, schema=schema)
    assert await migrations.apply(conn, directory=folder, schema=schema) == []
    write(folder, {"0002_color.sql": SECOND})
    assert await migrations.apply(conn, directory=folder, schema=schema) == ["0002_color.sql"]


async def test_an_edited_applied_file_is_refused(
    conn: asyncpg.Connection, schema: str, tmp_path: Path
) -> None:
    folder = write(tmp_path, {"0001_init.sql": INIT})
    await migrations.apply(conn, directory=folder, schema=schema)
    write(folder, {"0001_init.sql": INIT + "\n-- edited", "0002_color.sql": SECOND})
    with pytest.raises(MigrationError, match="'0001_init.sql' was edited"):
        await migrations.apply(conn, directory=folder, schema=schema)
    assert [v for v, _ in await recorded(conn, schema)] == ["0001_init.sql"]


@pytest.mark.parametrize("name", ["1_init.sql", "0001-init.sql", "0001_Init.sql", "init.sql"])
async def test_a_badly_named_file_is_refused(
    conn: asyncpg.Connection, schema: str, tmp_path: Path, name: str
) -> None:
    folder = write(tmp_path, {"0001_init.sql": INIT, name: "select 1;"})
    with pytest.raises(MigrationError, match="is not named NNNN_<slug>.sql"):
        await migrations.apply(conn, directory=folder, schema=schema)


async def test_a_schema_that_is_not_an_identifier_is_refused(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    with pytest.raises(MigrationError, match="not a plain identifier"):
        await migrations.apply(conn, directory=tmp_path, schema="x; drop table y")


async def test_a_failing_file_rolls_back_entirely(
    conn: asyncpg.Connection, schema: str, tmp_path: Path
) -> None:
    broken = "create table gadgets (id int); select * from no_such_table;"
    folder = write(tmp_path, {"0001_init.sql": INIT, "0002_broken.sql": broken})
    with pytest.raises(asyncpg.UndefinedTableError):
        await migrations.apply(conn, directory=folder, schema=schema)
    assert [v for v, _ in await recorded(conn, schema)] == ["0001_init.sql"]
    gadgets = await conn.fetchval("select to_regclass($1)", f"{schema}.gadgets")
    assert gadgets is None, "the failed file's table must not exist"
    locked = await conn.fetchval(
        "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()"
    )
    assert locked == 0, "the advisory lock is released after a failure"


async def test_concurrent_runs_apply_each_file_exactly_once(
    conn: asyncpg.Connection, database_url: str, schema: str, tmp_path: Path
) -> None:
    slow = "select pg_sleep(0.2); create table slow (id int);"
    folder = write(tmp_path, {"0001_init.sql": INIT, "0002_slow.sql": slow})
    other = await asyncpg.connect(database_url)
    try:
        results = await asyncio.gather(
            migrations.apply(conn, directory=folder, schema=schema),
            migrations.apply(other, directory=folder, schema=schema),
        )
    finally:
        await other.close()
    assert sorted(results, key=len) == [[], ["0001_init.sql", "0002_slow.sql"]], results
    assert len(await recorded(conn, schema)) == 2


async def test_startup_hook_respects_migrate_on_start(
    conn: asyncpg.Connection, schema: str, tmp_path: Path, database_url: str
) -> None:
    from shared import config, db

    folder = write(tmp_path, {"0001_init.sql": INIT})
    os.environ.update(
        {"SERVICE_NAME": schema, "DATABASE_URL": database_url, "MIGRATE_ON_START": "false"}
    )
    database = db.Database(lambda: config.load(config.BaseConfig))
    try:
        await migrations.startup_hook(database, folder)()
        assert await conn.fetchval("select to_regclass($1)", f"{schema}.widgets") is None
        config.reset_caches()
        os.environ["MIGRATE_ON_START"] = "true"
        await migrations.startup_hook(database, folder)()
        assert await recorded(conn, schema) != []
    finally:
        await database.close()


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.migrations", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_cli_applies_a_service_folder_into_its_own_schema(
    conn: asyncpg.Connection, schema: str, tmp_path: Path, database_url: str
) -> None:
    service = tmp_path / schema
    write(service / "migrations", {"0001_init.sql": INIT})
    done = await asyncio.to_thread(_cli, [str(service)], {"DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr
    assert f"{service}: 1 migration(s) applied ['0001_init.sql']" in done.stdout
    assert [v for v, _ in await recorded(conn, schema)] == ["0001_init.sql"]
    again = await asyncio.to_thread(_cli, [str(service)], {"DATABASE_URL": database_url})
    assert "0 migration(s) applied" in again.stdout


def test_cli_without_database_url_prints_usage() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "shared.migrations", "functions/auth_service"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "usage: DATABASE_URL=... python -m shared.migrations" in done.stderr
