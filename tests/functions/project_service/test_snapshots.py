"""Snapshots: frozen, immutable trees with a deterministic hash, and member-checked reads."""

from __future__ import annotations

import hashlib
import uuid

from functions.project_service.snapshots import tree_sha256
from tests.functions.project_service._support import add_member, create_project


def test_the_tree_hash_is_the_documented_canonical_form_in_any_order() -> None:
    files = [("b.py", "1" * 64), ("a/z.py", "2" * 64), ("ä.py", "3" * 64), ("B.py", "4" * 64)]
    text = "".join(f"{sha} {path}\n" for path, sha in sorted(files, key=lambda f: f[0].encode()))
    expected = hashlib.sha256(text.encode()).hexdigest()
    assert tree_sha256(files) == tree_sha256(reversed(files)) == expected
    assert tree_sha256([]) == hashlib.sha256(b"").hexdigest()


async def _put(client, project_id: str, owner, path: str, content: bytes) -> None:
    answer = await client.put(
        f"/projects/{project_id}/files/{path}", content=content, headers=owner.headers
    )
    assert answer.status_code in (200, 201), answer.text


async def test_a_snapshot_freezes_the_files_and_later_changes_do_not_reach_it(
    projects, project_files, new_user
) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    await _put(project_files, project_id, owner, "src/app.py", b"v = 1\n")
    await _put(project_files, project_id, owner, "README.md", b"# hi\n")
    created = await project_files.post(f"/projects/{project_id}/snapshots", headers=owner.headers)
    assert created.status_code == 201, created.text
    snapshot = created.json()
    assert [f["path"] for f in snapshot["files"]] == ["README.md", "src/app.py"]
    assert snapshot["tree_sha256"] == tree_sha256(
        (f["path"], f["sha256"]) for f in snapshot["files"]
    )
    await _put(project_files, project_id, owner, "src/app.py", b"v = 2\n")
    await project_files.delete(f"/projects/{project_id}/files/README.md", headers=owner.headers)
    url = f"/projects/{project_id}/snapshots/{snapshot['id']}"
    manifest = await project_files.get(url, headers=owner.headers)
    assert manifest.status_code == 200, manifest.text
    assert manifest.json() == snapshot, "Later edits must not change the snapshot."
    frozen = await project_files.get(f"{url}/files/src/app.py", headers=owner.headers)
    assert frozen.content == b"v = 1\n"
    readme_sha = snapshot["files"][0]["sha256"]
    blob = await project_files.get(
        f"/projects/{project_id}/blobs/{readme_sha}", headers=owner.headers
    )
    assert blob.content == b"# hi\n", "A deleted file's blob stays readable through snapshots."


async def test_an_unchanged_tree_answers_its_existing_snapshot(
    projects, project_files, new_user
) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    await _put(project_files, project_id, owner, "a.py", b"a = 1\n")
    url = f"/projects/{project_id}/snapshots"
    first = await project_files.post(url, headers=owner.headers)
    again = await project_files.post(url, headers=owner.headers)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    await _put(project_files, project_id, owner, "b.py", b"b = 1\n")
    changed = await project_files.post(url, headers=owner.headers)
    assert changed.status_code == 201 and changed.json()["id"] != first.json()["id"]
    listed = await project_files.get(url, headers=owner.headers)
    assert [s["id"] for s in listed.json()["items"]] == [
        changed.json()["id"],
        first.json()["id"],
    ], "Snapshots list newest first."


async def test_identical_trees_in_two_projects_hash_the_same(
    projects, project_files, new_user
) -> None:
    hashes = []
    for order in (("x.py", "y.py"), ("y.py", "x.py")):
        owner = new_user()
        project_id = await create_project(projects, owner)
        for path in order:
            await _put(project_files, project_id, owner, path, path.encode() + b"\n")
        answer = await project_files.post(
            f"/projects/{project_id}/snapshots", headers=owner.headers
        )
        hashes.append(answer.json()["tree_sha256"])
    assert hashes[0] == hashes[1], "The tree hash depends on content, not on upload order."


async def test_blobs_are_readable_only_through_a_project_that_holds_them(
    projects, project_files, new_user
) -> None:
    owner, stranger = new_user(), new_user()
    project_id = await create_project(projects, owner)
    other_project = await create_project(projects, stranger)
    content = f"private = {uuid.uuid4().hex!r}\n".encode()
    digest = hashlib.sha256(content).hexdigest()
    await _put(project_files, project_id, owner, "secret.py", content)
    own = await project_files.get(f"/projects/{project_id}/blobs/{digest}", headers=owner.headers)
    assert own.status_code == 200 and own.content == content, own.text
    as_stranger = await project_files.get(
        f"/projects/{project_id}/blobs/{digest}", headers=stranger.headers
    )
    via_own_project = await project_files.get(
        f"/projects/{other_project}/blobs/{digest}", headers=stranger.headers
    )
    assert as_stranger.status_code == via_own_project.status_code == 404, via_own_project.text
    malformed = await project_files.get(
        f"/projects/{project_id}/blobs/not-a-hash", headers=owner.headers
    )
    assert malformed.status_code == 422, malformed.text


async def test_viewers_read_snapshots_but_may_not_take_them(
    projects, project_files, new_user, real_user
) -> None:
    owner, viewer = new_user(), real_user()
    project_id = await create_project(projects, owner)
    await add_member(projects, project_id, owner, viewer, "viewer")
    await _put(project_files, project_id, owner, "a.py", b"a\n")
    refused = await project_files.post(f"/projects/{project_id}/snapshots", headers=viewer.headers)
    assert refused.status_code == 403, refused.text
    made = await project_files.post(f"/projects/{project_id}/snapshots", headers=owner.headers)
    read = await project_files.get(
        f"/projects/{project_id}/snapshots/{made.json()['id']}", headers=viewer.headers
    )
    assert read.status_code == 200 and read.json()["files"][0]["path"] == "a.py", read.text


async def test_a_snapshot_of_another_project_is_404(projects, project_files, new_user) -> None:
    owner = new_user()
    first, second = await create_project(projects, owner), await create_project(projects, owner)
    await _put(project_files, first, owner, "a.py", b"a\n")
    made = await project_files.post(f"/projects/{first}/snapshots", headers=owner.headers)
    crossed = await project_files.get(
        f"/projects/{second}/snapshots/{made.json()['id']}", headers=owner.headers
    )
    assert crossed.status_code == 404, crossed.text
