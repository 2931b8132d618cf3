"""POST /projects/{id}/archive: good archives land; hostile entries and archives are refused."""

from __future__ import annotations

import gzip
import io
import tarfile
from typing import Any

import pytest

from tests.functions.project_service._support import (
    create_project,
    file_list,
    tar_gz_of,
    zip_of,
)

ZIP = {"Content-Type": "application/zip"}
GZ = {"Content-Type": "application/gzip"}
MiB = 1024 * 1024


async def _project_with_a_file(projects: Any, project_files: Any, owner: Any) -> str:
    project_id = await create_project(projects, owner)
    put = await project_files.put(
        f"/projects/{project_id}/files/existing.py", content=b"old = 1\n", headers=owner.headers
    )
    assert put.status_code == 201, put.text
    return project_id


async def _upload(client: Any, project_id: str, owner: Any, data: bytes, headers: dict) -> Any:
    return await client.post(
        f"/projects/{project_id}/archive", content=data, headers={**owner.headers, **headers}
    )


def _skipped(answer: Any) -> dict[str, str]:
    assert answer.status_code == 200, answer.text
    return {s["path"]: s["reason"] for s in answer.json()["skipped"]}


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
async def test_an_archive_adds_updates_and_keeps_unchanged_files(
    kind: str, projects, project_files, new_user
) -> None:
    owner = new_user()
    project_id = await _project_with_a_file(projects, project_files, owner)
    await project_files.put(
        f"/projects/{project_id}/files/same.py", content=b"same\n", headers=owner.headers
    )
    entries = {
        "repo/existing.py": b"new = 2\n",
        "repo/same.py": b"same\n",
        "repo/bin/tool": b"#!/usr/bin/env node\nconsole.log(1)\n",
        "repo/Dockerfile": b"FROM scratch\n",
    }
    entries = {name.removeprefix("repo/"): content for name, content in entries.items()}
    if kind == "zip":
        data, headers = zip_of(entries), ZIP
    else:
        data, headers = tar_gz_of(list(entries.items())), GZ
    answer = await _upload(project_files, project_id, owner, data, headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["added"], body["updated"], body["unchanged"], body["skipped"]) == (2, 1, 1, [])
    listed = await project_files.get(f"/projects/{project_id}/files", headers=owner.headers)
    languages = {f["path"]: f["language"] for f in listed.json()["items"]}
    assert languages == {
        "existing.py": "python",
        "same.py": "python",
        "bin/tool": "javascript",
        "Dockerfile": "dockerfile",
    }, languages
    read = await project_files.get(
        f"/projects/{project_id}/files/existing.py", headers=owner.headers
    )
    assert read.content == b"new = 2\n"


async def test_hostile_zip_entries_are_refused_one_by_one_with_their_reasons(
    projects, project_files, new_user
) -> None:
    owner = new_user()
    project_id = await _project_with_a_file(projects, project_files, owner)
    data = zip_of(
        {
            "ok.py": b"ok = True\n",
            "../escape.py": b"x\n",
            "a/../../escape2.py": b"x\n",
            "/etc/cron.d/evil": b"x\n",
            "C:\\Windows\\evil.bat": b"x\n",
            "link": b"/etc/passwd",
            "dev": b"",
            "fifo": b"",
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00",
            "latin1.txt": b"caf\xe9\n",
            "ok.py/../ok.py": b"dup\n",
        },
        modes={"link": 0o120777, "dev": 0o020644, "fifo": 0o010644},
    )
    answer = await _upload(project_files, project_id, owner, data, ZIP)
    assert _skipped(answer) == {
        "../escape.py": "path_traversal",
        "a/../../escape2.py": "path_traversal",
        "/etc/cron.d/evil": "absolute_path",
        "C:\\Windows\\evil.bat": "drive_letter",
        "link": "symlink",
        "dev": "device",
        "fifo": "fifo",
        "logo.png": "binary",
        "latin1.txt": "binary",
        "ok.py/../ok.py": "path_traversal",
    }, answer.json()
    assert answer.json()["added"] == 1
    assert sorted(await file_list(project_files, project_id, owner)) == ["existing.py", "ok.py"]


def _member(name: str, kind: bytes, **fields: Any) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info


async def test_hostile_tar_entries_are_refused_one_by_one_with_their_reasons(
    projects, project_files, new_user
) -> None:
    owner = new_user()
    project_id = await _project_with_a_file(projects, project_files, owner)
    data = tar_gz_of(
        [
            ("./src/ok.py", b"ok = 1\n"),
            ("../../etc/passwd", b"root\n"),
            ("/abs.py", b"x\n"),
            _member("sym", tarfile.SYMTYPE, linkname="/etc/shadow"),
            _member("hard", tarfile.LNKTYPE, linkname="src/ok.py"),
            _member("tty", tarfile.CHRTYPE, devmajor=4, devminor=1),
            _member("disk", tarfile.BLKTYPE, devmajor=8, devminor=0),
            _member("pipe", tarfile.FIFOTYPE),
            _member("src", tarfile.DIRTYPE),
            ("src/ok.py", b"again\n"),
        ]
    )
    answer = await _upload(project_files, project_id, owner, data, GZ)
    assert _skipped(answer) == {
        "../../etc/passwd": "path_traversal",
        "/abs.py": "absolute_path",
        "sym": "symlink",
        "hard": "hardlink",
        "tty": "device",
        "disk": "device",
        "pipe": "fifo",
        "src/ok.py": "duplicate",
    }, answer.json()
    assert sorted(await file_list(project_files, project_id, owner)) == ["existing.py", "src/ok.py"]
    read = await project_files.get(f"/projects/{project_id}/files/src/ok.py", headers=owner.headers)
    assert read.content == b"ok = 1\n", "The first of two entries with one path wins."


async def test_too_many_and_too_large_files_are_skipped_by_the_configured_limits(
    projects, client_for, new_user
) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    files = client_for("project_files", ARCHIVE_MAX_FILES="2", FILE_MAX_BYTES="100")
    data = zip_of(
        {"a.py": b"a\n", "big.txt": b"x" * 101, "b.py": b"b\n", "c.py": b"c\n", "d.py": b"d\n"}
    )
    answer = await _upload(files, project_id, owner, data, ZIP)
    assert _skipped(answer) == {
        "big.txt": "too_large",
        "c.py": "too_many_files",
        "d.py": "too_many_files",
    }, answer.json()
    assert sorted(await file_list(files, project_id, owner)) == ["a.py", "b.py"]


async def test_a_zip_bomb_entry_is_refused_by_its_compression_ratio(
    projects, client_for, new_user
) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    files = client_for("project_files", FILE_MAX_BYTES=str(20 * MiB))
    data = zip_of({"bomb.txt": b"0" * (10 * MiB), "fine.py": b"fine = 1\n"})
    assert len(data) < 64 * 1024, "The bomb should be a few KB on the wire."
    answer = await _upload(files, project_id, owner, data, ZIP)
    assert _skipped(answer) == {"bomb.txt": "compression_ratio"}, answer.json()
    assert sorted(await file_list(files, project_id, owner)) == ["fine.py"]


async def test_a_zip_bomb_over_the_total_limit_writes_nothing(
    projects, client_for, new_user
) -> None:
    owner = new_user()
    files = client_for(
        "project_files",
        FILE_MAX_BYTES=str(20 * MiB),
        ARCHIVE_MAX_RATIO="100000",
        ARCHIVE_MAX_TOTAL_BYTES=str(5 * MiB),
    )
    project_id = await _project_with_a_file(projects, files, owner)
    data = zip_of({"first.py": b"first = 1\n", "bomb.txt": b"0" * (10 * MiB)})
    before = await file_list(files, project_id, owner)
    answer = await _upload(files, project_id, owner, data, ZIP)
    assert answer.status_code == 413, answer.text
    assert "ARCHIVE_MAX_TOTAL_BYTES" in answer.json()["detail"]
    assert await file_list(files, project_id, owner) == before, "first.py should not land."


async def test_a_tar_gz_bomb_is_refused_as_a_whole(projects, client_for, new_user) -> None:
    owner = new_user()
    files = client_for("project_files", FILE_MAX_BYTES=str(20 * MiB))
    project_id = await _project_with_a_file(projects, files, owner)
    data = tar_gz_of([("first.py", b"first = 1\n"), ("zeros.txt", b"\0" * (10 * MiB))])
    before = await file_list(files, project_id, owner)
    answer = await _upload(files, project_id, owner, data, GZ)
    assert answer.status_code == 413, answer.text
    assert "ARCHIVE_MAX_RATIO" in answer.json()["detail"]
    assert await file_list(files, project_id, owner) == before


async def test_too_many_entries_refuse_the_archive_as_a_whole(
    projects, client_for, new_user
) -> None:
    owner = new_user()
    files = client_for("project_files", ARCHIVE_MAX_ENTRIES="3")
    project_id = await _project_with_a_file(projects, files, owner)
    before = await file_list(files, project_id, owner)
    for data, headers in (
        (zip_of({f"{i}.py": b"x\n" for i in range(4)}), ZIP),
        (tar_gz_of([(f"{i}.py", b"x\n") for i in range(4)]), GZ),
    ):
        answer = await _upload(files, project_id, owner, data, headers)
        assert answer.status_code == 413, answer.text
        assert "ARCHIVE_MAX_ENTRIES" in answer.json()["detail"]
    assert await file_list(files, project_id, owner) == before


def _truncated_tar_gz() -> bytes:
    data = tar_gz_of([(f"f{i}.py", f"value = {i}\n".encode() * 2000) for i in range(20)])
    return data[: len(data) // 2]


def _corrupt_zip() -> bytes:
    data = bytearray(zip_of({"a.py": b"a = 1\n" * 100}))
    data[-10:] = b"\xff" * 10
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        (b"just some text, not an archive", ZIP),
        (b"PK\x03\x04" + b"\x00" * 40, ZIP),
        (_corrupt_zip(), ZIP),
        (_truncated_tar_gz(), GZ),
        (b"\x1f\x8b" + b"garbage" * 10, GZ),
        (gzip.compress(b"plain text, gzipped, no tar inside " * 20), GZ),
    ],
    ids=[
        "text",
        "zip-header-only",
        "zip-corrupt-directory",
        "truncated-tar-gz",
        "bad-gzip",
        "gzip-no-tar",
    ],
)
async def test_a_corrupt_archive_is_422_and_writes_nothing(
    data: bytes, headers: dict, projects, project_files, new_user
) -> None:
    owner = new_user()
    project_id = await _project_with_a_file(projects, project_files, owner)
    before = await file_list(project_files, project_id, owner)
    answer = await _upload(project_files, project_id, owner, data, headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert await file_list(project_files, project_id, owner) == before


async def test_an_archive_in_a_wrong_media_type_is_415(projects, project_files, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    answer = await _upload(
        project_files, project_id, owner, zip_of({"a.py": b"1\n"}), {"Content-Type": "text/plain"}
    )
    assert answer.status_code == 415, answer.text


async def test_an_archive_over_the_body_limit_is_413(projects, client_for, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    files = client_for("project_files", ARCHIVE_MAX_BYTES="1000")
    data = zip_of({f"{i}.py": f"v{i} = {i}\n".encode() * 50 for i in range(10)})
    assert len(data) > 1000
    answer = await _upload(files, project_id, owner, data, ZIP)
    assert answer.status_code == 413, answer.text
    assert await file_list(files, project_id, owner) == {}


async def test_a_plain_tar_is_accepted_too(projects, project_files, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("main.rs")
        info.size = 12
        archive.addfile(info, io.BytesIO(b"fn main() {}"))
    answer = await _upload(
        project_files, project_id, owner, buffer.getvalue(), {"Content-Type": "application/x-tar"}
    )
    assert answer.status_code == 200 and answer.json()["added"] == 1, answer.text
    assert await file_list(project_files, project_id, owner) != {}


async def test_an_encrypted_zip_entry_is_skipped(projects, project_files, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    data = bytearray(zip_of({"secret.py": b"s = 1\n"}))
    # Set the "encrypted" flag bit in the local header and the central directory entry.
    data[6] |= 0x1
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x1
    answer = await _upload(project_files, project_id, owner, bytes(data), ZIP)
    assert _skipped(answer) == {"secret.py": "encrypted"}, answer.json()
