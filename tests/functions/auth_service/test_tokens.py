"""auth-tokens: the password, refresh_token and client_credentials grants, revocation, metadata."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from argon2 import PasswordHasher

from functions.auth_service import context, passwords
from tests.functions.auth_service._support import (
    AUDIENCE,
    ISSUER,
    PASSWORD,
    Auth,
    bearer,
    claims_of,
    unique_email,
)


def _assert_oauth_error(answer: object, error: str, status: int = 400) -> None:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.json()["error"] == error, answer.text  # type: ignore[attr-defined]


# ---------------------------------------------------------------- password grant


async def test_password_grant_with_a_form_issues_a_bearer_jwt_and_a_refresh_token(
    auth: Auth,
) -> None:
    user = await auth.register()
    answer = await auth.password_grant(user["email"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900, body
    assert body["refresh_token"] and "." not in body["refresh_token"], "refresh tokens are opaque"
    header, claims = claims_of(body["access_token"])
    assert header["alg"] == "ES256" and header["kid"], header
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE, claims
    assert claims["sub"] == user["id"] and claims["role"] == "member", claims
    assert claims["scope"] == "user" and claims["jti"], claims
    assert 0 < claims["exp"] - claims["iat"] <= 900, claims


async def test_password_grant_accepts_a_json_body(auth: Auth) -> None:
    user = await auth.register()
    answer = await auth.tokens.post(
        "/token",
        json={"grant_type": "password", "username": user["email"], "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    assert claims_of(answer.json()["access_token"])[1]["sub"] == user["id"]


async def test_each_access_token_has_its_own_jti(auth: Auth) -> None:
    user = await auth.register()
    first = await auth.login(user["email"])
    second = await auth.login(user["email"])
    assert claims_of(first["access_token"])[1]["jti"] != claims_of(second["access_token"])[1]["jti"]


async def test_login_normalizes_the_email_address(auth: Auth) -> None:
    local = f"bob-{uuid.uuid4().hex[:8]}"
    user = await auth.register(f"{local}@example.com")
    body = await auth.login(f"  {local.capitalize()}@EXAMPLE.com ")
    assert claims_of(body["access_token"])[1]["sub"] == user["id"]


async def test_wrong_password_and_unknown_user_are_the_same_invalid_grant(auth: Auth) -> None:
    user = await auth.register()
    wrong = await auth.password_grant(user["email"], "not the password at all")
    unknown = await auth.password_grant(unique_email("ghost"), PASSWORD)
    _assert_oauth_error(wrong, "invalid_grant")
    _assert_oauth_error(unknown, "invalid_grant")
    assert wrong.json()["error_description"] == unknown.json()["error_description"], (
        "the answer must not reveal which accounts exist"
    )


async def test_missing_grant_type_or_credentials_is_invalid_request(auth: Auth) -> None:
    no_grant = await auth.tokens.post("/token", data={"username": "a@example.com"})
    no_password = await auth.tokens.post(
        "/token", data={"grant_type": "password", "username": "a@example.com"}
    )
    no_username = await auth.tokens.post("/token", data={"grant_type": "password", "password": "x"})
    no_refresh = await auth.tokens.post("/token", data={"grant_type": "refresh_token"})
    for answer in (no_grant, no_password, no_username, no_refresh):
        _assert_oauth_error(answer, "invalid_request")


async def test_unknown_grant_type_is_unsupported_grant_type(auth: Auth) -> None:
    answer = await auth.tokens.post(
        "/token", data={"grant_type": "authorization_code", "code": "abc"}
    )
    _assert_oauth_error(answer, "unsupported_grant_type")
    assert "authorization_code" in answer.json()["error_description"]


async def test_a_disabled_user_cannot_log_in(auth: Auth) -> None:
    user = await auth.register()
    disabled = await auth.users.patch(
        f"/users/{user['id']}", json={"disabled": True}, headers=await auth.admin_headers()
    )
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True, disabled.text
    _assert_oauth_error(await auth.password_grant(user["email"]), "invalid_grant")


def _count_connections(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the pooled connections auth-service takes from now on (the real pool still
    serves them)."""
    taken = [0]
    real = context.database.connection

    @asynccontextmanager
    async def counted() -> AsyncIterator[Any]:
        taken[0] += 1
        async with real() as conn:
            yield conn

    monkeypatch.setattr(context.database, "connection", counted)
    return taken


async def test_a_login_takes_one_database_connection_and_upgrades_an_old_hash(
    auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await auth.register()
    await auth.login(user["email"])  # keys loaded, pool warm: only the login itself counts
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with context.database.connection() as conn:
        await conn.execute(
            "update users set password_hash = $1 where id = $2", weak, uuid.UUID(user["id"])
        )
    taken = _count_connections(monkeypatch)

    body = await auth.login(user["email"])

    assert taken == [1], "credentials, rehash and refresh token share one connection"
    assert claims_of(body["access_token"])[1]["sub"] == user["id"]
    async with context.database.connection() as conn:
        stored = await conn.fetchval(
            "select password_hash from users where id = $1", uuid.UUID(user["id"])
        )
    assert stored != weak and not passwords.hasher().check_needs_rehash(stored), stored
    assert await passwords.verify_password(stored, PASSWORD)
    assert (await auth.refresh(body["refresh_token"])).status_code == 200


async def test_a_refused_login_takes_one_connection_and_writes_nothing(
    auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await auth.register()
    await auth.login(user["email"])
    taken = _count_connections(monkeypatch)
    _assert_oauth_error(
        await auth.password_grant(user["email"], "not the password"), "invalid_grant"
    )
    assert taken == [1]
    async with context.database.connection() as conn:
        tokens = await conn.fetchval(
            "select count(*) from refresh_tokens where user_id = $1", uuid.UUID(user["id"])
        )
    assert tokens == 1, "only the first login's refresh token"


async def test_the_token_endpoint_refuses_get(auth: Auth) -> None:
    answer = await auth.tokens.get("/token")
    assert answer.status_code == 405 and answer.headers["allow"] == "POST", answer.text


# ---------------------------------------------------------------- refresh grant


async def test_refresh_rotates_the_refresh_token_and_refuses_the_old_one(auth: Auth) -> None:
    user, first = await auth.user_token()
    answer = await auth.refresh(first["refresh_token"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    second = answer.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert claims_of(second["access_token"])[1]["sub"] == user["id"]
    me = await auth.users.get("/users/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == user["id"], me.text
    _assert_oauth_error(await auth.refresh(first["refresh_token"]), "invalid_grant")


async def test_refresh_token_reuse_revokes_the_whole_family(auth: Auth) -> None:
    _, first = await auth.user_token()
    second = (await auth.refresh(first["refresh_token"])).json()
    third = (await auth.refresh(second["refresh_token"])).json()
    assert third["refresh_token"], third
    _assert_oauth_error(await auth.refresh(first["refresh_token"]), "invalid_grant")
    _assert_oauth_error(await auth.refresh(third["refresh_token"]), "invalid_grant")


async def test_reuse_revokes_only_that_family_not_other_logins(auth: Auth) -> None:
    user, phone = await auth.user_token()
    laptop = await auth.login(user["email"])
    await auth.refresh(phone["refresh_token"])
    _assert_oauth_error(await auth.refresh(phone["refresh_token"]), "invalid_grant")
    answer = await auth.refresh(laptop["refresh_token"])
    assert answer.status_code == 200, answer.text


async def test_concurrent_use_of_one_refresh_token_succeeds_exactly_once(auth: Auth) -> None:
    _, first = await auth.user_token()
    answers = await asyncio.gather(*(auth.refresh(first["refresh_token"]) for _ in range(5)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 400, 400, 400, 400], [a.text for a in answers]
    assert all(a.json()["error"] == "invalid_grant" for a in answers if a.status_code == 400)


async def test_an_unknown_refresh_token_is_invalid_grant(auth: Auth) -> None:
    _assert_oauth_error(await auth.refresh("not-a-token-we-issued"), "invalid_grant")


async def test_changing_the_password_revokes_refresh_tokens(auth: Auth) -> None:
    user, session = await auth.user_token()
    changed = await auth.users.patch(
        "/users/me",
        json={"current_password": PASSWORD, "password": "a brand new passphrase 7"},
        headers=bearer(session["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    _assert_oauth_error(await auth.refresh(session["refresh_token"]), "invalid_grant")
    _assert_oauth_error(await auth.password_grant(user["email"]), "invalid_grant")
    assert (await auth.password_grant(user["email"], "a brand new passphrase 7")).status_code == 200


async def test_revoke_revokes_the_family_and_the_token_is_then_refused(auth: Auth) -> None:
    _, first = await auth.user_token()
    second = (await auth.refresh(first["refresh_token"])).json()
    answer = await auth.tokens.post("/revoke", data={"token": first["refresh_token"]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    _assert_oauth_error(await auth.refresh(second["refresh_token"]), "invalid_grant")


async def test_revoke_answers_200_for_an_unknown_token(auth: Auth) -> None:
    answer = await auth.tokens.post("/revoke", data={"token": "never-issued"})
    assert (answer.status_code, answer.content) == (200, b""), answer.text


async def test_revoke_accepts_json_and_requires_the_token_parameter(auth: Auth) -> None:
    _, session = await auth.user_token()
    revoked = await auth.tokens.post("/revoke", json={"token": session["refresh_token"]})
    assert revoked.status_code == 200, revoked.text
    _assert_oauth_error(await auth.refresh(session["refresh_token"]), "invalid_grant")
    _assert_oauth_error(await auth.tokens.post("/revoke", data={}), "invalid_request")


async def test_a_disabled_users_refresh_token_is_refused(auth: Auth) -> None:
    user, session = await auth.user_token()
    await auth.users.patch(
        f"/users/{user['id']}", json={"disabled": True}, headers=await auth.admin_headers()
    )
    _assert_oauth_error(await auth.refresh(session["refresh_token"]), "invalid_grant")


# ---------------------------------------------------------------- client_credentials


async def test_creating_a_service_account_shows_the_secret_once(auth: Auth) -> None:
    account = await auth.service_account(["internal", "reviews:read"])
    assert account["client_id"].startswith("sa-") and len(account["client_secret"]) >= 32
    assert account["scopes"] == ["internal", "reviews:read"]
    uuid.UUID(account["id"])
    listing = await auth.users.get("/users", headers=await auth.admin_headers())
    assert account["client_secret"] not in listing.text
    spec = await auth.users.get("/openapi.json")
    assert "/service-accounts" in spec.json()["paths"]


async def test_client_credentials_with_client_secret_post(auth: Auth) -> None:
    account = await auth.service_account(["reviews:read"])
    answer = await auth.tokens.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "refresh_token" not in body, "client_credentials never returns a refresh token"
    assert body["scope"] == "reviews:read"
    claims = claims_of(body["access_token"])[1]
    assert claims["sub"] == f"sa:{account['id']}" and claims["role"] == "service", claims
    assert claims["scope"] == "reviews:read"


async def test_client_credentials_with_http_basic(auth: Auth) -> None:
    account = await auth.service_account(["internal"])
    basic = base64.b64encode(f"{account['client_id']}:{account['client_secret']}".encode())
    answer = await auth.tokens.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert answer.status_code == 200, answer.text
    assert claims_of(answer.json()["access_token"])[1]["sub"] == f"sa:{account['id']}"


async def test_a_wrong_client_secret_is_invalid_client_with_a_challenge(auth: Auth) -> None:
    account = await auth.service_account(["internal"])
    posted = await auth.tokens.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account["client_id"],
            "client_secret": "wrong",
        },
    )
    basic = base64.b64encode(f"{account['client_id']}:wrong".encode()).decode()
    via_basic = await auth.tokens.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    unknown = await auth.tokens.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": "sa-nope", "client_secret": "x"},
    )
    for answer in (posted, via_basic, unknown):
        _assert_oauth_error(answer, "invalid_client", status=401)
        assert answer.headers["www-authenticate"].startswith("Basic"), answer.headers


async def test_client_credentials_without_client_authentication_is_invalid_client(
    auth: Auth,
) -> None:
    answer = await auth.tokens.post("/token", data={"grant_type": "client_credentials"})
    _assert_oauth_error(answer, "invalid_client", status=401)


async def test_a_requested_scope_subset_is_granted_and_an_extra_one_refused(auth: Auth) -> None:
    account = await auth.service_account(["internal", "reviews:read", "reviews:write"])
    form = {
        "grant_type": "client_credentials",
        "client_id": account["client_id"],
        "client_secret": account["client_secret"],
    }
    subset = await auth.tokens.post("/token", data={**form, "scope": "reviews:read"})
    assert subset.status_code == 200, subset.text
    assert claims_of(subset.json()["access_token"])[1]["scope"] == "reviews:read"
    everything = await auth.tokens.post("/token", data=form)
    assert everything.json()["scope"] == "internal reviews:read reviews:write", everything.text
    extra = await auth.tokens.post("/token", data={**form, "scope": "reviews:read admin"})
    _assert_oauth_error(extra, "invalid_scope")
    assert "admin" in extra.json()["error_description"]


# ---------------------------------------------------------------- metadata


async def test_authorization_server_metadata_follows_rfc_8414(auth: Auth) -> None:
    answer = await auth.tokens.get("/.well-known/oauth-authorization-server")
    assert answer.status_code == 200, answer.text
    meta = answer.json()
    assert meta["issuer"] == ISSUER
    # Called directly (no proxy in front), the function names the issuer, not its own
    # internal address (issue 9 item 14); behind a proxy, the host the client used.
    assert meta["token_endpoint"] == f"{ISSUER}/token"
    assert meta["revocation_endpoint"] == f"{ISSUER}/revoke"
    assert meta["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    proxied = await auth.tokens.get(
        "/.well-known/oauth-authorization-server",
        headers={"X-Forwarded-Host": "api.example.com", "X-Forwarded-Proto": "https"},
    )
    assert proxied.json()["token_endpoint"] == "https://api.example.com/token"
    assert set(meta["grant_types_supported"]) == {
        "password",
        "refresh_token",
        "client_credentials",
    }
    assert {"client_secret_basic", "client_secret_post"} <= set(
        meta["token_endpoint_auth_methods_supported"]
    )
    assert meta["response_types_supported"], "RFC 8414 makes response_types_supported required"
