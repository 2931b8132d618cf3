"""snapshots implements project-files' snapshot and blob routes.

A snapshot freezes the project's current files under a tree hash and never changes
afterwards (later edits of the files do not reach it). The tree hash is the SHA-256
of the UTF-8 text made of one line ``<sha256 hex> <path>\\n`` per file, files sorted
by the UTF-8 bytes of their paths (the form of ``sha256sum`` with one space); an empty
project hashes the empty string. Snapshotting a tree that already has a snapshot in
the project answers that snapshot (200) instead of a new one (201).

Other services (analyses) read a snapshot's manifest and then each content through
``GET /projects/{id}/blobs/{sha256}`` or ``.../snapshots/{sid}/files/{path}``, as the
user they act for (``X-Acting-User``): every read is member-checked.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from functions.project_service import membership, repository
from functions.project_service.context import database
from functions.project_service.files import file_path, raw
from functions.project_service.schemas import (
    FileOut,
    SnapshotOut,
    SnapshotPage,
    SnapshotSummary,
)
from shared import pagination
from shared.errors import ValidationFailed
from shared.function import Router, path_uuid, render

router = Router()
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def tree_sha256(files: Iterable[tuple[str, str]]) -> str:
    """The tree hash of ``(path, sha256)`` pairs (any order; see the module docstring)."""
    digest = hashlib.sha256()
    for path, sha256 in sorted(files, key=lambda f: f[0].encode("utf-8")):
        digest.update(f"{sha256} {path}\n".encode())
    return digest.hexdigest()


async def _member(request: Request, conn: Any, minimum: str) -> uuid.UUID:
    project_id = path_uuid(request)
    await membership.require(conn, project_id, await membership.caller(request), minimum)
    return project_id


@router.post(
    "/projects/{id}/snapshots", status=201, also=(200,), response=SnapshotOut, idempotent=True
)
async def create_snapshot(request: Request) -> Response:
    """Maintainers+: freeze the current files (201), or answer the same tree's snapshot (200)."""
    who = await membership.caller(request)
    async with database.connection() as conn:
        # Repeatable read: the hash and the copy see the very same files.
        async with conn.transaction(isolation="repeatable_read"):
            project_id = path_uuid(request)
            await membership.require(conn, project_id, who, "maintainer")
            files = await repository.tree(conn, project_id)
            row, created = await repository.create_snapshot(
                conn,
                project_id,
                tree_sha256=tree_sha256((f.path, f.sha256) for f in files),
                file_count=len(files),
                total_bytes=sum(f.size for f in files),
                created_by=who.user_id,
            )
    answer = _snapshot_out(row, files)
    return render(answer, status=201 if created else 200)


@router.get("/projects/{id}/snapshots", response=SnapshotPage)
async def list_snapshots(request: Request) -> dict[str, Any]:
    """Viewers+: the project's snapshots, newest first (without their files)."""
    limit, cursor = pagination.params(request)
    after = pagination.created_after(cursor)
    async with database.connection() as conn:
        project_id = await _member(request, conn, "viewer")
        rows = await repository.list_snapshots(conn, project_id, limit=limit + 1, after=after)
    items = [SnapshotSummary.model_validate(r, from_attributes=True) for r in rows]
    return pagination.page(items, limit=limit, key=pagination.created_key)


@router.get("/projects/{id}/snapshots/{snapshot_id}", response=SnapshotOut)
async def read_snapshot(request: Request) -> SnapshotOut:
    """Viewers+: a snapshot's manifest, every file with its SHA-256."""
    snapshot_id = path_uuid(request, "snapshot_id")
    async with database.connection() as conn:
        project_id = await _member(request, conn, "viewer")
        row = await repository.snapshot(conn, project_id, snapshot_id)
        files = await repository.snapshot_files(conn, snapshot_id)
    return _snapshot_out(row, files)


def _snapshot_out(
    row: repository.SnapshotRecord, files: list[repository.FileRecord]
) -> SnapshotOut:
    return SnapshotOut(
        **asdict(row), files=[FileOut.model_validate(f, from_attributes=True) for f in files]
    )


@router.get("/projects/{id}/snapshots/{snapshot_id}/files/{path:path}")
async def read_snapshot_file(request: Request) -> Response:
    """Viewers+: the raw bytes of a file as the snapshot froze it."""
    snapshot_id = path_uuid(request, "snapshot_id")
    async with database.connection() as conn:
        project_id = await _member(request, conn, "viewer")
        await repository.snapshot(conn, project_id, snapshot_id)
        row = await repository.snapshot_file_content(conn, snapshot_id, file_path(request))
    return raw(row.content, sha256=row.sha256, language=row.language, request=request)


@router.get(
    "/projects/{id}/blobs/{sha256}",
    path_schemas={"sha256": {"type": "string", "pattern": _SHA256.pattern}},
)
async def read_blob(request: Request) -> Response:
    """Viewers+: a content by SHA-256, if the project holds it now or in a snapshot."""
    sha256 = str(request.path_params["sha256"]).lower()
    if not _SHA256.match(sha256):
        raise ValidationFailed(
            [{"loc": ["path", "sha256"], "msg": "must be 64 hexadecimal characters"}]
        )
    async with database.connection() as conn:
        project_id = await _member(request, conn, "viewer")
        content = await repository.project_blob(conn, project_id, sha256)
    return raw(content, sha256=sha256, language=None, request=request)
