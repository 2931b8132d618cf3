"""Helpers of project-service tests: users, projects, members, file lists and archives."""

from __future__ import annotations

import io
import tarfile
import uuid
import zipfile
from dataclasses import dataclass

import asyncpg
import httpx


@dataclass(frozen=True)
class User:
    id: str
    headers: dict[str, str]


async def create_project(client: httpx.AsyncClient, owner: User, name: str = "") -> str:
    answer = await client.post(
        "/projects", json={"name": name or f"p-{uuid.uuid4().hex[:8]}"}, headers=owner.headers
    )
    assert answer.status_code == 201, answer.text
    project_id: str = answer.json()["id"]
    return project_id


async def add_member(
    client: httpx.AsyncClient, project_id: str, owner: User, member: User, role: str
) -> None:
    answer = await client.put(
        f"/projects/{project_id}/members/{member.id}", json={"role": role}, headers=owner.headers
    )
    assert answer.status_code in (200, 201), answer.text


async def file_list(client: httpx.AsyncClient, project_id: str, user: User) -> dict[str, str]:
    """``path -> sha256`` of every current file."""
    answer = await client.get(f"/projects/{project_id}/files?limit=200", headers=user.headers)
    assert answer.status_code == 200, answer.text
    return {f["path"]: f["sha256"] for f in answer.json()["items"]}


def zip_of(entries: dict[str, bytes], *, modes: dict[str, int] | None = None) -> bytes:
    """A .zip of ``name -> content``; ``modes`` sets Unix mode bits (symlinks, devices)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if modes and name in modes:
                info.create_system = 3
                info.external_attr = modes[name] << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def tar_gz_of(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    """A .tar.gz of regular ``(name, content)`` files and prepared ``TarInfo`` members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                archive.addfile(entry)
                continue
            name, content = entry
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


async def blob_rows(database_url: str, sha256: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(
            await conn.fetchval(
                "select count(*) from project_service.blobs where sha256 = $1", sha256
            )
        )
    finally:
        await conn.close()
