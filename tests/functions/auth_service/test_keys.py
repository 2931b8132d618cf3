"""Signing keys: the JWKS, rotation with a previous key, Ed25519, production and dev keys."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import KeySet

from functions.auth_service import context
from tests.functions.auth_service._support import (
    Auth,
    bearer,
    claims_of,
    ec_pem,
    ed25519_pem,
    mint,
    rfc7638_thumbprint,
)

_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


async def _jwks(auth: Auth) -> list[dict[str, Any]]:
    answer = await auth.tokens.get("/.well-known/jwks.json")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    keys: list[dict[str, Any]] = answer.json()["keys"]
    for key in keys:
        assert not _PRIVATE_MEMBERS & set(key), f"private member published: {sorted(key)}"
        assert key["kid"] == rfc7638_thumbprint(key), key
        assert key["use"] == "sig", key
    return keys


@pytest.mark.parametrize(
    "encode",
    [lambda pems: json.dumps(pems), lambda pems: "\n".join(pems)],
    ids=["json-list", "concatenated-pem"],
)
async def test_jwks_lists_the_current_then_the_previous_key(
    make_auth: Callable[..., Auth], encode: Callable[[list[str]], str]
) -> None:
    current, previous = ec_pem(), ec_pem(pkcs8=True)
    auth = make_auth(AUTH_SIGNING_KEYS=encode([current, previous]))
    keys = await _jwks(auth)
    assert [k["kty"] for k in keys] == ["EC", "EC"] and len({k["kid"] for k in keys}) == 2, keys
    assert all(k["crv"] == "P-256" and k["alg"] == "ES256" for k in keys), keys
    session = await auth.login(auth.admin_email, auth.admin_password)
    header, _ = claims_of(session["access_token"])
    assert header["kid"] == keys[0]["kid"], "tokens are signed by the first (current) key"
    verified = jwt.decode(
        session["access_token"], KeySet.import_key_set({"keys": [keys[0]]}), algorithms=["ES256"]
    )
    assert verified.claims["role"] == "admin"


async def test_a_token_signed_by_the_previous_key_still_verifies(
    make_auth: Callable[..., Auth],
) -> None:
    current, previous = ec_pem(), ec_pem()
    auth = make_auth(AUTH_SIGNING_KEYS=json.dumps([current, previous]))
    user = await auth.register()
    old_token = mint(previous, sub=user["id"])
    me = await auth.users.get("/users/me", headers=bearer(old_token))
    assert me.status_code == 200 and me.json()["id"] == user["id"], me.text


async def test_a_token_signed_by_a_retired_key_is_refused(make_auth: Callable[..., Auth]) -> None:
    auth = make_auth(AUTH_SIGNING_KEYS=ec_pem())
    user = await auth.register()
    retired = mint(ec_pem(), sub=user["id"])
    answer = await auth.users.get("/users/me", headers=bearer(retired))
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_ed25519_keys_sign_eddsa_tokens(make_auth: Callable[..., Auth]) -> None:
    previous = ec_pem()
    auth = make_auth(AUTH_SIGNING_KEYS=json.dumps([ed25519_pem(), previous]))
    keys = await _jwks(auth)
    assert (keys[0]["kty"], keys[0]["crv"], keys[0]["alg"]) == ("OKP", "Ed25519", "EdDSA"), keys
    assert keys[1]["alg"] == "ES256"
    user, session = await auth.user_token()
    header, _ = claims_of(session["access_token"])
    assert (header["alg"], header["kid"]) == ("EdDSA", keys[0]["kid"]), header
    me = await auth.users.get("/users/me", headers=bearer(session["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == user["id"], me.text
    old = await auth.users.get("/users/me", headers=bearer(mint(previous, sub=user["id"])))
    assert old.status_code == 200, "the previous (EC) key still verifies next to Ed25519"


async def test_production_without_signing_keys_fails_startup_naming_the_variable(
    client_for: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The operator reads the variable's name in the log; a client only that it is down."""
    caplog.set_level(logging.WARNING)
    tokens = client_for("auth_tokens", ENVIRONMENT="production")
    startup = await tokens.get("/health/startup")
    assert startup.status_code == 503, startup.text
    body = startup.json()
    assert body["status"] == "starting" and "AUTH_SIGNING_KEYS" not in startup.text, body
    assert startup.headers["retry-after"].isdigit()
    token = await tokens.post("/token", data={"grant_type": "password"})
    assert token.status_code == 503 and "AUTH_SIGNING_KEYS" not in token.text, token.text
    assert any("AUTH_SIGNING_KEYS" in m for m in caplog.messages), caplog.messages


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not a key at all", "no PEM"),
        (lambda: ec_pem(curve=ec.SECP384R1()), "P-256"),
    ],
    ids=["no-pem", "p384"],
)
async def test_unusable_signing_keys_fail_startup_naming_the_variable(
    client_for: Callable[..., Any], value: Any, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    pem = value() if callable(value) else value
    tokens = client_for("auth_tokens", ENVIRONMENT="production", AUTH_SIGNING_KEYS=pem)
    startup = await tokens.get("/health/startup")
    assert startup.status_code == 503, startup.text
    assert "AUTH_SIGNING_KEYS" not in startup.text, startup.text
    logged = [m for m in caplog.messages if "AUTH_SIGNING_KEYS" in m]
    assert logged and reason in logged[0], caplog.messages
    assert "PRIVATE KEY" not in startup.text + " ".join(caplog.messages), "never the key"


async def test_the_development_key_is_persisted_and_shared(
    client_for: Callable[..., Any],
) -> None:
    tokens = client_for("auth_tokens")
    assert (await tokens.get("/health/startup")).status_code == 200
    first = (await context.key_ring()).current.kid
    context._ring.clear()
    second = (await context.key_ring()).current.kid
    assert first == second, "a restart must not invalidate tokens signed by the dev key"
    served = (await tokens.get("/.well-known/jwks.json")).json()["keys"]
    assert [k["kid"] for k in served] == [first]
    other = client_for("auth_users")
    context._ring.clear()
    assert (await other.get("/health/startup")).status_code == 200
    assert (await context.key_ring()).current.kid == first, "both functions share the key"
