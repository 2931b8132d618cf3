"""A first pass through auth-tokens and auth-users in-process."""

from __future__ import annotations

import uuid

import httpx


async def test_registered_user_logs_in_and_reads_their_profile(client_for) -> None:
    users = client_for("auth_users")
    tokens = client_for("auth_tokens")
    email = f"user-{uuid.uuid4().hex[:8]}@Example.COM"
    created = await users.post("/users", json={"email": email, "password": "correct horse battery"})
    assert created.status_code == 201, created.text
    assert created.json()["email"] == email.lower()
    answer = await tokens.post(
        "/token",
        data={"grant_type": "password", "username": email, "password": "correct horse battery"},
    )
    assert answer.status_code == 200, answer.text
    access = answer.json()["access_token"]
    me = await users.get("/users/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == created.json()["id"]


async def test_unknown_path_is_a_problem_document(client_for) -> None:
    tokens: httpx.AsyncClient = client_for("auth_tokens")
    answer = await tokens.get("/nope")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 404


async def test_the_identity_fixture_mints_tokens_other_functions_accept(identity) -> None:
    from shared import auth, config

    class _Settings(config.BaseConfig):
        pass

    import os

    os.environ.update({"SERVICE_NAME": "probe", "JWKS_URL": identity.jwks_url})
    verifier = auth.Verifier(lambda: config.load(_Settings))
    principal = await verifier.verify(identity.token("u-1", role="admin"))
    assert (principal.subject, principal.role) == ("u-1", "admin"), principal
