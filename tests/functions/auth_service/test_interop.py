"""Interoperability with OAuth and JOSE libraries not written here, against a real process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.functions.auth_service._support import AUDIENCE, ISSUER, PASSWORD, unique_email


@pytest.fixture
def platform(start_function: Callable[..., Any]) -> dict[str, Any]:
    """auth-tokens and auth-users as real functions-framework processes, with an admin."""
    admin = {"ADMIN_EMAIL": unique_email("admin"), "ADMIN_PASSWORD": PASSWORD + " admin"}
    env = {**admin, "LOG_LEVEL": "DEBUG"}
    tokens = start_function("auth_tokens", **env)
    users = start_function("auth_users", **env)
    return {"tokens": tokens, "users": users, **admin}


async def _register(users_url: str) -> str:
    email = unique_email("interop")
    async with httpx.AsyncClient(base_url=users_url) as client:
        answer = await client.post("/users", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 202, answer.text
    return email


async def test_authlib_fetches_and_refreshes_a_token_with_the_password_grant(
    platform: dict[str, Any],
) -> None:
    email = await _register(platform["users"].url)
    token_url = f"{platform['tokens'].url}/token"
    async with AsyncOAuth2Client(token_endpoint_auth_method="none") as client:
        token = await client.fetch_token(token_url, username=email, password=PASSWORD)
        assert token["token_type"] == "Bearer" and token["refresh_token"], token
        assert token["expires_at"] > token["expires_in"], "authlib computed the expiry"
        me = await client.get(f"{platform['users'].url}/users/me")
        assert me.status_code == 200 and me.json()["email"] == email, me.text
        refreshed = await client.refresh_token(token_url, refresh_token=token["refresh_token"])
        with pytest.raises(OAuthError) as reused:
            await client.refresh_token(token_url, refresh_token=token["refresh_token"])
        with pytest.raises(OAuthError) as wrong:
            await client.fetch_token(token_url, username=email, password="wrong password!")
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"], "rotated on every use"
    assert (reused.value.error, wrong.value.error) == ("invalid_grant", "invalid_grant")


async def _service_account(platform: dict[str, Any]) -> dict[str, Any]:
    async with AsyncOAuth2Client(token_endpoint_auth_method="none") as admin:
        await admin.fetch_token(
            f"{platform['tokens'].url}/token",
            username=platform["ADMIN_EMAIL"],
            password=platform["ADMIN_PASSWORD"],
        )
        answer = await admin.post(
            f"{platform['users'].url}/service-accounts",
            json={"name": "interop-bot", "scopes": ["internal", "reviews:read"]},
        )
    assert answer.status_code == 201, answer.text
    account: dict[str, Any] = answer.json()
    return account


async def test_authlib_fetches_client_credentials_tokens_with_basic_and_post_auth(
    platform: dict[str, Any],
) -> None:
    account = await _service_account(platform)
    token_url = f"{platform['tokens'].url}/token"
    for method in ("client_secret_basic", "client_secret_post"):
        async with AsyncOAuth2Client(
            account["client_id"],
            account["client_secret"],
            scope="reviews:read",
            token_endpoint_auth_method=method,
        ) as client:
            token = await client.fetch_token(token_url, grant_type="client_credentials")
        assert token["scope"] == "reviews:read" and "refresh_token" not in token, (method, token)
    async with AsyncOAuth2Client(account["client_id"], "not-the-secret") as client:
        with pytest.raises(OAuthError) as refused:
            await client.fetch_token(token_url, grant_type="client_credentials")
    assert refused.value.error == "invalid_client"
    for process in (platform["users"], platform["tokens"]):
        assert account["client_secret"] not in process.output(), "the secret never reaches logs"


async def test_joserfc_verifies_an_access_token_with_only_the_published_jwks(
    platform: dict[str, Any],
) -> None:
    email = await _register(platform["users"].url)
    async with httpx.AsyncClient(base_url=platform["tokens"].url) as client:
        jwks = (await client.get("/.well-known/jwks.json")).json()
        answer = await client.post(
            "/token", data={"grant_type": "password", "username": email, "password": PASSWORD}
        )
    keyset = KeySet.import_key_set(jwks)
    token = jwt.decode(answer.json()["access_token"], keyset, algorithms=["ES256", "EdDSA"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
        sub={"essential": True},
        jti={"essential": True},
    ).validate(token.claims)
    assert token.header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert token.claims["role"] == "member" and token.claims["scope"] == "user", token.claims
