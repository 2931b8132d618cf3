"""Members are real users: ``PUT /projects/{id}/members/{user_id}`` asks auth-users, and
the internal routes auth-users calls when it deletes a user (``/members/{user_id}...``)."""

from __future__ import annotations

import uuid

import httpx

from tests.functions.project_service._support import add_member, create_project
from tests.helpers import Accounts, Identity

NOT_FOUND = "https://errors.ai-codereview.dev/not-found"


async def _member_ids(projects: httpx.AsyncClient, project_id: str, owner) -> set[str]:
    answer = await projects.get(f"/projects/{project_id}/members", headers=owner.headers)
    assert answer.status_code == 200, answer.text
    return {m["user_id"] for m in answer.json()["items"]}


async def test_an_id_no_user_has_is_refused_and_nothing_is_added(
    projects, new_user, real_user
) -> None:
    owner, ghost = new_user(), str(uuid.uuid4())
    project_id = await create_project(projects, owner)
    answer = await projects.put(
        f"/projects/{project_id}/members/{ghost}", json={"role": "owner"}, headers=owner.headers
    )
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == NOT_FOUND, problem
    assert problem["detail"] == f"User '{ghost}' does not exist.", problem
    assert await _member_ids(projects, project_id, owner) == {owner.id}


async def test_a_user_auth_users_knows_is_added_with_the_role_given(
    projects, new_user, real_user
) -> None:
    owner, member = new_user(), real_user()
    project_id = await create_project(projects, owner)
    answer = await projects.put(
        f"/projects/{project_id}/members/{member.id}",
        json={"role": "maintainer"},
        headers=owner.headers,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["user_id"] == member.id and answer.json()["role"] == "maintainer"
    access = await projects.get(f"/projects/{project_id}/access", headers=member.headers)
    assert access.json()["role"] == "maintainer", access.text


async def test_a_disabled_user_may_be_added_since_disabling_is_reversible(
    projects, new_user, accounts: Accounts, identity: Identity
) -> None:
    owner = new_user()
    user_id = accounts.user_id()
    disabled = httpx.patch(
        f"{accounts.urls['auth_users']}/users/{user_id}",
        json={"disabled": True},
        headers=accounts.admin_headers(),
        timeout=20,
    )
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True, disabled.text
    project_id = await create_project(projects, owner)
    answer = await projects.put(
        f"/projects/{project_id}/members/{user_id}", json={"role": "viewer"}, headers=owner.headers
    )
    assert answer.status_code == 201, answer.text
    assert user_id in await _member_ids(projects, project_id, owner)


async def test_a_role_change_asks_nobody_and_a_newcomer_waits_for_auth_users(
    projects, client_for, new_user, real_user, accounts: Accounts, refusing_url: str
) -> None:
    """With auth-users down, a member's role still changes (they were checked when added)
    but a new member is a 503 and is not added."""
    owner, member, newcomer = new_user(), real_user(), real_user()
    project_id = await create_project(projects, owner)
    await add_member(projects, project_id, owner, member, "viewer")
    cut_off = client_for("projects", **{**accounts.env, "AUTH_USERS_URL": refusing_url})
    changed = await cut_off.put(
        f"/projects/{project_id}/members/{member.id}",
        json={"role": "maintainer"},
        headers=owner.headers,
    )
    assert changed.status_code == 200 and changed.json()["role"] == "maintainer", changed.text
    refused = await cut_off.put(
        f"/projects/{project_id}/members/{newcomer.id}",
        json={"role": "viewer"},
        headers=owner.headers,
    )
    assert refused.status_code == 503, refused.text
    assert refused.json()["type"] == "https://errors.ai-codereview.dev/unavailable"
    assert refused.headers["retry-after"], refused.headers
    assert await _member_ids(cut_off, project_id, owner) == {owner.id, member.id}


# ---------------------------------------------------------------- the internal routes


def _service(identity: Identity) -> dict[str, str]:
    return identity.headers("sa-platform", role="service", scope="internal")


async def test_sole_ownerships_list_only_the_projects_nobody_else_owns(
    projects, internal_projects, new_user, real_user, identity: Identity
) -> None:
    owner, co_owner = new_user(), real_user()
    alone = await create_project(projects, owner, name="alone")
    shared = await create_project(projects, owner, name="shared")
    await add_member(projects, shared, owner, co_owner, "owner")
    viewing = await create_project(projects, co_owner)
    await add_member(projects, viewing, co_owner, real_user(), "owner")
    answer = await internal_projects.get(
        f"/members/{owner.id}/sole-ownerships", headers=_service(identity)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "user_id": owner.id,
        "total": 1,
        "projects": [{"id": alone, "name": "alone"}],
    }
    nothing = await internal_projects.get(
        f"/members/{co_owner.id}/sole-ownerships", headers=_service(identity)
    )
    assert nothing.json()["total"] == 0 and nothing.json()["projects"] == [], nothing.text


async def test_removing_a_users_memberships_is_idempotent(
    projects, internal_projects, new_user, real_user, identity: Identity
) -> None:
    owner, member = new_user(), real_user()
    first, second = await create_project(projects, owner), await create_project(projects, owner)
    await add_member(projects, first, owner, member, "viewer")
    await add_member(projects, second, owner, member, "owner")
    removed = await internal_projects.delete(f"/members/{member.id}", headers=_service(identity))
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"user_id": member.id, "removed": 2}
    for project_id in (first, second):
        assert await _member_ids(projects, project_id, owner) == {owner.id}
    again = await internal_projects.delete(f"/members/{member.id}", headers=_service(identity))
    assert again.status_code == 200 and again.json()["removed"] == 0, again.text


async def test_the_internal_routes_refuse_everyone_but_platform_services(
    projects, internal_projects, new_user, identity: Identity
) -> None:
    owner = new_user()
    await create_project(projects, owner)
    forger = Identity()  # a key auth-tokens never had
    callers = {
        "member": (owner.headers, 403),
        "admin": (identity.headers(str(uuid.uuid4()), role="admin"), 403),
        "service acting for a user": (
            {**_service(identity), "X-Acting-User": owner.id},
            403,
        ),
        "forged service token": (
            forger.headers("sa-platform", role="service", scope="internal"),
            401,
        ),
        "anonymous": ({}, 401),
    }
    for method, path in (
        ("GET", f"/members/{owner.id}/sole-ownerships"),
        ("DELETE", f"/members/{owner.id}"),
    ):
        for who, (headers, status) in callers.items():
            answer = await internal_projects.request(method, path, headers=headers)
            assert answer.status_code == status, f"{who} {method} {path}: {answer.text}"
            assert answer.headers["content-type"] == "application/problem+json", answer.text
        public = await projects.request(method, path, headers=_service(identity))
        assert public.status_code == 404, "Internal routes are absent at a public address."
    still = await projects.get("/projects", headers=owner.headers)
    assert len(still.json()["items"]) == 1, "No refused call may remove a membership."
