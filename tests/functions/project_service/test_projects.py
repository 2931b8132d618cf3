"""projects: creating, listing, editing and deleting projects, and managing members."""

from __future__ import annotations

import uuid

from tests.functions.project_service._support import add_member, create_project


async def test_creating_a_project_makes_the_caller_its_owner(projects, new_user) -> None:
    owner = new_user()
    answer = await projects.post(
        "/projects", json={"name": "  Shop  ", "description": "d"}, headers=owner.headers
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["name"], body["description"], body["owner_id"], body["role"]) == (
        "Shop",
        "d",
        owner.id,
        "owner",
    ), body
    members = await projects.get(f"/projects/{body['id']}/members", headers=owner.headers)
    assert [(m["user_id"], m["role"]) for m in members.json()["items"]] == [(owner.id, "owner")]


async def test_a_repeated_idempotency_key_answers_the_first_project(projects, new_user) -> None:
    owner = new_user()
    headers = {**owner.headers, "Idempotency-Key": uuid.uuid4().hex}
    first = await projects.post("/projects", json={"name": "once"}, headers=headers)
    again = await projects.post("/projects", json={"name": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"], "The repeat should not create a project."
    assert again.headers.get("idempotent-replayed") == "true"
    listed = await projects.get("/projects", headers=owner.headers)
    assert len(listed.json()["items"]) == 1, listed.json()


async def test_the_list_shows_only_the_callers_projects_and_paginates(projects, new_user) -> None:
    owner, stranger = new_user(), new_user()
    ids = [await create_project(projects, owner) for _ in range(3)]
    await create_project(projects, stranger)
    first = await projects.get("/projects?limit=2", headers=owner.headers)
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    assert cursor, "Two of three projects should leave a next page."
    second = await projects.get(f"/projects?limit=2&cursor={cursor}", headers=owner.headers)
    seen = [p["id"] for p in first.json()["items"] + second.json()["items"]]
    assert seen == ids, "Pages should list the caller's projects oldest first, each once."
    assert second.json()["next_cursor"] is None


async def test_admins_list_every_project_only_when_asking_for_all(projects, new_user) -> None:
    admin, owner = new_user(role="admin"), new_user()
    project_id = await create_project(projects, owner)
    own = await projects.get("/projects", headers=admin.headers)
    assert project_id not in [p["id"] for p in own.json()["items"]]
    found: list[dict[str, object]] = []
    cursor = None
    while not found:  # oldest first: the session's other tests may fill the first pages
        params = {"all": "true", "limit": "200", **({"cursor": cursor} if cursor else {})}
        every = await projects.get("/projects", params=params, headers=admin.headers)
        assert every.status_code == 200, every.text
        found = [p for p in every.json()["items"] if p["id"] == project_id]
        cursor = every.json()["next_cursor"]
        if cursor is None:
            break
    assert found and found[0]["role"] is None, every.text
    refused = await projects.get("/projects?all=true", headers=owner.headers)
    assert refused.status_code == 403, refused.text


async def test_maintainers_edit_but_viewers_may_not(projects, new_user, real_user) -> None:
    owner, maintainer, viewer = new_user(), real_user(), real_user()
    project_id = await create_project(projects, owner)
    await add_member(projects, project_id, owner, maintainer, "maintainer")
    await add_member(projects, project_id, owner, viewer, "viewer")
    edited = await projects.patch(
        f"/projects/{project_id}", json={"description": "new"}, headers=maintainer.headers
    )
    assert edited.status_code == 200 and edited.json()["description"] == "new", edited.text
    refused = await projects.patch(
        f"/projects/{project_id}", json={"name": "x"}, headers=viewer.headers
    )
    assert refused.status_code == 403, refused.text
    read = await projects.get(f"/projects/{project_id}", headers=viewer.headers)
    assert read.json()["name"] != "x" and read.json()["role"] == "viewer", read.text


async def test_only_owners_delete_a_project(projects, new_user, real_user) -> None:
    owner, maintainer = new_user(), real_user()
    project_id = await create_project(projects, owner)
    await add_member(projects, project_id, owner, maintainer, "maintainer")
    refused = await projects.delete(f"/projects/{project_id}", headers=maintainer.headers)
    assert refused.status_code == 403, refused.text
    deleted = await projects.delete(f"/projects/{project_id}", headers=owner.headers)
    assert deleted.status_code == 204, deleted.text
    gone = await projects.get(f"/projects/{project_id}", headers=owner.headers)
    assert gone.status_code == 404, gone.text


async def test_putting_a_member_answers_201_then_200_when_the_role_changes(
    projects, new_user, real_user
) -> None:
    owner, member = new_user(), real_user()
    project_id = await create_project(projects, owner)
    url = f"/projects/{project_id}/members/{member.id}"
    added = await projects.put(url, json={"role": "viewer"}, headers=owner.headers)
    changed = await projects.put(url, json={"role": "maintainer"}, headers=owner.headers)
    assert (added.status_code, changed.status_code) == (201, 200), changed.text
    assert changed.json()["role"] == "maintainer"


async def test_only_owners_manage_members(projects, new_user, real_user) -> None:
    owner, maintainer, other = new_user(), real_user(), real_user()
    project_id = await create_project(projects, owner)
    await add_member(projects, project_id, owner, maintainer, "maintainer")
    refused = await projects.put(
        f"/projects/{project_id}/members/{other.id}",
        json={"role": "viewer"},
        headers=maintainer.headers,
    )
    assert refused.status_code == 403, refused.text
    still_out = await projects.get(f"/projects/{project_id}", headers=other.headers)
    assert still_out.status_code == 404, "The refused PUT should not have added the member."


async def test_the_last_owner_can_neither_leave_nor_be_demoted(projects, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    leave = await projects.delete(
        f"/projects/{project_id}/members/{owner.id}", headers=owner.headers
    )
    assert leave.status_code == 409, leave.text
    assert "last owner" in leave.json()["detail"]
    demote = await projects.put(
        f"/projects/{project_id}/members/{owner.id}",
        json={"role": "viewer"},
        headers=owner.headers,
    )
    assert demote.status_code == 409, demote.text
    access = await projects.get(f"/projects/{project_id}/access", headers=owner.headers)
    assert access.json()["role"] == "owner", "The refused changes should leave the owner."


async def test_an_owner_may_leave_once_another_owner_exists(projects, new_user, real_user) -> None:
    first, second = new_user(), real_user()
    project_id = await create_project(projects, first)
    await add_member(projects, project_id, first, second, "owner")
    left = await projects.delete(
        f"/projects/{project_id}/members/{first.id}", headers=first.headers
    )
    assert left.status_code == 204, left.text
    read = await projects.get(f"/projects/{project_id}", headers=second.headers)
    assert read.json()["owner_id"] == second.id, read.text
    gone = await projects.get(f"/projects/{project_id}", headers=first.headers)
    assert gone.status_code == 404, "Who left is no longer a member."


async def test_any_member_may_leave_but_not_remove_others(projects, new_user, real_user) -> None:
    owner, viewer, other = new_user(), real_user(), real_user()
    project_id = await create_project(projects, owner)
    await add_member(projects, project_id, owner, viewer, "viewer")
    await add_member(projects, project_id, owner, other, "viewer")
    removing = await projects.delete(
        f"/projects/{project_id}/members/{other.id}", headers=viewer.headers
    )
    assert removing.status_code == 403, removing.text
    leaving = await projects.delete(
        f"/projects/{project_id}/members/{viewer.id}", headers=viewer.headers
    )
    assert leaving.status_code == 204, leaving.text


async def test_the_access_check_names_the_role_and_hides_the_project_from_others(
    projects, new_user, real_user
) -> None:
    owner, viewer, stranger, admin = new_user(), real_user(), new_user(), new_user(role="admin")
    project_id = await create_project(projects, owner)
    await add_member(projects, project_id, owner, viewer, "viewer")
    url = f"/projects/{project_id}/access"
    roles = {}
    for name, user in (("owner", owner), ("viewer", viewer), ("admin", admin)):
        answer = await projects.get(url, headers=user.headers)
        roles[name] = answer.json()["role"]
    assert roles == {"owner": "owner", "viewer": "viewer", "admin": "admin"}, roles
    hidden = await projects.get(url, headers=stranger.headers)
    missing = await projects.get(f"/projects/{uuid.uuid4()}/access", headers=stranger.headers)
    assert hidden.status_code == missing.status_code == 404, hidden.text
    assert hidden.json()["detail"] == f"Project '{project_id}' does not exist.", (
        "A non-member should learn nothing beyond what a missing project says."
    )


async def test_a_service_acting_for_a_member_is_treated_as_that_member(
    projects, new_user, identity
) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    service = identity.headers("sa-analyses", role="service", scope="internal")
    as_owner = await projects.get(
        f"/projects/{project_id}/access", headers={**service, "X-Acting-User": owner.id}
    )
    assert as_owner.status_code == 200 and as_owner.json()["role"] == "owner", as_owner.text
    alone = await projects.get(f"/projects/{project_id}/access", headers=service)
    assert alone.status_code == 404, "A service acting for nobody is no member."
    user_token = identity.headers(new_user().id)
    forged = await projects.get(
        f"/projects/{project_id}/access", headers={**user_token, "X-Acting-User": owner.id}
    )
    assert forged.status_code == 403, "Only internal service tokens may act for a user."


async def test_bad_input_is_a_problem_never_a_500(projects, new_user) -> None:
    owner = new_user()
    project_id = await create_project(projects, owner)
    cases = [
        (projects.post("/projects", content=b"{", headers=owner.headers), 400),
        (projects.post("/projects", json={"name": "   "}, headers=owner.headers), 422),
        (projects.post("/projects", json={"name": "x", "extra": 1}, headers=owner.headers), 422),
        (projects.get("/projects/not-a-uuid", headers=owner.headers), 422),
        (projects.get("/projects?limit=0", headers=owner.headers), 422),
        (projects.get("/projects?cursor=bm9wZQ", headers=owner.headers), 422),
        (
            projects.put(
                f"/projects/{project_id}/members/{uuid.uuid4()}",
                json={"role": "god"},
                headers=owner.headers,
            ),
            422,
        ),
        (projects.get(f"/projects/{project_id}"), 401),
    ]
    for request, status in cases:
        answer = await request
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json", answer.text


async def test_a_token_acting_for_no_user_cannot_create_projects(projects, identity) -> None:
    service = identity.headers("sa-ci", role="service", scope="internal")
    answer = await projects.post("/projects", json={"name": "x"}, headers=service)
    assert answer.status_code == 403, answer.text


async def test_a_member_keeps_a_bounded_number_of_projects_even_in_a_burst(
    client_for, new_user
) -> None:
    """Issue 9 item 7: 25 projects created in a burst were all accepted."""
    import asyncio

    projects = client_for("projects", MAX_PROJECTS_PER_USER="3")
    owner, admin = new_user(), new_user(role="admin")
    answers = await asyncio.gather(
        *(
            projects.post("/projects", json={"name": f"p{n}"}, headers=owner.headers)
            for n in range(8)
        )
    )
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 5
    assert all(
        a.headers["content-type"] == "application/problem+json"
        for a in answers
        if a.status_code == 409
    )
    for _ in range(4):
        made = await projects.post("/projects", json={"name": "a"}, headers=admin.headers)
        assert made.status_code == 201, "admins are not limited"
