"""repository holds every SQL statement of project-service; it answers typed records
(frozen, slotted dataclasses), never ``asyncpg.Record``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.errors import NotFound

# The longest-standing owner stands for the project in ``owner_id``.
_OWNER = (
    "(select m.user_id from members m where m.project_id = p.id and m.role = 'owner'"
    " order by m.created_at, m.user_id limit 1) as owner_id"
)
_PROJECT = f"p.id, p.name, p.description, p.created_at, p.updated_at, {_OWNER}"
_MEMBER = "project_id, user_id, role, created_at"
_FILE = "path, sha256, size, language"
_SNAPSHOT = "id, project_id, tree_sha256, file_count, total_bytes, created_at"


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    id: uuid.UUID
    name: str
    description: str
    created_at: datetime
    updated_at: datetime
    owner_id: uuid.UUID | None  # the longest-standing owner


@dataclass(frozen=True, slots=True)
class MemberRecord:
    project_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file of the project (or of a snapshot), without its content."""

    path: str
    sha256: str
    size: int
    language: str | None


@dataclass(frozen=True, slots=True)
class FileContent:
    path: str
    sha256: str
    language: str | None
    content: bytes


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    id: uuid.UUID
    project_id: uuid.UUID
    tree_sha256: str
    file_count: int
    total_bytes: int
    created_at: datetime


# ---------------------------------------------------------------- projects and members


async def projects_created_by(conn: asyncpg.Connection, user_id: uuid.UUID) -> int:
    """Projects the user created and that still exist, under a per-user transaction lock
    (a burst of creations cannot all see the same count)."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 11))", str(user_id))
    return int(await conn.fetchval("select count(*) from projects where created_by = $1", user_id))


async def create_project(
    conn: asyncpg.Connection, *, name: str, description: str, owner: uuid.UUID
) -> ProjectRecord:
    project_id = uuid.uuid4()
    await conn.execute(
        "insert into projects (id, name, description, created_by) values ($1, $2, $3, $4)",
        project_id,
        name,
        description,
        owner,
    )
    await conn.execute(
        "insert into members (project_id, user_id, role) values ($1, $2, 'owner')",
        project_id,
        owner,
    )
    return await project(conn, project_id)


async def project(conn: asyncpg.Connection, project_id: uuid.UUID) -> ProjectRecord:
    row = await conn.fetchrow(f"select {_PROJECT} from projects p where p.id = $1", project_id)
    if row is None:
        raise NotFound(f"Project '{project_id}' does not exist.")
    return ProjectRecord(**row)


async def access(
    conn: asyncpg.Connection, project_id: uuid.UUID, user_id: uuid.UUID | None
) -> tuple[bool, str | None]:
    """``(project exists, the user's role or None)`` in one query."""
    row = await conn.fetchrow(
        "select m.role from projects p left join members m"
        " on m.project_id = p.id and m.user_id = $2 where p.id = $1",
        project_id,
        user_id,
    )
    if row is None:
        return False, None
    return True, row["role"]


async def list_projects(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID | None,
    every: bool,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[tuple[ProjectRecord, str | None]]:
    """Projects of ``user_id`` (or ``every`` project), oldest first, with the user's role."""
    rows = await conn.fetch(
        f"select {_PROJECT}, m.role from projects p"
        " left join members m on m.project_id = p.id and m.user_id = $1"
        " where ($2 or m.user_id is not null)"
        " and ($3::timestamptz is null or (p.created_at, p.id) > ($3, $4))"
        " order by p.created_at, p.id limit $5",
        user_id,
        every,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [(ProjectRecord(**{k: v for k, v in r.items() if k != "role"}), r["role"]) for r in rows]


async def update_project(
    conn: asyncpg.Connection, project_id: uuid.UUID, **changes: Any
) -> ProjectRecord:
    columns = [c for c in ("name", "description") if c in changes]
    assignments = "".join(f"{c} = ${i}, " for i, c in enumerate(columns, start=2))
    result = await conn.execute(
        f"update projects set {assignments}updated_at = now() where id = $1",  # nosec B608
        project_id,
        *(changes[c] for c in columns),
    )
    if result == "UPDATE 0":
        raise NotFound(f"Project '{project_id}' does not exist.")
    return await project(conn, project_id)


async def delete_project(conn: asyncpg.Connection, project_id: uuid.UUID) -> None:
    result = await conn.execute("delete from projects where id = $1", project_id)
    if result == "DELETE 0":
        raise NotFound(f"Project '{project_id}' does not exist.")


async def lock_members(conn: asyncpg.Connection, project_id: uuid.UUID) -> None:
    """Serialize membership changes of one project (the last-owner rule needs it)."""
    await conn.execute("select 1 from projects where id = $1 for update", project_id)


async def member(
    conn: asyncpg.Connection, project_id: uuid.UUID, user_id: uuid.UUID
) -> MemberRecord | None:
    row = await conn.fetchrow(
        f"select {_MEMBER} from members where project_id = $1 and user_id = $2",
        project_id,
        user_id,
    )
    return None if row is None else MemberRecord(**row)


async def count_owners(conn: asyncpg.Connection, project_id: uuid.UUID) -> int:
    return int(
        await conn.fetchval(
            "select count(*) from members where project_id = $1 and role = 'owner'", project_id
        )
    )


async def put_member(
    conn: asyncpg.Connection, project_id: uuid.UUID, user_id: uuid.UUID, *, role: str
) -> MemberRecord:
    row = await conn.fetchrow(
        "insert into members (project_id, user_id, role) values ($1, $2, $3)"
        f" on conflict (project_id, user_id) do update set role = excluded.role"
        f" returning {_MEMBER}",
        project_id,
        user_id,
        role,
    )
    assert row is not None
    return MemberRecord(**row)


async def delete_member(
    conn: asyncpg.Connection, project_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    await conn.execute(
        "delete from members where project_id = $1 and user_id = $2", project_id, user_id
    )


async def sole_ownerships(
    conn: asyncpg.Connection, user_id: uuid.UUID, *, limit: int
) -> tuple[list[ProjectRecord], int]:
    """The projects ``user_id`` is the only owner of (oldest first, at most ``limit``) and
    how many there are: auth-users refuses to delete such a user (they would leave a
    project nobody owns)."""
    sole = (
        "select m.project_id from members m where m.user_id = $1 and m.role = 'owner'"
        " and not exists (select 1 from members o where o.project_id = m.project_id"
        " and o.role = 'owner' and o.user_id <> $1)"
    )
    total = int(await conn.fetchval(f"select count(*) from ({sole}) s", user_id))
    rows = await conn.fetch(
        f"select {_PROJECT} from projects p where p.id in ({sole})"
        " order by p.created_at, p.id limit $2",
        user_id,
        limit,
    )
    return [ProjectRecord(**r) for r in rows], total


async def delete_memberships(conn: asyncpg.Connection, user_id: uuid.UUID) -> int:
    """Remove ``user_id`` from every project (a deleted user); how many rows went."""
    result = await conn.execute("delete from members where user_id = $1", user_id)
    return int(result.split()[-1])


async def list_members(
    conn: asyncpg.Connection, project_id: uuid.UUID, *, limit: int, after: uuid.UUID | None
) -> list[MemberRecord]:
    rows = await conn.fetch(
        f"select {_MEMBER} from members where project_id = $1 and user_id > $2"
        " order by user_id limit $3",
        project_id,
        after or uuid.UUID(int=0),
        limit,
    )
    return [MemberRecord(**r) for r in rows]


# ---------------------------------------------------------------- blobs and files


async def store_blobs(conn: asyncpg.Connection, blobs: Sequence[tuple[str, bytes]]) -> None:
    """Store each ``(sha256, content)`` once: contents already stored are not even sent."""
    unique = dict(blobs)
    if not unique:
        return
    present = await conn.fetch(
        "select sha256 from blobs where sha256 = any($1::text[])", list(unique)
    )
    for row in present:
        unique.pop(row["sha256"], None)
    await conn.executemany(
        "insert into blobs (sha256, size, content) values ($1, $2, $3)"
        " on conflict (sha256) do nothing",
        [(sha, len(content), content) for sha, content in unique.items()],
    )


async def current_hashes(
    conn: asyncpg.Connection, project_id: uuid.UUID, paths: Sequence[str]
) -> dict[str, str]:
    """``path -> sha256`` of the given paths that exist in the project."""
    rows = await conn.fetch(
        "select path, sha256 from files where project_id = $1 and path = any($2::text[])",
        project_id,
        list(paths),
    )
    return {row["path"]: row["sha256"] for row in rows}


async def upsert_files(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    files: Sequence[tuple[str, str, int, str | None]],
) -> None:
    """Insert or replace ``(path, sha256, size, language)`` rows, batched."""
    await conn.executemany(
        "insert into files (project_id, path, sha256, size, language) values ($1, $2, $3, $4, $5)"
        " on conflict (project_id, path) do update set sha256 = excluded.sha256,"
        " size = excluded.size, language = excluded.language, updated_at = now()",
        [(project_id, *file) for file in files],
    )


async def file_content(conn: asyncpg.Connection, project_id: uuid.UUID, path: str) -> FileContent:
    row = await conn.fetchrow(
        "select f.path, f.sha256, f.language, b.content from files f"
        " join blobs b using (sha256) where f.project_id = $1 and f.path = $2",
        project_id,
        path,
    )
    if row is None:
        raise NotFound(f"File '{path}' does not exist in project '{project_id}'.")
    return FileContent(**row)


async def list_files(
    conn: asyncpg.Connection, project_id: uuid.UUID, *, limit: int, after: str | None
) -> list[FileRecord]:
    rows = await conn.fetch(
        f'select {_FILE} from files where project_id = $1 and path collate "C" > $2'
        ' order by path collate "C" limit $3',
        project_id,
        after or "",
        limit,
    )
    return [FileRecord(**r) for r in rows]


async def delete_file(conn: asyncpg.Connection, project_id: uuid.UUID, path: str) -> None:
    result = await conn.execute(
        "delete from files where project_id = $1 and path = $2", project_id, path
    )
    if result == "DELETE 0":
        raise NotFound(f"File '{path}' does not exist in project '{project_id}'.")


async def project_blob(conn: asyncpg.Connection, project_id: uuid.UUID, sha256: str) -> bytes:
    """A blob the project holds now or in one of its snapshots (NotFound otherwise)."""
    content = await conn.fetchval(
        "select b.content from blobs b where b.sha256 = $2 and ("
        " exists (select 1 from files f where f.project_id = $1 and f.sha256 = $2)"
        " or exists (select 1 from snapshot_files sf join snapshots s on s.id = sf.snapshot_id"
        " where s.project_id = $1 and sf.sha256 = $2))",
        project_id,
        sha256,
    )
    if content is None:
        raise NotFound(f"Blob '{sha256}' is not part of project '{project_id}'.")
    return bytes(content)


# ---------------------------------------------------------------- snapshots


async def tree(conn: asyncpg.Connection, project_id: uuid.UUID) -> list[FileRecord]:
    """Every current file of the project, by path in byte order."""
    rows = await conn.fetch(
        f'select {_FILE} from files where project_id = $1 order by path collate "C"',
        project_id,
    )
    return [FileRecord(**r) for r in rows]


async def create_snapshot(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    *,
    tree_sha256: str,
    file_count: int,
    total_bytes: int,
    created_by: uuid.UUID | None,
) -> tuple[SnapshotRecord, bool]:
    """Freeze the current files under ``tree_sha256``; ``(snapshot, created)``.

    Run inside the transaction that read the tree: the copy sees the same files.
    """
    snapshot_id = await conn.fetchval(
        "insert into snapshots (id, project_id, tree_sha256, file_count, total_bytes, created_by)"
        " values ($1, $2, $3, $4, $5, $6) on conflict (project_id, tree_sha256) do nothing"
        " returning id",
        uuid.uuid4(),
        project_id,
        tree_sha256,
        file_count,
        total_bytes,
        created_by,
    )
    if snapshot_id is None:
        return await snapshot_by_tree(conn, project_id, tree_sha256), False
    await conn.execute(
        "insert into snapshot_files (snapshot_id, path, sha256, size, language)"
        " select $1, path, sha256, size, language from files where project_id = $2",
        snapshot_id,
        project_id,
    )
    return await snapshot(conn, project_id, snapshot_id), True


async def snapshot_by_tree(
    conn: asyncpg.Connection, project_id: uuid.UUID, tree_sha256: str
) -> SnapshotRecord:
    row = await conn.fetchrow(
        f"select {_SNAPSHOT} from snapshots where project_id = $1 and tree_sha256 = $2",
        project_id,
        tree_sha256,
    )
    if row is None:
        raise NotFound(f"Project '{project_id}' has no snapshot of tree '{tree_sha256}'.")
    return SnapshotRecord(**row)


async def snapshot(
    conn: asyncpg.Connection, project_id: uuid.UUID, snapshot_id: uuid.UUID
) -> SnapshotRecord:
    row = await conn.fetchrow(
        f"select {_SNAPSHOT} from snapshots where project_id = $1 and id = $2",
        project_id,
        snapshot_id,
    )
    if row is None:
        raise NotFound(f"Snapshot '{snapshot_id}' does not exist in project '{project_id}'.")
    return SnapshotRecord(**row)


async def snapshot_files(conn: asyncpg.Connection, snapshot_id: uuid.UUID) -> list[FileRecord]:
    rows = await conn.fetch(
        f'select {_FILE} from snapshot_files where snapshot_id = $1 order by path collate "C"',
        snapshot_id,
    )
    return [FileRecord(**r) for r in rows]


async def snapshot_file_content(
    conn: asyncpg.Connection, snapshot_id: uuid.UUID, path: str
) -> FileContent:
    row = await conn.fetchrow(
        "select sf.path, sf.sha256, sf.language, b.content from snapshot_files sf"
        " join blobs b using (sha256) where sf.snapshot_id = $1 and sf.path = $2",
        snapshot_id,
        path,
    )
    if row is None:
        raise NotFound(f"File '{path}' is not in snapshot '{snapshot_id}'.")
    return FileContent(**row)


async def list_snapshots(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[SnapshotRecord]:
    """Newest first."""
    if after is None:
        rows = await conn.fetch(
            f"select {_SNAPSHOT} from snapshots where project_id = $1"
            " order by created_at desc, id desc limit $2",
            project_id,
            limit,
        )
        return [SnapshotRecord(**r) for r in rows]
    rows = await conn.fetch(
        f"select {_SNAPSHOT} from snapshots where project_id = $1"
        " and (created_at, id) < ($2, $3) order by created_at desc, id desc limit $4",
        project_id,
        after[0],
        after[1],
        limit,
    )
    return [SnapshotRecord(**r) for r in rows]
