"""service_token: the platform service account's token, from a real auth-tokens process."""

from __future__ import annotations

import os
import secrets

import pytest

from shared import auth, config, service_token
from shared.errors import Unavailable


class _Settings(config.BaseConfig):
    pass


def _settings() -> _Settings:
    loaded: _Settings = config.load(_Settings)
    return loaded


async def test_the_platform_client_is_bootstrapped_and_its_token_is_internal_and_cached(
    start_function,
) -> None:
    client_id, secret = f"platform-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    tokens = start_function(
        "auth_tokens", PLATFORM_CLIENT_ID=client_id, PLATFORM_CLIENT_SECRET=secret
    )
    os.environ.update(
        {
            "SERVICE_NAME": "probe",
            "AUTH_TOKENS_URL": tokens.url,
            "PLATFORM_CLIENT_ID": client_id,
            "PLATFORM_CLIENT_SECRET": secret,
            "JWKS_URL": f"{tokens.url}/.well-known/jwks.json",
        }
    )
    source = service_token.ServiceToken(_settings)
    first = await source.token()
    assert await source.token() == first, "the token is reused until it nears expiry"
    principal = await auth.Verifier(_settings).verify(first)
    assert principal.role == "service" and auth.INTERNAL_SCOPE in principal.scopes, principal
    headers = await source.headers(acting_for="user-1")
    assert headers == {"Authorization": f"Bearer {first}", "X-Acting-User": "user-1"}


async def test_a_wrong_secret_is_unavailable_not_a_crash(start_function) -> None:
    tokens = start_function(
        "auth_tokens",
        PLATFORM_CLIENT_ID="platform-x",
        PLATFORM_CLIENT_SECRET=secrets.token_urlsafe(24),
    )
    os.environ.update(
        {
            "SERVICE_NAME": "probe",
            "AUTH_TOKENS_URL": tokens.url,
            "PLATFORM_CLIENT_ID": "platform-x",
            "PLATFORM_CLIENT_SECRET": "not-the-secret",
        }
    )
    with pytest.raises(Unavailable) as caught:
        await service_token.ServiceToken(_settings).token()
    assert caught.value.status == 503 and "refused" in caught.value.reason


async def test_a_static_token_is_used_as_is_and_missing_credentials_are_named() -> None:
    os.environ.update({"SERVICE_NAME": "probe", "SERVICE_TOKEN": "abc.def.ghi"})
    assert await service_token.ServiceToken(_settings).token() == "abc.def.ghi"
    del os.environ["SERVICE_TOKEN"]
    config.reset_caches()
    with pytest.raises(Unavailable) as caught:
        await service_token.ServiceToken(_settings).token()
    assert "PLATFORM_CLIENT_ID" in caught.value.reason
