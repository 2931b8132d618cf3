"""Issue 9 item 5: disable, delete, role change and a password change end a user's access
tokens on their next request, in every function, not when the tokens expire."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


async def _login(auth: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    answer = await auth.post(
        "/token", data={"grant_type": "password", "username": email, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_revoked_users_lose_access_on_their_next_request(
    start_function: Callable[..., Any],
) -> None:
    admin_email, admin_password = "root@example.com", secrets.token_urlsafe(18)
    platform = {  # auth-tokens creates the account; auth-users logs in with it
        "PLATFORM_CLIENT_ID": f"platform-{uuid.uuid4().hex[:8]}",
        "PLATFORM_CLIENT_SECRET": secrets.token_urlsafe(24),
    }
    tokens = start_function(
        "auth_tokens", ADMIN_EMAIL=admin_email, ADMIN_PASSWORD=admin_password, **platform
    )
    jwks = {"JWKS_URL": f"{tokens.url}/.well-known/jwks.json"}
    projects = start_function("projects", TOKEN_REVOCATION_CACHE_SECONDS="0", **jwks)
    files = start_function("project_files", TOKEN_REVOCATION_CACHE_SECONDS="0", **jwks)
    users = start_function(  # deleting a user asks projects, as the platform account
        "auth_users",
        TOKEN_REVOCATION_CACHE_SECONDS="0",
        PROJECTS_URL=projects.url,
        AUTH_TOKENS_URL=tokens.url,
        **platform,
        **jwks,
    )
    async with (
        httpx.AsyncClient(base_url=tokens.url, timeout=20) as auth,
        httpx.AsyncClient(base_url=users.url, timeout=20) as people,
        httpx.AsyncClient(base_url=projects.url, timeout=20) as proj,
        httpx.AsyncClient(base_url=files.url, timeout=20) as blobs,
    ):
        admin = await _login(auth, admin_email, admin_password)
        accounts = {}
        for name in ("disabled", "demoted", "deleted", "rekeyed"):
            email, password = (
                f"{name}-{uuid.uuid4().hex[:8]}@example.com",
                secrets.token_urlsafe(18),
            )
            made = await people.post(
                "/users", json={"email": email, "password": password}, headers=admin
            )
            assert made.status_code == 201, made.text
            accounts[name] = (made.json()["id"], email, password)
        promoted = await people.patch(
            f"/users/{accounts['demoted'][0]}", json={"role": "admin"}, headers=admin
        )
        assert promoted.status_code == 200, promoted.text
        session = {n: await _login(auth, e, p) for n, (_, e, p) in accounts.items()}
        project = await proj.post("/projects", json={"name": "kept"}, headers=session["deleted"])
        assert project.status_code == 201, project.text
        path = f"/projects/{project.json()['id']}/files/a.py"
        assert (
            await proj.post("/projects", json={"name": "x"}, headers=session["disabled"])
        ).status_code == 201
        assert (await people.get("/users", headers=session["demoted"])).status_code == 200
        assert (
            await blobs.put(path, content=b"x = 1\n", headers=session["deleted"])
        ).status_code in (200, 201)

        disabled_id, demoted_id, deleted_id = (
            accounts[n][0] for n in ("disabled", "demoted", "deleted")
        )
        assert (
            await people.patch(f"/users/{disabled_id}", json={"disabled": True}, headers=admin)
        ).status_code == 200
        assert (
            await people.patch(f"/users/{demoted_id}", json={"role": "member"}, headers=admin)
        ).status_code == 200
        owning = await people.delete(f"/users/{deleted_id}", headers=admin)
        assert owning.status_code == 409, "The only owner of a project is not deleted."
        dropped = await proj.delete(f"/projects/{project.json()['id']}", headers=session["deleted"])
        assert dropped.status_code == 204, dropped.text
        assert (await people.delete(f"/users/{deleted_id}", headers=admin)).status_code == 204
        rekeyed_id, rekeyed_email, old_password = accounts["rekeyed"]
        new_password = secrets.token_urlsafe(18)
        changed = await people.patch(
            "/users/me",
            json={"password": new_password, "current_password": old_password},
            headers=session["rekeyed"],
        )
        assert changed.status_code == 200, changed.text

        attempts = {
            "disabled creates a project": proj.post(
                "/projects", json={"name": "y"}, headers=session["disabled"]
            ),
            "demoted admin lists users": people.get("/users", headers=session["demoted"]),
            "deleted user writes a file": blobs.put(
                path, content=b"x = 2\n", headers=session["deleted"]
            ),
            "old session after a password change": proj.get(
                "/projects", headers=session["rekeyed"]
            ),
        }
        for what, attempt in attempts.items():
            answer = await attempt
            assert answer.status_code == 401, (what, answer.text)
        fresh = await _login(auth, rekeyed_email, new_password)
        assert (await proj.get("/projects", headers=fresh)).status_code == 200
        demoted = await _login(auth, accounts["demoted"][1], accounts["demoted"][2])
        assert (await people.get("/users", headers=demoted)).status_code == 403
