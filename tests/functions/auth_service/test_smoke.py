"""Smoke checks: unknown paths are problems, and the identity fixture matches shared.auth.

The registration-login-profile round trip lives in test_users.py and test_tokens.py."""

from __future__ import annotations

import httpx


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
