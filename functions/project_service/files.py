"""files implements project-files' file routes: single files, archives and raw reads.

Contents are content-addressed: a file row names a blob by its SHA-256, and a blob
is stored once however many projects and snapshots hold it (``blobs`` in
PostgreSQL today; a later change may move contents to GCS, keyed the same way).
Only text is stored: UTF-8 without NUL bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from functions.project_service import archive, membership, paths, repository
from functions.project_service.context import database
from functions.project_service.schemas import ArchiveResult, FileOut, FilePage, SkippedOut
from functions.project_service.settings import settings
from shared import languages, pagination
from shared.errors import UnsupportedMediaType, ValidationFailed
from shared.function import Router, path_uuid, render

router = Router()

ARCHIVE_TYPES = frozenset(
    {
        "",
        "application/zip",
        "application/x-zip-compressed",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-gtar",
        "application/x-compressed-tar",
        "application/octet-stream",
    }
)


def file_path(request: Request) -> str:
    """The normalized ``{path}`` parameter (422 naming the reason when it is refused)."""
    try:
        return paths.normalize(_decoded_tail(request), max_length=settings().path_max_length)
    except paths.PathRefused as e:
        raise ValidationFailed(
            [{"loc": ["path", "path"], "msg": str(e), "type": e.reason}], detail=str(e)
        ) from None


def _decoded_tail(request: Request) -> str:
    """``{path}`` as the client sent it (the shared router matches the decoded ASGI path)."""
    return str(request.path_params["path"])


def raw(content: bytes, *, sha256: str, language: str | None, request: Request) -> Response:
    """A stored file's bytes; the ETag is its SHA-256, so a matching If-None-Match is a 304."""
    headers = {"ETag": f'"{sha256}"', "X-Content-Type-Options": "nosniff"}
    if language:
        headers["X-File-Language"] = language
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(bytes(content), media_type="text/plain; charset=utf-8", headers=headers)


async def _writer(conn: asyncpg.Connection, request: Request) -> uuid.UUID:
    project_id = path_uuid(request)
    await membership.require(conn, project_id, await membership.caller(request), "maintainer")
    return project_id


async def _reader(conn: asyncpg.Connection, request: Request) -> uuid.UUID:
    project_id = path_uuid(request)
    await membership.require(conn, project_id, await membership.caller(request), "viewer")
    return project_id


@router.put(
    "/projects/{id}/files/{path:path}",
    response=FileOut,
    also=(201,),
    max_body=lambda: settings().file_max_bytes,
)
async def put_file(request: Request) -> Response:
    """Maintainers+: store one file from the raw body (201 new, 200 replaced)."""
    content = await request.body()
    async with database.transaction() as conn:
        project_id = await _writer(conn, request)
        path = file_path(request)
        if not archive.is_text(content):
            raise ValidationFailed(
                [{"loc": ["body"], "msg": "is binary (NUL bytes or not UTF-8)", "type": "binary"}],
                detail=f"File '{path}' is binary; only UTF-8 text is stored.",
            )
        sha256 = hashlib.sha256(content).hexdigest()
        language = languages.detect(path, content[:256])
        existed = await repository.current_hashes(conn, project_id, [path])
        await repository.store_blobs(conn, [(sha256, content)])
        await repository.upsert_files(conn, project_id, [(path, sha256, len(content), language)])
    answer = FileOut(path=path, sha256=sha256, size=len(content), language=language)
    return render(answer, status=200 if existed else 201)


@router.get("/projects/{id}/files", response=FilePage)
async def list_files(request: Request) -> dict[str, Any]:
    """Viewers+: the current files, by path (byte order)."""
    limit, cursor = pagination.params(request)
    after = cursor.get("path") if cursor else None
    if cursor is not None and not isinstance(after, str):
        raise ValidationFailed([{"loc": ["query", "cursor"], "msg": "is not a valid cursor"}])
    async with database.connection() as conn:
        project_id = await _reader(conn, request)
        rows = await repository.list_files(conn, project_id, limit=limit + 1, after=after)
    items = [FileOut.model_validate(r, from_attributes=True) for r in rows]
    return pagination.page(items, limit=limit, key=lambda f: {"path": f.path})


@router.get("/projects/{id}/files/{path:path}")
async def read_file(request: Request) -> Response:
    """Viewers+: the raw bytes of a current file."""
    async with database.connection() as conn:
        project_id = await _reader(conn, request)
        row = await repository.file_content(conn, project_id, file_path(request))
    return raw(row.content, sha256=row.sha256, language=row.language, request=request)


@router.delete("/projects/{id}/files/{path:path}", status=204)
async def delete_file(request: Request) -> None:
    """Maintainers+: remove a current file (snapshots keep their copy)."""
    async with database.connection() as conn:
        project_id = await _writer(conn, request)
        await repository.delete_file(conn, project_id, file_path(request))


@router.post(
    "/projects/{id}/archive",
    response=ArchiveResult,
    max_body=lambda: settings().archive_max_bytes,
)
async def upload_archive(request: Request) -> ArchiveResult:
    """Maintainers+: add or replace files from a .zip, .tar.gz or .tar body, all or nothing.

    Refused entries are listed under ``skipped`` with their reason; an archive that is
    corrupt or over a whole-archive limit writes nothing (see ``archive``).
    """
    _require_archive_type(request)
    data = await request.body()
    limits = archive.Limits.of(settings())
    result = ArchiveResult(added=0, updated=0, unchanged=0, skipped=[])
    async with database.transaction() as conn:
        project_id = await _writer(conn, request)
        batches = archive.batches(data, limits)
        # Decompressing and hashing is CPU work: it runs in a thread, a batch at a time,
        # while this transaction stays open so a late refusal rolls everything back.
        while (batch := await asyncio.to_thread(next, batches, None)) is not None:
            await _store(conn, project_id, batch, result)
    return result


def _require_archive_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ARCHIVE_TYPES:
        raise UnsupportedMediaType(
            f"Expected a .zip or .tar.gz body (application/zip, application/gzip), "
            f"got '{content_type[:100]}'."
        )


async def _store(
    conn: asyncpg.Connection, project_id: uuid.UUID, batch: archive.Batch, result: ArchiveResult
) -> None:
    result.skipped.extend(SkippedOut(path=s.path, reason=s.reason) for s in batch.skipped)
    if not batch.accepted:
        return
    before = await repository.current_hashes(conn, project_id, [a.path for a in batch.accepted])
    changed = [a for a in batch.accepted if before.get(a.path) != a.sha256]
    await repository.store_blobs(conn, [(a.sha256, a.content) for a in changed])
    await repository.upsert_files(
        conn, project_id, [(a.path, a.sha256, a.size, a.language) for a in changed]
    )
    result.added += sum(1 for a in changed if a.path not in before)
    result.updated += sum(1 for a in changed if a.path in before)
    result.unchanged += len(batch.accepted) - len(changed)
