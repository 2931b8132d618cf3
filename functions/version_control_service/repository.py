"""repository holds every SQL statement of version-control-service; it answers typed
records (frozen, slotted dataclasses), never ``asyncpg.Record``."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.errors import Conflict, NotFound

_VERSION = "id, experiment_id, number, sha256, parent_id, message, created_by, created_at, config"
_EXPERIMENT = "id, name, description, created_by, created_at"


@dataclass(frozen=True, slots=True)
class ExperimentRecord:
    id: uuid.UUID
    name: str
    description: str
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class VersionRecord:
    id: uuid.UUID
    experiment_id: uuid.UUID
    number: int
    sha256: str
    parent_id: uuid.UUID | None
    message: str
    created_by: str | None
    created_at: datetime
    config: dict[str, Any]  # the reviewer config (JSONB)

    @classmethod
    def of(cls, row: asyncpg.Record) -> VersionRecord:
        config = row["config"]
        return cls(**{**row, "config": json.loads(config) if isinstance(config, str) else config})


@dataclass(frozen=True, slots=True)
class AliasRecord:
    experiment_id: uuid.UUID
    name: str
    version_id: uuid.UUID
    updated_by: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AliasChangeRecord:
    alias: str
    from_version_id: uuid.UUID | None
    to_version_id: uuid.UUID
    changed_by: str | None
    reason: str
    rollback: bool
    changed_at: datetime


async def create_experiment(
    conn: asyncpg.Connection, *, name: str, description: str, created_by: str | None
) -> ExperimentRecord:
    try:
        row = await conn.fetchrow(
            "insert into experiments (id, name, description, created_by) values ($1, $2, $3, $4)"
            f" returning {_EXPERIMENT}",
            uuid.uuid4(),
            name,
            description,
            created_by,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"An experiment named '{name}' already exists.") from None
    assert row is not None
    return ExperimentRecord(**row)


async def ensure_experiment(conn: asyncpg.Connection, *, name: str) -> uuid.UUID:
    """The id of experiment ``name``, created if missing (concurrent-safe)."""
    await conn.execute(
        "insert into experiments (id, name, description) values ($1, $2, 'Created at start-up')"
        " on conflict (name) do nothing",
        uuid.uuid4(),
        name,
    )
    value = await conn.fetchval("select id from experiments where name = $1", name)
    assert isinstance(value, uuid.UUID)
    return value


async def has_version_and_alias(
    conn: asyncpg.Connection, *, name: str, sha256: str, alias: str
) -> bool:
    """Whether experiment ``name`` holds a version of config ``sha256`` and sets ``alias``:
    one read, no transaction."""
    found = await conn.fetchval(
        "select exists (select 1 from experiments e"
        " join versions v on v.experiment_id = e.id and v.sha256 = $2"
        " join aliases a on a.experiment_id = e.id and a.name = $3"
        " where e.name = $1)",
        name,
        sha256,
        alias,
    )
    return bool(found)


async def experiment(conn: asyncpg.Connection, ref: str) -> ExperimentRecord:
    """An experiment by id or by name."""
    try:
        row = await conn.fetchrow(
            f"select {_EXPERIMENT} from experiments where id = $1", uuid.UUID(ref)
        )
    except ValueError:
        row = await conn.fetchrow(f"select {_EXPERIMENT} from experiments where name = $1", ref)
    if row is None:
        raise NotFound(f"Experiment '{ref[:100]}' does not exist.")
    return ExperimentRecord(**row)


async def list_experiments(
    conn: asyncpg.Connection, *, limit: int, after: str | None
) -> list[ExperimentRecord]:
    rows = await conn.fetch(
        f"select {_EXPERIMENT} from experiments"
        " where $1::text is null or name > $1 order by name limit $2",
        after,
        limit,
    )
    return [ExperimentRecord(**r) for r in rows]


async def insert_version(
    conn: asyncpg.Connection,
    *,
    experiment_id: uuid.UUID,
    sha256: str,
    config_json: str,
    message: str,
    parent_id: uuid.UUID | None,
    created_by: str | None,
) -> tuple[VersionRecord, bool]:
    """Insert the version unless the experiment already has this config; (version, created).

    Numbers are allocated under a row lock on the experiment, so concurrent creators
    get consecutive numbers and an identical config yields the existing version.
    """
    await conn.execute("select 1 from experiments where id = $1 for update", experiment_id)
    existing = await conn.fetchrow(
        f"select {_VERSION} from versions where experiment_id = $1 and sha256 = $2",
        experiment_id,
        sha256,
    )
    if existing is not None:
        return VersionRecord.of(existing), False
    if parent_id is None:
        parent_id = await conn.fetchval(
            "select id from versions where experiment_id = $1 order by number desc limit 1",
            experiment_id,
        )
    elif not await conn.fetchval(
        "select 1 from versions where id = $1 and experiment_id = $2", parent_id, experiment_id
    ):
        raise NotFound(f"Parent version '{parent_id}' is not in this experiment.")
    row = await conn.fetchrow(
        "insert into versions (id, experiment_id, number, sha256, config, message, parent_id,"
        " created_by) values ($1, $2, (select coalesce(max(number), 0) + 1 from versions"
        " where experiment_id = $2), $3, $4::jsonb, $5, $6, $7)"
        f" returning {_VERSION}",
        uuid.uuid4(),
        experiment_id,
        sha256,
        config_json,
        message,
        parent_id,
        created_by,
    )
    assert row is not None
    return VersionRecord.of(row), True


async def version(conn: asyncpg.Connection, version_id: uuid.UUID) -> VersionRecord:
    row = await conn.fetchrow(f"select {_VERSION} from versions where id = $1", version_id)
    if row is None:
        raise NotFound(f"Version '{version_id}' does not exist.")
    return VersionRecord.of(row)


async def list_versions(
    conn: asyncpg.Connection, experiment_id: uuid.UUID, *, limit: int, after: int | None
) -> list[VersionRecord]:
    rows = await conn.fetch(
        f"select {_VERSION} from versions where experiment_id = $1"
        " and ($2::int is null or number > $2) order by number limit $3",
        experiment_id,
        after,
        limit,
    )
    return [VersionRecord.of(r) for r in rows]


async def move_alias(
    conn: asyncpg.Connection,
    *,
    experiment_id: uuid.UUID,
    alias: str,
    version_id: uuid.UUID,
    changed_by: str | None,
    reason: str,
    rollback: bool = False,
) -> AliasRecord:
    """Point ``alias`` at ``version_id`` and append the move to its history."""
    if not await conn.fetchval(
        "select 1 from versions where id = $1 and experiment_id = $2", version_id, experiment_id
    ):
        raise NotFound(f"Version '{version_id}' is not in this experiment.")
    previous = await conn.fetchval(
        "select version_id from aliases where experiment_id = $1 and name = $2 for update",
        experiment_id,
        alias,
    )
    row = await conn.fetchrow(
        "insert into aliases (experiment_id, name, version_id, updated_by) values ($1, $2, $3, $4)"
        " on conflict (experiment_id, name) do update set version_id = excluded.version_id,"
        " updated_by = excluded.updated_by, updated_at = now()"
        " returning experiment_id, name, version_id, updated_by, updated_at",
        experiment_id,
        alias,
        version_id,
        changed_by,
    )
    await conn.execute(
        "insert into alias_history (experiment_id, alias, from_version_id, to_version_id,"
        " changed_by, reason, rollback) values ($1, $2, $3, $4, $5, $6, $7)",
        experiment_id,
        alias,
        previous,
        version_id,
        changed_by,
        reason,
        rollback,
    )
    assert row is not None
    return AliasRecord(**row)


async def alias_version(
    conn: asyncpg.Connection, experiment_id: uuid.UUID, alias: str
) -> uuid.UUID:
    value = await conn.fetchval(
        "select version_id from aliases where experiment_id = $1 and name = $2",
        experiment_id,
        alias,
    )
    if not isinstance(value, uuid.UUID):
        raise NotFound(f"Alias '{alias[:100]}' is not set in this experiment.")
    return value


async def list_aliases(conn: asyncpg.Connection, experiment_id: uuid.UUID) -> list[AliasRecord]:
    rows = await conn.fetch(
        "select experiment_id, name, version_id, updated_by, updated_at from aliases"
        " where experiment_id = $1 order by name",
        experiment_id,
    )
    return [AliasRecord(**r) for r in rows]


async def alias_history(
    conn: asyncpg.Connection, experiment_id: uuid.UUID, alias: str, *, limit: int = 200
) -> list[AliasChangeRecord]:
    rows = await conn.fetch(
        "select alias, from_version_id, to_version_id, changed_by, reason, rollback, changed_at"
        " from alias_history where experiment_id = $1 and alias = $2 order by id desc limit $3",
        experiment_id,
        alias,
        limit,
    )
    return [AliasChangeRecord(**r) for r in rows]


async def rollback_target(
    conn: asyncpg.Connection, experiment_id: uuid.UUID, alias: str
) -> uuid.UUID | None:
    """The version before the current one, undoing earlier rollbacks in turn.

    Walking the history newest first, each rollback cancels the regular move before it;
    the first move not cancelled is the one to undo, and its ``from`` is the target. So
    v1 -> v2 -> v3, rollback, rollback lands on v1 (not back on v3).
    """
    await conn.execute(
        "select 1 from aliases where experiment_id = $1 and name = $2 for update",
        experiment_id,
        alias,
    )
    rows = await conn.fetch(
        "select from_version_id, rollback from alias_history where experiment_id = $1"
        " and alias = $2 order by id desc",
        experiment_id,
        alias,
    )
    pending = 0
    for row in rows:
        if row["rollback"]:
            pending += 1
        elif pending:
            pending -= 1
        else:
            target = row["from_version_id"]
            return target if isinstance(target, uuid.UUID) else None
    return None
