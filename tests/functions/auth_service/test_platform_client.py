"""The platform service account comes from configuration (PLATFORM_CLIENT_ID/SECRET, a
generated Secret in the cluster): auth-service creates it at start-up, and a rotated secret
replaces the old one at the next start."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable

from tests.functions.auth_service._support import Auth, claims_of


async def _client_credentials(auth: Auth, client_id: str, secret: str) -> int:
    answer = await auth.tokens.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    if answer.status_code == 200:
        claims = claims_of(answer.json()["access_token"])[1]
        assert claims["scope"] == "internal" and claims["role"] == "service", claims
    return answer.status_code


async def test_the_configured_account_exists_after_start_up(make_auth: Callable[..., Auth]) -> None:
    client_id, secret = f"sa-{uuid.uuid4().hex[:24]}", secrets.token_urlsafe(32)
    auth = make_auth(PLATFORM_CLIENT_ID=client_id, PLATFORM_CLIENT_SECRET=secret)
    assert (await auth.tokens.get("/health/startup")).status_code == 200
    assert await _client_credentials(auth, client_id, secret) == 200
    assert await _client_credentials(auth, client_id, secret + "x") == 401


async def test_a_rotated_secret_replaces_the_old_one_at_the_next_start(
    make_auth: Callable[..., Auth],
) -> None:
    client_id = f"sa-{uuid.uuid4().hex[:24]}"
    old, new = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    before = make_auth(PLATFORM_CLIENT_ID=client_id, PLATFORM_CLIENT_SECRET=old)
    assert (await before.tokens.get("/health/startup")).status_code == 200
    assert await _client_credentials(before, client_id, old) == 200

    after = make_auth(PLATFORM_CLIENT_ID=client_id, PLATFORM_CLIENT_SECRET=new)
    assert (await after.tokens.get("/health/startup")).status_code == 200
    assert await _client_credentials(after, client_id, new) == 200
    assert await _client_credentials(after, client_id, old) == 401
