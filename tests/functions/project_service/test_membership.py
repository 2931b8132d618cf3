"""The membership matrix: every endpoint x owner, maintainer, viewer, non-member and admin."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest

from tests.functions.project_service._support import add_member, create_project, zip_of

CONTENT = b"print('matrix')\n"
SHA = hashlib.sha256(CONTENT).hexdigest()
RANK = {"viewer": 1, "maintainer": 2, "owner": 3, "admin": 4}


@dataclass(frozen=True)
class Case:
    function: str
    method: str
    path: str
    minimum: str
    success: int
    kwargs: Any = None


CASES = [
    Case("projects", "GET", "/projects/{id}", "viewer", 200),
    Case("projects", "PATCH", "/projects/{id}", "maintainer", 200, {"json": {"name": "n"}}),
    Case("projects", "DELETE", "/projects/{id}", "owner", 204),
    Case("projects", "GET", "/projects/{id}/access", "viewer", 200),
    Case("projects", "GET", "/projects/{id}/members", "viewer", 200),
    Case(
        "projects", "PUT", "/projects/{id}/members/{newcomer}", "owner", 201,
        {"json": {"role": "viewer"}},
    ),
    Case("projects", "DELETE", "/projects/{id}/members/{other}", "owner", 204),
    Case("files", "PUT", "/projects/{id}/files/b.py", "maintainer", 201, {"content": b"b = 1\n"}),
    Case("files", "GET", "/projects/{id}/files", "viewer", 200),
    Case("files", "GET", "/projects/{id}/files/a.py", "viewer", 200),
    Case("files", "DELETE", "/projects/{id}/files/a.py", "maintainer", 204),
    Case(
        "files", "POST", "/projects/{id}/archive", "maintainer", 200,
        {"content": zip_of({"z.py": b"z = 1\n"}), "headers": {"Content-Type": "application/zip"}},
    ),
    Case("files", "POST", "/projects/{id}/snapshots", "maintainer", 200),
    Case("files", "GET", "/projects/{id}/snapshots", "viewer", 200),
    Case("files", "GET", "/projects/{id}/snapshots/{snapshot}", "viewer", 200),
    Case("files", "GET", "/projects/{id}/snapshots/{snapshot}/files/a.py", "viewer", 200),
    Case("files", "GET", "/projects/{id}/blobs/" + SHA, "viewer", 200),
]  # fmt: skip
CALLERS = ("owner", "maintainer", "viewer", "stranger", "admin")


def _expected(case: Case, caller: str) -> int:
    if caller == "stranger":
        return 404
    if RANK[caller] < RANK[case.minimum]:
        return 403
    return case.success


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
async def test_each_endpoint_lets_in_exactly_the_roles_it_should(
    case: Case, caller: str, projects, project_files, new_user, real_user
) -> None:
    people = {  # who is or becomes a member is a real user (auth-users knows them)
        "owner": new_user(),
        "maintainer": real_user(),
        "viewer": real_user(),
        "stranger": new_user(),
        "admin": new_user(role="admin"),
        "other": real_user(),
        "newcomer": real_user(),
    }
    owner = people["owner"]
    project_id = await create_project(projects, owner)
    await add_member(projects, project_id, owner, people["maintainer"], "maintainer")
    await add_member(projects, project_id, owner, people["viewer"], "viewer")
    await add_member(projects, project_id, owner, people["other"], "viewer")
    put = await project_files.put(
        f"/projects/{project_id}/files/a.py", content=CONTENT, headers=owner.headers
    )
    assert put.status_code == 201, put.text
    snapshot = await project_files.post(f"/projects/{project_id}/snapshots", headers=owner.headers)
    path = case.path.format(
        id=project_id,
        other=people["other"].id,
        newcomer=people["newcomer"].id,
        snapshot=snapshot.json()["id"],
    )
    client = projects if case.function == "projects" else project_files
    kwargs = dict(case.kwargs or {})
    headers = {**kwargs.pop("headers", {}), **people[caller].headers}
    answer = await client.request(case.method, path, headers=headers, **kwargs)
    assert answer.status_code == _expected(case, caller), (
        f"{caller} on {case.method} {case.path}: {answer.status_code} {answer.text[:300]}"
    )
    if answer.status_code == 404:
        assert answer.json()["detail"] == f"Project '{project_id}' does not exist.", (
            "A non-member's 404 should read like a missing project's."
        )
