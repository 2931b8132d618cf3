"""migrations applies a service's numbered SQL files to its own schema under an advisory lock.

Files are ``<service>/migrations/NNNN_<slug>.sql``, forward-only; each runs in its own
transaction with ``search_path`` set to the service schema, and is recorded with its
SHA-256 in ``<schema>.schema_migrations``. An applied file that changed is an error.

Usage: ``python -m shared.migrations functions/auth_service [...]`` (``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import asyncpg

    from shared.db import Database

logger = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class MigrationError(RuntimeError):
    """A migration file is malformed, or an applied one was edited."""


def pending_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.glob("*.sql"))
    for path in files:
        if not _NAME.match(path.name):
            raise MigrationError(f"Migration '{path.name}' is not named NNNN_<slug>.sql.")
    return files


async def apply(conn: asyncpg.Connection, *, directory: Path, schema: str) -> list[str]:
    """Apply every not-yet-applied file of ``directory`` to ``schema``; returns their names.

    Raises:
        MigrationError: a file name is malformed or an applied file's content changed.
    """
    if not _SCHEMA.match(schema):
        raise MigrationError(f"Schema name '{schema}' is not a plain identifier.")
    files = pending_files(directory)
    await conn.execute("select pg_advisory_lock(hashtext($1))", f"migrations:{schema}")
    try:
        await conn.execute(
            f"create schema if not exists {schema};"
            f"create table if not exists {schema}.schema_migrations ("
            " version text primary key, sha256 text not null,"
            " applied_at timestamptz not null default now())"
        )
        applied = dict(await conn.fetch(f"select version, sha256 from {schema}.schema_migrations"))
        done: list[str] = []
        for path in files:
            sql = path.read_text(encoding="utf-8")
            digest = hashlib.sha256(sql.encode()).hexdigest()
            if path.name in applied:
                if applied[path.name] != digest:
                    raise MigrationError(f"Applied migration '{path.name}' was edited.")
                continue
            async with conn.transaction():
                await conn.execute(f"set local search_path to {schema}, public")
                await conn.execute(sql)
                await conn.execute(
                    f"insert into {schema}.schema_migrations (version, sha256) values ($1, $2)",  # nosec B608
                    path.name,
                    digest,
                )
            logger.info("Applied migration %s to schema %s", path.name, schema)
            done.append(path.name)
        return done
    finally:
        await conn.execute("select pg_advisory_unlock(hashtext($1))", f"migrations:{schema}")


def startup_hook(database: Database, directory: Path) -> Callable[[], Awaitable[None]]:
    """A function start-up hook applying ``directory`` unless ``MIGRATE_ON_START`` is false."""

    async def migrate() -> None:
        settings = database.settings()
        if settings.migrate_on_start:
            async with database.connection() as conn:
                await apply(conn, directory=directory, schema=settings.schema_name)

    return migrate


def schema_for(service_dir: Path) -> str:
    return service_dir.resolve().name


async def migrate(database_url: str, service_dirs: list[Path]) -> dict[str, list[str]]:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        return {
            str(d): await apply(conn, directory=d / "migrations", schema=schema_for(d))
            for d in service_dirs
        }
    finally:
        await conn.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level="INFO", format="%(message)s")
    url = os.environ.get("DATABASE_URL")
    if not url or not argv:
        print(
            "usage: DATABASE_URL=... python -m shared.migrations SERVICE_DIR [...]", file=sys.stderr
        )
        return 2
    from shared.config import REF_PREFIX, resolve_reference

    if url.startswith(REF_PREFIX):
        url = resolve_reference(url)
    result = asyncio.run(migrate(url, [Path(a) for a in argv]))
    for service, names in result.items():
        print(f"{service}: {len(names)} migration(s) applied {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
