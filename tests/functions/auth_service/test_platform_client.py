"""The platform service account comes from configuration (PLATFORM_CLIENT_ID/SECRET, a
generated Secret in the cluster): auth-tokens creates it at start-up, and the configured
secret is the only one its ``client_credentials`` grant accepts, so a rotated secret
replaces the old one from the first start that reads it. No cold start hashes or verifies
the secret with Argon2 once the account exists (issue 12, goal 1)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from functions.auth_service import passwords
from tests.functions.auth_service._support import Auth, claims_of


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the Argon2 operations run from now on (hash, verify)."""
    calls: list[str] = []
    for name in ("hash_password", "verify_password"):
        real = getattr(passwords, name)

        async def spy(*args: Any, _real: Any = real, _name: str = name) -> Any:
            calls.append(_name)
            return await _real(*args)

        monkeypatch.setattr(passwords, name, spy)
    return calls


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


async def test_a_start_that_finds_the_account_runs_no_argon2(
    make_auth: Callable[..., Auth], argon2_calls: list[str]
) -> None:
    client_id, secret = f"sa-{uuid.uuid4().hex[:24]}", secrets.token_urlsafe(32)
    first = make_auth(PLATFORM_CLIENT_ID=client_id, PLATFORM_CLIENT_SECRET=secret)
    assert (await first.tokens.get("/health/startup")).status_code == 200
    assert argon2_calls.count("hash_password") == 2  # the new admin's and the account's
    argon2_calls.clear()

    again = make_auth(PLATFORM_CLIENT_ID=client_id, PLATFORM_CLIENT_SECRET=secret)
    assert (await again.users.get("/health/startup")).status_code == 200
    assert (await again.tokens.get("/health/startup")).status_code == 200
    assert argon2_calls.count("verify_password") == 0, argon2_calls
    assert argon2_calls.count("hash_password") == 1, argon2_calls  # this test's new admin
    # the configured client is checked against the configuration, in constant time
    assert await _client_credentials(again, client_id, secret) == 200
    assert await _client_credentials(again, client_id, secret[:-1]) == 401
    assert argon2_calls.count("verify_password") == 0, argon2_calls


async def test_other_service_accounts_are_still_checked_against_their_stored_hash(
    make_auth: Callable[..., Auth], argon2_calls: list[str]
) -> None:
    auth = make_auth(
        PLATFORM_CLIENT_ID=f"sa-{uuid.uuid4().hex[:24]}",
        PLATFORM_CLIENT_SECRET=secrets.token_urlsafe(32),
    )
    created = await auth.users.post(
        "/service-accounts",
        json={"name": "ci", "scopes": ["internal"]},
        headers=await auth.admin_headers(),
    )
    assert created.status_code == 201, created.text
    account = created.json()
    argon2_calls.clear()
    assert await _client_credentials(auth, account["client_id"], account["client_secret"]) == 200
    assert await _client_credentials(auth, account["client_id"], "not-its-secret") == 401
    assert argon2_calls == ["verify_password", "verify_password"]


async def test_the_configured_secret_does_not_open_another_client(
    make_auth: Callable[..., Auth],
) -> None:
    """The configuration speaks for the configured client id only."""
    platform_secret = secrets.token_urlsafe(32)
    auth = make_auth(
        PLATFORM_CLIENT_ID=f"sa-{uuid.uuid4().hex[:24]}", PLATFORM_CLIENT_SECRET=platform_secret
    )
    created = await auth.users.post(
        "/service-accounts",
        json={"name": "other", "scopes": ["internal"]},
        headers=await auth.admin_headers(),
    )
    assert created.status_code == 201, created.text
    assert await _client_credentials(auth, created.json()["client_id"], platform_secret) == 401
