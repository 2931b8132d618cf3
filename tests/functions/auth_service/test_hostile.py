"""Hostile input on every auth-service endpoint: handled as data, refused cleanly, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from functions.auth_service import context, keys
from functions.auth_service.schemas import is_text
from tests.functions.auth_service._support import (
    AUDIENCE,
    ISSUER,
    PASSWORD,
    Auth,
    b64url,
    bearer,
    claims_of,
    unique_email,
)

SQL = ["' OR 1=1 --", '"; drop table users; --']
NUL = "nul\x00byte"
SURROGATE = "lone\ud800surrogate"
HOSTILE = [*SQL, NUL, SURROGATE, "\u202eevil", "%00%ff", "x" * 5000]
IDS = ["or", "drop", "nul", "surrogate", "rtl", "pct", "long"]

# Every routed endpoint: (client, method, path) with a body that would otherwise be valid.
TOKENS = [("tokens", "POST", "/token"), ("tokens", "POST", "/revoke")]
USERS = [
    ("users", "POST", "/users"),
    ("users", "PATCH", "/users/me"),
    ("users", "PATCH", "/users/00000000-0000-0000-0000-000000000000"),
    ("users", "POST", "/service-accounts"),
]
BODY_ENDPOINTS = TOKENS + USERS
AUTHENTICATED = [
    ("GET", "/users/me", None),
    ("PATCH", "/users/me", {"name": "x", "current_password": PASSWORD}),
    ("GET", "/users", None),
    ("PATCH", "/users/00000000-0000-0000-0000-000000000000", {"role": "member"}),
    ("DELETE", "/users/00000000-0000-0000-0000-000000000000", None),
    ("POST", "/service-accounts", {"name": "bot", "scopes": []}),
]


def _client(auth: Auth, name: str) -> httpx.AsyncClient:
    client: httpx.AsyncClient = getattr(auth, name)
    return client


def _no_500(answer: httpx.Response) -> httpx.Response:
    assert answer.status_code < 500, f"{answer.request.method} {answer.request.url}: {answer.text}"
    return answer


def _oauth(answer: httpx.Response, error: str, status: int = 400) -> None:
    _no_500(answer)
    assert (answer.status_code, answer.json().get("error")) == (status, error), answer.text


def _problem(answer: httpx.Response, *statuses: int) -> dict[str, Any]:
    _no_500(answer)
    assert answer.status_code in statuses, answer.text
    assert answer.headers["content-type"] == "application/problem+json", answer.headers
    body: dict[str, Any] = answer.json()
    assert body["status"] == answer.status_code and "Traceback" not in answer.text, body
    return body


async def _tables(database_url: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "select table_name from information_schema.tables where table_schema = 'auth_service'"
        )
    finally:
        await conn.close()
    return {r["table_name"] for r in rows}


# ---------------------------------------------------------------- injection as data


async def _send(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    """JSON with ASCII escapes, so even a lone surrogate reaches the server as JSON allows."""
    return await client.request(
        method,
        path,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
    )


async def _token_both_ways(auth: Auth, params: dict[str, str]) -> list[httpx.Response]:
    answers = [await _send(auth.tokens, "POST", "/token", params)]
    if all(is_text(v) for v in params.values()):
        answers.append(await auth.tokens.post("/token", data=params))
    return answers


@pytest.mark.parametrize("payload", HOSTILE, ids=IDS)
async def test_hostile_strings_in_token_parameters_are_plain_failures(
    auth: Auth, payload: str, database_url: str
) -> None:
    user = await auth.register()
    storable = is_text(payload)
    grants = [
        ({"grant_type": "password", "username": payload, "password": PASSWORD}, "invalid_grant"),
        (
            {"grant_type": "password", "username": user["email"], "password": payload},
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "refresh_token": payload}, "invalid_grant"),
        ({"grant_type": payload}, "unsupported_grant_type"),
    ]
    for form, error in grants:
        for answer in await _token_both_ways(auth, form):
            _oauth(answer, error if storable else "invalid_request")
    client = {"grant_type": "client_credentials", "client_id": payload, "client_secret": payload}
    for answer in await _token_both_ways(auth, client):
        if storable:
            _oauth(answer, "invalid_client", 401)
        else:
            _oauth(answer, "invalid_request")
    revoked = _no_500(await _send(auth.tokens, "POST", "/revoke", {"token": payload}))
    assert revoked.status_code == (200 if storable else 400), revoked.text
    assert {"users", "refresh_tokens", "service_accounts"} <= await _tables(database_url)
    assert (await auth.password_grant(user["email"])).status_code == 200


@pytest.mark.parametrize(
    "payload", [*SQL, NUL, SURROGATE, "%ff"], ids=["or", "drop", "nul", "sur", "pct"]
)
async def test_hostile_basic_credentials_are_invalid_client(auth: Auth, payload: str) -> None:
    raw = f"{payload}:{payload}".encode(errors="surrogatepass")
    for credentials in (raw, b"no-colon", b"\xff\xfe:x"):
        answer = await auth.tokens.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {base64.b64encode(credentials).decode()}"},
        )
        _oauth(answer, "invalid_client", 401)
    garbage = await auth.tokens.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!!not-base64!!!"},
    )
    _oauth(garbage, "invalid_client", 401)


@pytest.mark.parametrize("payload", HOSTILE, ids=IDS)
async def test_hostile_strings_in_user_fields_are_stored_verbatim_or_refused(
    auth: Auth, payload: str, database_url: str
) -> None:
    bad_email = await _send(auth.users, "POST", "/users", {"email": payload, "password": PASSWORD})
    assert _problem(bad_email, 422)["errors"][0]["loc"] == ["body", "email"]
    email = unique_email()
    named = _no_500(
        await _send(
            auth.users, "POST", "/users", {"email": email, "password": PASSWORD, "name": payload}
        )
    )
    if named.status_code == 202:
        session = await auth.login(email)
        me = await auth.users.get("/users/me", headers=bearer(session["access_token"]))
        assert me.json()["name"] == payload, "a name is data, stored as given"
    else:
        assert _problem(named, 422)["errors"][0]["loc"] == ["body", "name"]
    as_password = _no_500(
        await _send(auth.users, "POST", "/users", {"email": unique_email(), "password": payload})
    )
    if as_password.status_code == 202:
        login = {
            "grant_type": "password",
            "username": as_password.json()["email"],
            "password": payload,
        }
        assert (await _send(auth.tokens, "POST", "/token", login)).status_code == 200
    else:
        assert _problem(as_password, 422)["errors"][0]["loc"][-1] == "password"
    assert {"users", "refresh_tokens", "service_accounts"} <= await _tables(database_url)


@pytest.mark.parametrize("payload", HOSTILE, ids=IDS)
async def test_hostile_strings_in_authenticated_bodies_never_break_anything(
    auth: Auth, payload: str
) -> None:
    _, session = await auth.user_token()
    me = bearer(session["access_token"])
    wrong = await _send(
        auth.users, "PATCH", "/users/me", {"name": "ok", "current_password": payload}, **me
    )
    _problem(wrong, 403, 422)
    renamed = _no_500(
        await _send(
            auth.users, "PATCH", "/users/me", {"name": payload, "current_password": PASSWORD}, **me
        )
    )
    assert renamed.status_code in (200, 422), renamed.text
    admin = await auth.admin_headers()
    account = _no_500(
        await _send(
            auth.users, "POST", "/service-accounts", {"name": payload[:100], "scopes": []}, **admin
        )
    )
    assert account.status_code in (201, 422), account.text
    scoped = await _send(
        auth.users, "POST", "/service-accounts", {"name": "bot", "scopes": [payload]}, **admin
    )
    _problem(scoped, 422)
    if is_text(payload):
        paged = await auth.users.get("/users", params={"cursor": payload}, headers=admin)
        _problem(paged, 422)


# ---------------------------------------------------------------- malformed bodies


PUBLIC_BODY_ENDPOINTS = {("POST", "/token"), ("POST", "/revoke"), ("POST", "/users")}


async def _caller(auth: Auth, method: str, path: str) -> dict[str, str]:
    """An admin's token where the endpoint needs one: callers are checked before bodies."""
    return {} if (method, path) in PUBLIC_BODY_ENDPOINTS else await auth.admin_headers()


@pytest.mark.parametrize(("client", "method", "path"), BODY_ENDPOINTS)
async def test_oversized_bodies_are_413(auth: Auth, client: str, method: str, path: str) -> None:
    huge = b"x" * (1_048_576 + 1)
    headers = {"Content-Type": "application/json", **await _caller(auth, method, path)}
    answer = await _client(auth, client).request(method, path, content=huge, headers=headers)
    assert "limit" in _problem(answer, 413)["detail"]


@pytest.mark.parametrize(("method", "path", "body"), [a for a in AUTHENTICATED if a[2]])
async def test_an_anonymous_or_forged_caller_is_401_whatever_the_body(
    auth: Auth, method: str, path: str, body: dict[str, Any]
) -> None:
    """Bodies are read and judged only for a caller the function has authenticated: no
    validation detail (422) or size limit (413) for anyone else."""
    forged = bearer((await _forgeries(auth))[1]["garbage"])
    for headers in ({}, forged):
        for content in (b'{"role": 42, "name": []}', b"x" * (1_048_576 + 1)):
            answer = await auth.users.request(
                method,
                path,
                content=content,
                headers={"Content-Type": "application/json", **headers},
            )
            _problem(answer, 401)
    genuine = await auth.users.request(
        method, path, content=b'{"role": 42}', headers=await auth.admin_headers()
    )
    assert genuine.status_code == 422, "an authenticated caller gets the validation errors"


@pytest.mark.parametrize(("client", "method", "path"), BODY_ENDPOINTS)
async def test_oversized_streamed_bodies_without_a_length_are_413(
    auth: Auth, client: str, method: str, path: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(70):
            yield b"y" * 16_384

    headers = {"Content-Type": "application/json", **await _caller(auth, method, path)}
    answer = await _client(auth, client).request(method, path, content=chunks(), headers=headers)
    _problem(answer, 413)


async def test_the_token_endpoint_limits_bodies_to_16_kib(auth: Auth) -> None:
    form = {"grant_type": "password", "username": "a@example.com", "password": "p" * 17_000}
    _problem(await auth.tokens.post("/token", data=form), 413)


@pytest.mark.parametrize(("client", "method", "path"), TOKENS)
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe{}"])
async def test_malformed_json_to_oauth_endpoints_is_invalid_request(
    auth: Auth, client: str, method: str, path: str, raw: bytes
) -> None:
    answer = await _client(auth, client).request(
        method, path, content=raw, headers={"Content-Type": "application/json"}
    )
    _oauth(answer, "invalid_request")


@pytest.mark.parametrize(("client", "method", "path"), USERS)
@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe{}", b"{'single': 'quotes'}"])
async def test_malformed_json_to_user_endpoints_is_400(
    auth: Auth, client: str, method: str, path: str, raw: bytes
) -> None:
    headers = {"Content-Type": "application/json", **await auth.admin_headers()}
    answer = await _client(auth, client).request(method, path, content=raw, headers=headers)
    assert "JSON" in _problem(answer, 400)["detail"]


@pytest.mark.parametrize("raw", [b"[]", b"null", b'"x"', b"42"])
async def test_json_that_is_not_an_object_is_422(auth: Auth, raw: bytes) -> None:
    answer = await auth.users.post(
        "/users", content=raw, headers={"Content-Type": "application/json"}
    )
    _problem(answer, 422)


async def test_a_non_json_content_type_on_user_endpoints_is_415(auth: Auth) -> None:
    answer = await auth.users.post("/users", data={"email": "a@b.c", "password": PASSWORD})
    _problem(answer, 415)


@pytest.mark.parametrize(
    "raw",
    [b"grant_type=password&username=\xff\xfe&password=x", b"grant_type=password&username=%ff%fe"],
    ids=["raw-bytes", "percent-encoded"],
)
@pytest.mark.parametrize("path", ["/token", "/revoke"])
async def test_a_non_utf8_form_is_invalid_request(auth: Auth, raw: bytes, path: str) -> None:
    answer = await auth.tokens.post(
        path, content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    _oauth(answer, "invalid_request")
    assert "UTF-8" in answer.json()["error_description"]


@pytest.mark.parametrize(
    "raw",
    [
        b"grant_type=password&grant_type=refresh_token&refresh_token=x",
        b"grant_type=password&username=a@example.com&username=b@example.com&password=x",
        b"grant_type=refresh_token&refresh_token=a&refresh_token=b",
    ],
    ids=["grant_type", "username", "refresh_token"],
)
async def test_repeated_form_parameters_are_invalid_request(auth: Auth, raw: bytes) -> None:
    answer = await auth.tokens.post(
        "/token", content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    _oauth(answer, "invalid_request")
    assert "repeated" in answer.json()["error_description"]


async def test_repeated_revoke_token_is_invalid_request(auth: Auth) -> None:
    answer = await auth.tokens.post(
        "/revoke",
        content=b"token=a&token=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _oauth(answer, "invalid_request")


async def test_json_token_parameters_that_are_not_strings_are_ignored(auth: Auth) -> None:
    user = await auth.register()
    body = {"grant_type": "password", "username": [user["email"]], "password": {"$ne": 1}}
    _oauth(await auth.tokens.post("/token", json=body), "invalid_request")


# ---------------------------------------------------------------- forged tokens


def _part(data: dict[str, Any]) -> str:
    return b64url(json.dumps(data).encode())


def _claims(subject: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "role": "admin",
        "scope": "user internal",
        **overrides,
    }


def _hs256(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    signing_input = f"{_part(header)}.{_part(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


async def _forgeries(auth: Auth) -> tuple[str, dict[str, str]]:
    """A control token signed by the service's key with the forgeries' claims, and tokens
    an attacker could build knowing the JWKS and one genuine member token."""
    user, session = await auth.user_token()
    genuine = session["access_token"]
    header, claims = claims_of(genuine)
    jwk = (await auth.tokens.get("/.well-known/jwks.json")).json()["keys"][0]
    public_pem = ECKey.import_key(jwk).as_pem(private=False)
    head, payload, signature = genuine.split(".")
    forger = ECKey.generate_key("P-256")
    forger.ensure_kid()

    def signed(**overrides: Any) -> str:
        return jwt.encode(
            {"alg": "ES256", "kid": jwk["kid"]},
            _claims(user["id"], **overrides),
            forger,
            algorithms=["ES256"],
        )

    def ours(**overrides: Any) -> str:
        assert context._ring, "the key ring is loaded by the genuine login"
        return keys.sign(context._ring[0], _claims(user["id"], **overrides))

    return ours(), {
        "alg-none": f"{_part({'alg': 'none', 'kid': jwk['kid']})}.{_part(_claims(user['id']))}.",
        "alg-none-no-dot": f"{_part({'alg': 'none'})}.{_part(_claims(user['id']))}",
        "hs256-public-pem": _hs256(public_pem, {"alg": "HS256", "kid": jwk["kid"]}, claims),
        "hs256-jwk-json": _hs256(
            json.dumps(jwk).encode(), {"alg": "HS256", "kid": jwk["kid"]}, claims
        ),
        "tampered-payload": f"{head}.{_part({**claims, 'role': 'admin'})}.{signature}",
        "tampered-header": f"{_part({**header, 'kid': 'other'})}.{payload}.{signature}",
        "foreign-key-same-kid": signed(),
        "expired": ours(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "other-issuer": ours(iss="https://evil.example"),
        "other-audience": ours(aud="someone-else"),
        "no-subject": ours(sub=None),
        "garbage": "not-a-jwt",
        "three-dots": "a.b.c",
        "binary-header": f"{b64url(bytes([255, 254]))}.{_part(claims)}.{signature}",
        "huge": "A" * 100_000,
    }


@pytest.mark.parametrize(("method", "path", "body"), AUTHENTICATED)
async def test_forged_tokens_are_401_on_every_authenticated_endpoint(
    auth: Auth, method: str, path: str, body: dict[str, Any] | None
) -> None:
    control, forgeries = await _forgeries(auth)
    genuine = await auth.users.request(method, path, json=body, headers=bearer(control))
    assert genuine.status_code != 401, f"the control token must pass: {genuine.text}"
    for name, token in forgeries.items():
        answer = await auth.users.request(method, path, json=body, headers=bearer(token))
        _problem(answer, 401)
        assert answer.headers["www-authenticate"].startswith("Bearer"), name


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer", "Token abc", "Bearer a b"]
)
async def test_malformed_authorization_headers_are_401(auth: Auth, header: str) -> None:
    answer = await auth.users.get("/users/me", headers={"Authorization": header})
    _problem(answer, 401)


async def test_a_forged_bearer_on_registration_is_401_not_an_open_door(auth: Auth) -> None:
    answer = await auth.users.post(
        "/users",
        json={"email": unique_email(), "password": PASSWORD},
        headers={"Authorization": "Bearer forged.token.here"},
    )
    _problem(answer, 401)


# ---------------------------------------------------------------- ids, headers, methods


@pytest.mark.parametrize(
    "segment",
    [
        "not-a-uuid",
        "...",
        "1%27%20OR%20%271%27%3D%271",
        "%00",
        "00000000-0000-0000-0000-00000000000g",
        "x" * 2000,
    ],
)
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_non_uuid_user_ids_are_422(auth: Auth, segment: str, method: str) -> None:
    answer = await auth.users.request(
        method, f"/users/{segment}", json={"role": "member"}, headers=await auth.admin_headers()
    )
    body = _problem(answer, 422)
    assert body["errors"][0]["loc"] == ["path", "id"], body


@pytest.mark.parametrize(
    "path",
    [
        "/users/..%2F..%2Fetc%2Fpasswd",
        "/users/%2e%2e",
        "/users/..",
        "/users/a/b",
        "/users/me/../../token",
        "/users//",
    ],
)
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_traversal_paths_are_404_problems(auth: Auth, path: str, method: str) -> None:
    answer = await auth.users.request(
        method, path, json={"role": "member"}, headers=await auth.admin_headers()
    )
    _problem(answer, 404, 405, 422)


async def test_an_unknown_user_id_is_404(auth: Auth) -> None:
    missing = uuid.uuid4()
    answer = await auth.users.patch(
        f"/users/{missing}", json={"role": "member"}, headers=await auth.admin_headers()
    )
    assert str(missing) in _problem(answer, 404)["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer " + "A" * 60_000},
        {"X-Forwarded-For": ", ".join(["203.0.113.9"] * 5000)},
        {"X-Forwarded-For": "x" * 60_000},
        {"X-Request-ID": "r" * 60_000},
        {"Idempotency-Key": "k" * 60_000},
        {"Content-Type": "application/" + "j" * 60_000},
        {"traceparent": "00-" + "f" * 60_000},
    ],
    ids=["authorization", "xff-many", "xff-long", "request-id", "idempotency", "ctype", "trace"],
)
async def test_huge_header_values_never_break_an_endpoint(
    auth: Auth, headers: dict[str, str]
) -> None:
    calls = [
        (auth.tokens, "POST", "/token", {"grant_type": "password", "username": "a@b.c"}),
        (auth.tokens, "POST", "/revoke", {"token": "t"}),
        (auth.tokens, "GET", "/.well-known/jwks.json", None),
        (auth.tokens, "GET", "/.well-known/oauth-authorization-server", None),
        (auth.users, "POST", "/users", {"email": unique_email(), "password": PASSWORD}),
        (auth.users, "GET", "/users/me", None),
        (auth.users, "GET", "/users", None),
    ]
    for client, method, path, body in calls:
        answer = _no_500(await client.request(method, path, json=body, headers=headers))
        assert len(answer.headers.get("x-request-id", "")) <= 128, "request ids are bounded"


@pytest.mark.parametrize(
    ("client", "method", "path"),
    [
        ("tokens", "DELETE", "/token"),
        ("tokens", "PUT", "/revoke"),
        ("tokens", "POST", "/.well-known/jwks.json"),
        ("users", "PUT", "/users/me"),
        ("users", "GET", "/service-accounts"),
    ],
)
async def test_wrong_methods_are_405_with_allow(
    auth: Auth, client: str, method: str, path: str
) -> None:
    answer = await _client(auth, client).request(method, path)
    _problem(answer, 405)
    assert answer.headers["allow"], answer.headers
