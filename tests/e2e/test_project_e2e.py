"""project-service end to end: real projects and project-files processes over HTTP."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import httpx


def _repository() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("repo/src/app.py", "def main():\n    return 42\n")
        archive.writestr("repo/README.md", "# repo\n")
        archive.writestr("repo/../escape.py", "x = 1\n")
    return buffer.getvalue()


async def test_create_upload_snapshot_and_read_back_through_real_processes(
    start_function: Callable[..., Any], identity: Any
) -> None:
    projects = start_function("projects")
    files = start_function("project_files")
    owner = identity.headers(str(uuid.uuid4()))
    async with httpx.AsyncClient(timeout=20) as client:
        created = await client.post(f"{projects.url}/projects", json={"name": "e2e"}, headers=owner)
        assert created.status_code == 201, created.text
        project_id = created.json()["id"]
        base = f"{files.url}/projects/{project_id}"
        uploaded = await client.post(
            f"{base}/archive",
            content=_repository(),
            headers={**owner, "Content-Type": "application/zip"},
        )
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["added"] == 2
        assert uploaded.json()["skipped"] == [
            {"path": "repo/../escape.py", "reason": "path_traversal"}
        ]
        snapshot = await client.post(f"{base}/snapshots", headers=owner)
        assert snapshot.status_code == 201, snapshot.text
        manifest = await client.get(f"{base}/snapshots/{snapshot.json()['id']}", headers=owner)
        assert manifest.status_code == 200, manifest.text
        entries = {f["path"]: f for f in manifest.json()["files"]}
        assert sorted(entries) == ["repo/README.md", "repo/src/app.py"]
        app = entries["repo/src/app.py"]
        blob = await client.get(f"{base}/blobs/{app['sha256']}", headers=owner)
        assert blob.status_code == 200, blob.text
        assert hashlib.sha256(blob.content).hexdigest() == app["sha256"]
        assert blob.content == b"def main():\n    return 42\n"
        stranger = identity.headers(str(uuid.uuid4()))
        hidden = await client.get(f"{base}/blobs/{app['sha256']}", headers=stranger)
        assert hidden.status_code == 404, hidden.text
