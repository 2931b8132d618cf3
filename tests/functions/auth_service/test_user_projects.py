"""auth-users and project-service: ``GET /users/{id}`` (who may be a member), and deleting
a user, refused while they alone own a project, then removing their memberships."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from tests.functions.auth_service._support import Auth, bearer, ec_pem, mint
from tests.helpers import Accounts, Answer, http_stub


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json", answer.headers
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["detail"], body
    return body


# ---------------------------------------------------------------- GET /users/{id}


async def test_admins_and_platform_services_read_a_user_others_may_not(auth: Auth) -> None:
    user, session = await auth.user_token()
    url = f"/users/{user['id']}"
    as_admin = await auth.users.get(url, headers=await auth.admin_headers())
    assert as_admin.status_code == 200, as_admin.text
    assert as_admin.json() == {k: v for k, v in user.items() if k != "password"}
    platform = bearer(await auth.service_token(["internal"]))
    as_service = await auth.users.get(url, headers=platform)
    assert as_service.status_code == 200 and as_service.json()["id"] == user["id"]
    _problem(await auth.users.get(url, headers=bearer(session["access_token"])), 403)
    other_service = bearer(await auth.service_token(["reviews:read"]))
    _problem(await auth.users.get(url, headers=other_service), 403)
    forged = mint(ec_pem(), sub=f"sa:{uuid.uuid4()}", role="service", scope="internal")
    _problem(await auth.users.get(url, headers=bearer(forged)), 401)
    _problem(await auth.users.get(url), 401)
    ghost = uuid.uuid4()
    missing = _problem(await auth.users.get(f"/users/{ghost}", headers=platform), 404)
    assert missing["detail"] == f"User '{ghost}' does not exist.", missing


# ---------------------------------------------------------------- DELETE /users/{id}


async def _project(accounts: Accounts, owner: dict[str, str], name: str) -> str:
    async with httpx.AsyncClient(base_url=accounts.urls["projects"], timeout=20) as client:
        created = await client.post("/projects", json={"name": name}, headers=owner)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _add(accounts: Accounts, project_id: str, owner: dict[str, str], user: str) -> None:
    async with httpx.AsyncClient(base_url=accounts.urls["projects"], timeout=20) as client:
        added = await client.put(
            f"/projects/{project_id}/members/{user}", json={"role": "owner"}, headers=owner
        )
    assert added.status_code == 201, added.text


async def _members(accounts: Accounts, project_id: str, owner: dict[str, str]) -> set[str]:
    async with httpx.AsyncClient(base_url=accounts.urls["projects"], timeout=20) as client:
        listed = await client.get(f"/projects/{project_id}/members", headers=owner)
    assert listed.status_code == 200, listed.text
    return {m["user_id"] for m in listed.json()["items"]}


async def _person(auth: Auth) -> tuple[str, dict[str, str]]:
    user, session = await auth.user_token()
    return str(user["id"]), bearer(session["access_token"])


async def test_the_only_owner_of_a_project_is_not_deleted(
    auth_with_projects: Auth, accounts: Accounts
) -> None:
    auth = auth_with_projects
    user_id, headers = await _person(auth)
    project_id = await _project(accounts, headers, "solely-mine")
    admin = await auth.admin_headers()
    refused = _problem(await auth.users.delete(f"/users/{user_id}", headers=admin), 409)
    assert refused["detail"] == (
        f"User '{user_id}' is the only owner of 1 project(s): 'solely-mine' ({project_id}); "
        "transfer ownership or delete them first."
    ), refused
    still = await auth.users.get(f"/users/{user_id}", headers=admin)
    assert still.status_code == 200, "A refused delete leaves the user."
    assert await _members(accounts, project_id, headers) == {user_id}


async def test_a_co_owner_is_deleted_and_leaves_every_project(
    auth_with_projects: Auth, accounts: Accounts
) -> None:
    auth = auth_with_projects
    owner_id, owner = await _person(auth)
    leaving_id, leaving = await _person(auth)
    theirs = await _project(accounts, owner, "co-owned")
    own = await _project(accounts, leaving, "handed-over")
    await _add(accounts, theirs, owner, leaving_id)
    await _add(accounts, own, leaving, owner_id)
    admin = await auth.admin_headers()
    deleted = await auth.users.delete(f"/users/{leaving_id}", headers=admin)
    assert (deleted.status_code, deleted.content) == (204, b""), deleted.text
    for project_id in (theirs, own):
        assert await _members(accounts, project_id, owner) == {owner_id}
    _problem(await auth.users.get(f"/users/{leaving_id}", headers=admin), 404)


async def test_projects_down_is_a_503_and_the_user_stays(
    make_auth: Any, accounts: Accounts
) -> None:
    auth = make_auth(PROJECTS_URL="http://127.0.0.1:9", **_platform_env(accounts))
    user_id, _ = await _person(auth)
    admin = await auth.admin_headers()
    _problem(await auth.users.delete(f"/users/{user_id}", headers=admin), 503)
    still = await auth.users.get(f"/users/{user_id}", headers=admin)
    assert still.status_code == 200, "Nothing is deleted when projects cannot be asked."


@pytest.fixture
def no_deletes(accounts: Accounts) -> Iterator[str]:
    """projects, except that removing memberships fails (a 503): the failure after the
    delete, at the boundary."""
    target = accounts.urls["projects"]

    def answer(method: str, path: str, headers: Mapping[str, str]) -> Answer:
        if method == "DELETE":
            return 503, b'{"status": 503, "detail": "down"}'
        given = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        passed = httpx.get(f"{target}{path}", headers=given, timeout=20)
        return passed.status_code, passed.content

    with http_stub(answer) as host:
        yield f"http://{host}"


def _platform_env(accounts: Accounts) -> dict[str, str]:
    return {
        "AUTH_TOKENS_URL": accounts.urls["auth_tokens"],
        "PLATFORM_CLIENT_ID": accounts.env["PLATFORM_CLIENT_ID"],
        "PLATFORM_CLIENT_SECRET": accounts.env["PLATFORM_CLIENT_SECRET"],
    }


async def test_memberships_left_by_a_failed_clean_up_go_on_the_retry(
    make_auth: Any, accounts: Accounts, no_deletes: str
) -> None:
    """The user is deleted, removing their memberships fails: a 503; their tokens are
    refused already, and the retried DELETE (a 404: the user is gone) removes them."""
    failing = make_auth(PROJECTS_URL=no_deletes, **_platform_env(accounts))
    owner_id, owner = await _person(failing)
    member_id, member = await _person(failing)
    project_id = await _project(accounts, owner, "left-behind")
    await _add(accounts, project_id, owner, member_id)
    admin = await failing.admin_headers()
    _problem(await failing.users.delete(f"/users/{member_id}", headers=admin), 503)
    _problem(await failing.users.get(f"/users/{member_id}", headers=admin), 404)
    assert await _members(accounts, project_id, owner) == {owner_id, member_id}
    async with httpx.AsyncClient(base_url=accounts.urls["projects"], timeout=20) as client:
        refused = await client.get(f"/projects/{project_id}", headers=member)
    assert refused.status_code == 401, "A deleted user's token is refused at once."
    working = make_auth(PROJECTS_URL=accounts.urls["projects"], **_platform_env(accounts))
    retried = await working.users.delete(f"/users/{member_id}", headers=admin)
    assert member_id in _problem(retried, 404)["detail"]
    assert await _members(accounts, project_id, owner) == {owner_id}
