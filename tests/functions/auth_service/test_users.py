"""auth-users: registration, profiles, administration, the last-admin guard and bootstrap."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.functions.auth_service._support import (
    PASSWORD,
    Auth,
    bearer,
    ec_pem,
    unique_email,
)

ROOT = Path(__file__).resolve().parents[3]


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json", answer.headers
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    return body


# ---------------------------------------------------------------- registration


async def test_self_registration_is_202_and_the_user_learns_their_id_by_signing_in(
    auth: Auth,
) -> None:
    email = unique_email()
    answer = await auth.users.post(
        "/users", json={"email": email, "password": PASSWORD, "name": "Ada"}
    )
    assert answer.status_code == 202, answer.text
    assert set(answer.json()) == {"status", "email", "detail"}, answer.json()
    assert (answer.json()["status"], answer.json()["email"]) == ("accepted", email)
    assert "POST /token" in answer.json()["detail"] and "id" not in answer.json()
    session = await auth.login(email)
    me = await auth.users.get("/users/me", headers=bearer(session["access_token"]))
    assert (me.json()["email"], me.json()["name"]) == (email, "Ada"), me.text
    uuid.UUID(me.json()["id"])


@pytest.mark.parametrize("variant", [str.lower, str.upper], ids=["same", "upper-case"])
async def test_self_registration_does_not_tell_whether_an_email_has_an_account(
    auth: Auth, variant: Callable[[str], str]
) -> None:
    """Issue 9 item 15: a 409 for a taken address told a stranger who is registered. Both
    answers are now the same 202 and body, and the owner's password still works."""
    taken, fresh = unique_email(), unique_email()
    owner = await auth.register(taken)
    again = await auth.users.post(
        "/users", json={"email": variant(taken), "password": "another long passphrase 7"}
    )
    new = await auth.users.post("/users", json={"email": fresh, "password": PASSWORD})
    assert again.status_code == new.status_code == 202, (again.text, new.text)
    assert set(again.json()) == set(new.json()), (again.json(), new.json())
    assert again.json() == {**new.json(), "email": taken}
    assert again.headers["content-type"] == new.headers["content-type"]
    assert (await auth.login(taken, owner["password"]))["access_token"]
    refused = await auth.password_grant(taken, "another long passphrase 7")
    assert refused.status_code in (400, 401), "the stranger's password was not set"


async def test_registration_by_an_admin_answers_the_user_without_secrets(auth: Auth) -> None:
    email = unique_email()
    answer = await auth.users.post(
        "/users",
        json={"email": email, "password": PASSWORD, "name": "Ada"},
        headers=await auth.admin_headers(),
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert {"id", "email", "name", "role", "created_at"} <= set(body), body
    assert (body["email"], body["name"], body["role"]) == (email, "Ada", "member")
    uuid.UUID(body["id"])
    assert datetime.fromisoformat(body["created_at"]).utcoffset() is not None, body
    assert "password" not in answer.text and "hash" not in answer.text


async def test_registration_lower_cases_the_email(auth: Auth) -> None:
    local = f"Mixed-{uuid.uuid4().hex[:8]}"
    user = await auth.register(f" {local}@Example.COM ")
    assert user["email"] == f"{local.lower()}@example.com"


@pytest.mark.parametrize("variant", [str.lower, str.upper], ids=["same", "upper-case"])
async def test_a_taken_email_is_a_409_problem_for_an_admin(
    auth: Auth, variant: Callable[[str], str]
) -> None:
    """An admin lists every user anyway: they are told the address is taken."""
    email = unique_email()
    await auth.register(email)
    again = await auth.users.post(
        "/users",
        json={"email": variant(email), "password": PASSWORD},
        headers=await auth.admin_headers(),
    )
    assert email in _problem(again, 409)["detail"]


@pytest.mark.parametrize(
    ("password", "failure"),
    [
        ("short pw", "at least 12"),
        ("password1234", "common"),
        ("aaaaaaaaaaaa", "repeat"),
        ("x" * 129, "at most 128"),
    ],
    ids=["short", "common", "repeated", "too-long"],
)
async def test_a_weak_password_is_422_listing_the_policy_failures(
    auth: Auth, password: str, failure: str
) -> None:
    answer = await auth.users.post("/users", json={"email": unique_email(), "password": password})
    errors = _problem(answer, 422)["errors"]
    assert any(failure in e["msg"] for e in errors), errors
    assert all(e["loc"][-1] == "password" for e in errors), errors


async def test_a_password_equal_to_the_email_is_refused(auth: Auth) -> None:
    email = unique_email("longaddress")
    answer = await auth.users.post("/users", json={"email": email, "password": email.upper()})
    errors = _problem(answer, 422)["errors"]
    assert any("e-mail" in e["msg"] for e in errors), errors


async def test_several_policy_failures_are_all_listed(auth: Auth) -> None:
    answer = await auth.users.post("/users", json={"email": unique_email(), "password": "aaaa"})
    messages = [e["msg"] for e in _problem(answer, 422)["errors"]]
    assert len(messages) >= 2 and any("at least" in m for m in messages), messages


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "@example.com", "x" * 250 + "@e.com"])
async def test_a_bad_email_is_422(auth: Auth, email: str) -> None:
    answer = await auth.users.post("/users", json={"email": email, "password": PASSWORD})
    errors = _problem(answer, 422)["errors"]
    assert errors[0]["loc"] == ["body", "email"], errors


async def test_unknown_fields_are_refused(auth: Auth) -> None:
    answer = await auth.users.post(
        "/users", json={"email": unique_email(), "password": PASSWORD, "role": "admin"}
    )
    errors = _problem(answer, 422)["errors"]
    assert errors[0]["loc"] == ["body", "role"], errors


async def test_registration_closed_by_config_refuses_anonymous_but_not_admins(
    make_auth: Callable[..., Auth],
) -> None:
    auth = make_auth(REGISTRATION_OPEN="false")
    anonymous = await auth.users.post(
        "/users", json={"email": unique_email(), "password": PASSWORD}
    )
    assert "closed" in _problem(anonymous, 403)["detail"]
    by_admin = await auth.users.post(
        "/users",
        json={"email": unique_email(), "password": PASSWORD},
        headers=await auth.admin_headers(),
    )
    assert by_admin.status_code == 201 and by_admin.json()["role"] == "member", by_admin.text


async def test_registration_is_closed_in_production_unless_configured_open(
    make_auth: Callable[..., Auth],
) -> None:
    auth = make_auth(ENVIRONMENT="production", AUTH_SIGNING_KEYS=ec_pem())
    anonymous = await auth.users.post(
        "/users", json={"email": unique_email(), "password": PASSWORD}
    )
    _problem(anonymous, 403)
    by_admin = await auth.users.post(
        "/users",
        json={"email": unique_email(), "password": PASSWORD},
        headers=await auth.admin_headers(),
    )
    assert by_admin.status_code == 201, by_admin.text


async def test_registration_can_be_opened_in_production(make_auth: Callable[..., Auth]) -> None:
    auth = make_auth(ENVIRONMENT="production", AUTH_SIGNING_KEYS=ec_pem(), REGISTRATION_OPEN="true")
    answer = await auth.users.post("/users", json={"email": unique_email(), "password": PASSWORD})
    assert answer.status_code == 202, answer.text


async def test_a_member_registering_while_closed_is_refused(make_auth: Callable[..., Auth]) -> None:
    auth = make_auth()
    _, session = await auth.user_token()
    closed = make_auth(REGISTRATION_OPEN="false")
    answer = await closed.users.post(
        "/users",
        json={"email": unique_email(), "password": PASSWORD},
        headers=bearer(session["access_token"]),
    )
    _problem(answer, 403)


async def test_an_idempotency_key_replay_returns_the_same_user_and_creates_one(auth: Auth) -> None:
    email = unique_email()
    request = {"email": email, "password": PASSWORD}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await auth.users.post("/users", json=request, headers=key)
    again = await auth.users.post("/users", json=request, headers=key)
    assert first.status_code == again.status_code == 202, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    listing = await _all_users(auth)
    assert [u["email"] for u in listing].count(email) == 1


async def test_an_idempotency_key_reused_with_another_body_is_422(auth: Auth) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    await auth.users.post(
        "/users", json={"email": unique_email(), "password": PASSWORD}, headers=key
    )
    other = await auth.users.post(
        "/users", json={"email": unique_email(), "password": PASSWORD}, headers=key
    )
    assert _problem(other, 422)["errors"][0]["loc"] == ["header", "Idempotency-Key"]


# ---------------------------------------------------------------- the caller's own user


async def test_users_me_answers_the_callers_user(auth: Auth) -> None:
    user, session = await auth.user_token(name="Grace")
    me = await auth.users.get("/users/me", headers=bearer(session["access_token"]))
    assert me.status_code == 200, me.text
    body = me.json()
    assert (body["id"], body["email"], body["name"]) == (user["id"], user["email"], "Grace")


async def test_users_me_without_a_token_is_401_with_a_bearer_challenge(auth: Auth) -> None:
    answer = await auth.users.get("/users/me")
    _problem(answer, 401)
    assert answer.headers["www-authenticate"].startswith("Bearer"), answer.headers


async def test_renaming_oneself_needs_the_current_password(auth: Auth) -> None:
    _, session = await auth.user_token()
    headers = bearer(session["access_token"])
    renamed = await auth.users.patch(
        "/users/me", json={"name": "New Name", "current_password": PASSWORD}, headers=headers
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "New Name", renamed.text
    wrong = await auth.users.patch(
        "/users/me", json={"name": "Other", "current_password": "wrong password!"}, headers=headers
    )
    assert "current password" in _problem(wrong, 403)["detail"]
    missing = await auth.users.patch("/users/me", json={"name": "Other"}, headers=headers)
    _problem(missing, 422)
    me = await auth.users.get("/users/me", headers=headers)
    assert me.json()["name"] == "New Name"


async def test_a_new_password_must_meet_the_policy(auth: Auth) -> None:
    user, session = await auth.user_token()
    weak = await auth.users.patch(
        "/users/me",
        json={"password": "aaaaaaaaaaaa", "current_password": PASSWORD},
        headers=bearer(session["access_token"]),
    )
    _problem(weak, 422)
    assert (await auth.password_grant(user["email"])).status_code == 200, "password unchanged"


# ---------------------------------------------------------------- administration


async def test_admin_endpoints_are_403_for_members_and_401_without_a_token(auth: Auth) -> None:
    user, session = await auth.user_token()
    member = bearer(session["access_token"])
    calls = [
        ("GET", "/users", None),
        ("PATCH", f"/users/{user['id']}", {"role": "admin"}),
        ("DELETE", f"/users/{user['id']}", None),
        ("POST", "/service-accounts", {"name": "x", "scopes": []}),
    ]
    for method, path, body in calls:
        forbidden = await auth.users.request(method, path, json=body, headers=member)
        _problem(forbidden, 403)
        anonymous = await auth.users.request(method, path, json=body)
        _problem(anonymous, 401)
        assert anonymous.headers["www-authenticate"].startswith("Bearer"), (method, path)
    me = await auth.users.get("/users/me", headers=member)
    assert me.json()["role"] == "member", "the member did not promote themselves"


async def _all_users(auth: Auth) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        page = await auth.users.get("/users", params=params, headers=await auth.admin_headers())
        assert page.status_code == 200, page.text
        users += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return users


async def test_listing_users_pages_with_limit_and_cursor(auth: Auth) -> None:
    created = [(await auth.register())["id"] for _ in range(3)]
    admin = await auth.admin_headers()
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(1000):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await auth.users.get("/users", params=params, headers=admin)
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) == {"items", "next_cursor"} and len(body["items"]) <= 2, body
        seen += [u["id"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "pages must not overlap"
    assert seen[-3:] == created, "the newest users come last, in creation order"


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "201"}, {"cursor": "garbage!"}])
async def test_listing_users_refuses_bad_paging_parameters(
    auth: Auth, query: dict[str, str]
) -> None:
    answer = await auth.users.get("/users", params=query, headers=await auth.admin_headers())
    assert _problem(answer, 422)["errors"][0]["loc"][0] == "query"


async def test_an_admin_promotes_and_disables_a_user(auth: Auth) -> None:
    user, session = await auth.user_token()
    admin = await auth.admin_headers()
    promoted = await auth.users.patch(f"/users/{user['id']}", json={"role": "admin"}, headers=admin)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin", promoted.text
    relogged = await auth.login(user["email"])
    listing = await auth.users.get("/users", headers=bearer(relogged["access_token"]))
    assert listing.status_code == 200, "a promoted user is an admin with a new token"
    disabled = await auth.users.patch(
        f"/users/{user['id']}", json={"disabled": True}, headers=admin
    )
    assert disabled.json()["disabled"] is True, disabled.text
    refused = await auth.refresh(relogged["refresh_token"])
    assert refused.json()["error"] == "invalid_grant", "disabling revokes refresh tokens"


async def test_an_admin_deletes_a_user_then_it_is_gone(auth_with_projects: Auth) -> None:
    auth = auth_with_projects
    user, session = await auth.user_token()
    admin = await auth.admin_headers()
    deleted = await auth.users.delete(f"/users/{user['id']}", headers=admin)
    assert (deleted.status_code, deleted.content) == (204, b""), deleted.text
    again = await auth.users.delete(f"/users/{user['id']}", headers=admin)
    assert user["id"] in _problem(again, 404)["detail"]
    patched = await auth.users.patch(f"/users/{user['id']}", json={"name": "x"}, headers=admin)
    _problem(patched, 422)
    gone = await auth.users.patch(f"/users/{user['id']}", json={"role": "member"}, headers=admin)
    _problem(gone, 404)
    assert (await auth.refresh(session["refresh_token"])).json()["error"] == "invalid_grant"


async def test_the_last_admin_cannot_be_demoted_disabled_or_deleted(auth: Auth) -> None:
    admin = await auth.admin_headers()
    me = (await auth.users.get("/users/me", headers=admin)).json()
    others = [
        u["id"]
        for u in await _all_users(auth)
        if u["role"] == "admin" and not u["disabled"] and u["id"] != me["id"]
    ]
    for other in others:
        answer = await auth.users.patch(f"/users/{other}", json={"disabled": True}, headers=admin)
        assert answer.status_code == 200, answer.text
    try:
        for method, body in (("PATCH", {"role": "member"}), ("PATCH", {"disabled": True})):
            answer = await auth.users.request(
                method, f"/users/{me['id']}", json=body, headers=admin
            )
            assert "last" in _problem(answer, 409)["detail"], body
        deleted = await auth.users.delete(f"/users/{me['id']}", headers=admin)
        _problem(deleted, 409)
        still = await auth.users.get("/users/me", headers=admin)
        assert (still.json()["role"], still.json()["disabled"]) == ("admin", False)
    finally:
        for other in others:
            await auth.users.patch(f"/users/{other}", json={"disabled": False}, headers=admin)


async def test_two_concurrent_demotions_cannot_remove_the_last_admin(auth: Auth) -> None:
    admin = await auth.admin_headers()
    me = (await auth.users.get("/users/me", headers=admin)).json()
    others = [
        u["id"]
        for u in await _all_users(auth)
        if u["role"] == "admin" and not u["disabled"] and u["id"] != me["id"]
    ]
    for other in others:
        await auth.users.patch(f"/users/{other}", json={"disabled": True}, headers=admin)
    second = await auth.register()
    await auth.users.patch(f"/users/{second['id']}", json={"role": "admin"}, headers=admin)
    try:
        answers = await asyncio.gather(
            *(
                auth.users.patch(f"/users/{target}", json={"role": "member"}, headers=admin)
                for target in (me["id"], second["id"])
            )
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    finally:
        for other in others:
            await auth.users.patch(f"/users/{other}", json={"disabled": False}, headers=admin)


async def test_an_admin_may_demote_itself_when_another_admin_remains(auth: Auth) -> None:
    user = await auth.register()
    admin = await auth.admin_headers()
    await auth.users.patch(f"/users/{user['id']}", json={"role": "admin"}, headers=admin)
    me = (await auth.users.get("/users/me", headers=admin)).json()
    answer = await auth.users.patch(f"/users/{me['id']}", json={"role": "member"}, headers=admin)
    assert answer.status_code == 200 and answer.json()["role"] == "member", answer.text


# ---------------------------------------------------------------- service tokens


async def test_a_service_token_has_no_user_profile(auth: Auth) -> None:
    token = await auth.service_token(["reviews:read"])
    answer = await auth.users.get("/users/me", headers=bearer(token))
    assert "Service" in _problem(answer, 403)["detail"]


async def test_a_service_token_without_internal_scope_cannot_act_for_a_user(auth: Auth) -> None:
    user = await auth.register()
    token = await auth.service_token(["reviews:read"])
    answer = await auth.users.get(
        "/users/me", headers={**bearer(token), "X-Acting-User": user["id"]}
    )
    _problem(answer, 403)


async def test_an_internal_service_token_reads_the_user_it_acts_for(auth: Auth) -> None:
    user = await auth.register()
    token = await auth.service_token(["internal"])
    answer = await auth.users.get(
        "/users/me", headers={**bearer(token), "X-Acting-User": user["id"]}
    )
    assert answer.status_code == 200 and answer.json()["id"] == user["id"], answer.text


# ---------------------------------------------------------------- bootstrap admin


async def test_the_bootstrap_admin_is_created_once_and_can_log_in(
    make_auth: Callable[..., Auth], client_for: Callable[..., Any]
) -> None:
    auth = make_auth()
    admin = await auth.admin_headers()
    me = (await auth.users.get("/users/me", headers=admin)).json()
    assert (me["email"], me["role"]) == (auth.admin_email, "admin"), me
    restarted = client_for(
        "auth_users", ADMIN_EMAIL=auth.admin_email.upper(), ADMIN_PASSWORD="another password 99"
    )
    assert (await restarted.get("/health/startup")).status_code == 200
    matching = [u for u in await _all_users(auth) if u["email"] == auth.admin_email]
    assert len(matching) == 1, matching
    assert (await auth.password_grant(auth.admin_email, auth.admin_password)).status_code == 200
    assert (await auth.password_grant(auth.admin_email, "another password 99")).status_code == 400


async def test_a_restart_whose_admin_exists_starts_without_the_address_validator(
    make_auth: Callable[..., Auth], platform_env: dict[str, str]
) -> None:
    """email-validator's import (~30 ms of tables) is paid where an address is read, not by
    importing the functions nor by a bootstrap that finds its admin (issue 12, goal 1)."""
    auth = make_auth()
    assert (await auth.tokens.get("/health/startup")).status_code == 200  # the admin exists
    probe = (
        "import asyncio, sys\n"
        "import functions.auth_service.main\n"
        "from functions.auth_service import context\n"
        "imported = 'email_validator' in sys.modules\n"
        "asyncio.run(context.bootstrap_admin())\n"
        "print(imported, 'email_validator' in sys.modules)\n"
    )
    env = {
        **os.environ,
        **platform_env,
        "SERVICE_NAME": "auth-service",
        "ADMIN_EMAIL": f"  {auth.admin_email.upper()} ",
        "ADMIN_PASSWORD": auth.admin_password,
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"], done.stdout + done.stderr
    matching = [u for u in await _all_users(auth) if u["email"] == auth.admin_email]
    assert len(matching) == 1, matching


async def test_without_admin_password_no_admin_is_created(
    client_for: Callable[..., Any], make_auth: Callable[..., Auth]
) -> None:
    email = unique_email("nobody")
    tokens = client_for("auth_tokens", ADMIN_EMAIL=email)
    assert (await tokens.get("/health/startup")).status_code == 200
    auth = make_auth()
    assert email not in [u["email"] for u in await _all_users(auth)]


async def test_only_auth_tokens_starts_by_bootstrapping_the_admin(
    client_for: Callable[..., Any], make_auth: Callable[..., Auth]
) -> None:
    """Logins are auth-tokens' requests: auth-users' cold start does not look up (or
    create) the first admin; auth-tokens' does."""
    email, password = unique_email("first"), PASSWORD + " first"
    users = client_for("auth_users", ADMIN_EMAIL=email, ADMIN_PASSWORD=password)
    assert (await users.get("/health/startup")).status_code == 200
    auth = make_auth()
    assert email not in [u["email"] for u in await _all_users(auth)]
    tokens = client_for("auth_tokens", ADMIN_EMAIL=email, ADMIN_PASSWORD=password)
    assert (await tokens.get("/health/startup")).status_code == 200
    assert [u["role"] for u in await _all_users(auth) if u["email"] == email] == ["admin"]


@pytest.mark.parametrize(
    "weak", ["abcabcabcabc", "qwertyuiop12", "Password2024!", "letmeinletmein"]
)
async def test_weak_but_long_passwords_are_refused_offline(auth: Auth, weak: str) -> None:
    """Issue 9 item 15: abcabcabcabc and qwertyuiop12 were accepted."""
    answer = await auth.users.post("/users", json={"email": unique_email(), "password": weak})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["loc"] == ["body", "password"]


async def test_guessing_the_current_password_is_throttled(make_auth: Any) -> None:
    """Issue 9 item 15: current_password could be guessed without limit with a token."""
    auth = make_auth(LOGIN_MAX_FAILURES_PER_ACCOUNT="3")
    user, session = await auth.user_token()
    headers = bearer(session["access_token"])
    statuses = []
    for n in range(5):
        answer = await auth.users.patch(
            "/users/me", json={"name": "x", "current_password": f"guess {n}"}, headers=headers
        )
        statuses.append(answer.status_code)
    assert statuses == [403, 403, 403, 429, 429], statuses
