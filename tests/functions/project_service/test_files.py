"""project-files: single files, raw reads, listing, deletion and blob deduplication."""

from __future__ import annotations

import hashlib

import pytest

from tests.functions.project_service._support import blob_rows, create_project, file_list


async def test_putting_a_file_answers_201_then_200_when_replaced(
    projects, project_files, new_user
) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    url = f"/projects/{project_id}/files/./src//app.py"
    first = await project_files.put(url, content=b"print(1)\n", headers=owner.headers)
    assert first.status_code == 201, first.text
    assert first.json() == {
        "path": "src/app.py",
        "sha256": hashlib.sha256(b"print(1)\n").hexdigest(),
        "size": 9,
        "language": "python",
    }
    second = await project_files.put(url, content=b"print(2)\n", headers=owner.headers)
    assert second.status_code == 200, second.text
    read = await project_files.get(
        f"/projects/{project_id}/files/src/app.py", headers=owner.headers
    )
    assert read.content == b"print(2)\n", "The replaced content should be served."
    assert read.headers["content-type"] == "text/plain; charset=utf-8"
    assert read.headers["etag"] == f'"{second.json()["sha256"]}"'
    assert read.headers["x-file-language"] == "python"


async def test_a_matching_etag_is_answered_304(projects, project_files, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    url = f"/projects/{project_id}/files/a.txt"
    await project_files.put(url, content=b"hello\n", headers=owner.headers)
    etag = (await project_files.get(url, headers=owner.headers)).headers["etag"]
    again = await project_files.get(url, headers={**owner.headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"", again.text


async def test_the_same_content_in_two_projects_is_stored_once(
    projects, project_files, new_user, database_url
) -> None:
    content = f"shared = {new_user().id!r}\n".encode()
    digest = hashlib.sha256(content).hexdigest()
    for _ in range(2):
        owner = new_user()
        project_id = await create_project(projects, owner)
        for path in ("a.py", "copy/a.py"):
            answer = await project_files.put(
                f"/projects/{project_id}/files/{path}", content=content, headers=owner.headers
            )
            assert answer.json()["sha256"] == digest, answer.text
    assert await blob_rows(database_url, digest) == 1, "Four files, one blob row."


async def test_deleting_a_file_removes_it_from_the_list(projects, project_files, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    for path in ("keep.py", "drop.py"):
        await project_files.put(
            f"/projects/{project_id}/files/{path}", content=b"x\n", headers=owner.headers
        )
    deleted = await project_files.delete(
        f"/projects/{project_id}/files/drop.py", headers=owner.headers
    )
    assert deleted.status_code == 204, deleted.text
    assert list(await file_list(project_files, project_id, owner)) == ["keep.py"]
    again = await project_files.delete(
        f"/projects/{project_id}/files/drop.py", headers=owner.headers
    )
    assert again.status_code == 404, again.text


async def test_the_file_list_paginates_in_byte_order(projects, project_files, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    names = ["b.py", "a/z.py", "B.py", "a.py", "ä.py"]
    for name in names:
        await project_files.put(
            f"/projects/{project_id}/files/{name}", content=b"1\n", headers=owner.headers
        )
    seen: list[str] = []
    cursor = ""
    while True:
        page = await project_files.get(
            f"/projects/{project_id}/files?limit=2{cursor}", headers=owner.headers
        )
        assert page.status_code == 200, page.text
        seen += [f["path"] for f in page.json()["items"]]
        if not page.json()["next_cursor"]:
            break
        cursor = f"&cursor={page.json()['next_cursor']}"
    assert seen == sorted(names, key=lambda n: n.encode()), seen


async def test_binary_content_is_refused_and_not_stored(projects, project_files, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    for content in (b"\x89PNG\r\n\x1a\n\x00\x00", b"caf\xe9\n"):
        answer = await project_files.put(
            f"/projects/{project_id}/files/image.png", content=content, headers=owner.headers
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["type"] == "binary", answer.json()
    assert await file_list(project_files, project_id, owner) == {}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("%2E%2E/etc/passwd", "path_traversal"),
        ("a/%2E%2E/%2E%2E/x", "path_traversal"),
        ("%2Fetc/passwd", "absolute_path"),
        ("C:%5CWindows%5Cx", "drive_letter"),
        ("dir%5Cfile.py", "invalid_path"),
        ("bad%00name.py", "invalid_path"),
        ("x" * 1100, "path_too_long"),
    ],
)
async def test_hostile_paths_are_refused_with_their_reason(
    path: str, reason: str, projects, project_files, new_user
) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    answer = await project_files.put(
        f"/projects/{project_id}/files/{path}", content=b"x\n", headers=owner.headers
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["type"] == reason, answer.json()
    assert await file_list(project_files, project_id, owner) == {}


async def test_a_file_over_the_limit_is_413(projects, project_files, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    answer = await project_files.put(
        f"/projects/{project_id}/files/big.txt",
        content=b"a" * (2 * 1024 * 1024 + 1),
        headers=owner.headers,
    )
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_file_limit_comes_from_the_environment(projects, client_for, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    files = client_for("project_files", FILE_MAX_BYTES="10")
    small = await files.put(
        f"/projects/{project_id}/files/a.txt", content=b"0123456789", headers=owner.headers
    )
    large = await files.put(
        f"/projects/{project_id}/files/b.txt", content=b"0123456789!", headers=owner.headers
    )
    assert (small.status_code, large.status_code) == (201, 413), large.text


async def test_reading_a_missing_file_is_404(projects, project_files, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    answer = await project_files.get(f"/projects/{project_id}/files/nope.py", headers=owner.headers)
    assert answer.status_code == 404, answer.text
    assert "nope.py" in answer.json()["detail"]


async def test_reserved_url_characters_in_a_name_survive_the_round_trip(
    projects, project_files, new_user
) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    answer = await project_files.put(
        f"/projects/{project_id}/files/docs/why%3F%20%23one.md",
        content=b"?\n",
        headers=owner.headers,
    )
    assert answer.status_code == 201 and answer.json()["path"] == "docs/why? #one.md", answer.text
    read = await project_files.get(
        f"/projects/{project_id}/files/docs/why%3F%20%23one.md", headers=owner.headers
    )
    assert read.content == b"?\n", read.text


async def test_both_functions_publish_their_routes(projects, project_files) -> None:
    project_paths = (await projects.get("/openapi.json")).json()["paths"]
    file_paths = (await project_files.get("/openapi.json")).json()["paths"]
    assert "/projects/{id}/access" in project_paths
    assert "/projects/{id}/archive" in file_paths and "/projects/{id}/blobs/{sha256}" in file_paths
    assert not (set(project_paths) & set(file_paths)) - {"/health", "/ready", "/health/startup"}


def test_project_files_serves_the_files_and_the_snapshots_routes(project_files: object) -> None:
    from functions.project_service import files, main, snapshots  # loaded by the fixture

    served = main._files.router.routes
    assert served == files.router.routes + snapshots.router.routes
    assert {route.path for route in snapshots.router.routes} <= {route.path for route in served}
