"""tokens implements auth-tokens: the OAuth 2.0 token, revocation, JWKS and metadata endpoints."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from functions.auth_service import keys, limiter, passwords, repository
from functions.auth_service.context import database, key_ring
from functions.auth_service.schemas import TokenAnswer, is_text, normalize_email
from functions.auth_service.settings import settings
from shared.errors import OAuthError
from shared.function import Router

logger = logging.getLogger(__name__)
router = Router()

USER_SCOPE = "user"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


_TOKEN_FORM = {
    "type": "object",
    "properties": {
        "grant_type": {"enum": ["password", "refresh_token", "client_credentials"]},
        "username": {"type": "string"},
        "password": {"type": "string"},
        "refresh_token": {"type": "string"},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
        "scope": {"type": "string"},
    },
    "required": ["grant_type"],
}
_REVOKE_FORM = {
    "type": "object",
    "properties": {
        "token": {"type": "string", "minLength": 1},
        "token_type_hint": {"enum": ["refresh_token", "access_token"]},
    },
    "required": ["token"],
}


def _form(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """RFC 6749's form body, or the same parameters as a JSON object."""
    return {"application/x-www-form-urlencoded": schema, "application/json": schema}


@router.post(
    "/token",
    public=True,
    max_body=16_384,
    response=TokenAnswer,
    error_format="oauth",
    request_schema=_form(_TOKEN_FORM),
)
async def token(request: Request) -> Response:
    """Issue tokens (password, refresh_token and client_credentials grants)."""
    params = await _params(request)
    grant = params.get("grant_type")
    if grant == "password":
        answer = await _password_grant(request, params)
    elif grant == "refresh_token":
        answer = await _refresh_grant(params)
    elif grant == "client_credentials":
        answer = await _client_credentials_grant(request, params)
    elif not grant:
        raise OAuthError("invalid_request", "The grant_type parameter is missing.")
    else:
        raise OAuthError("unsupported_grant_type", f"Grant type '{grant[:40]}' is not supported.")
    return Response(
        answer.model_dump_json(exclude_none=True), media_type="application/json", headers=_NO_STORE
    )


@router.post(
    "/revoke",
    public=True,
    max_body=16_384,
    error_format="oauth",
    request_schema=_form(_REVOKE_FORM),
)
async def revoke(request: Request) -> Response:
    """Revoke a refresh token's whole family (RFC 7009: always 200)."""
    params = await _params(request)
    value = params.get("token")
    if not value:
        raise OAuthError("invalid_request", "The token parameter is missing.")
    async with database.transaction() as conn:
        family = await repository.family_of(conn, _hash(value))
        if family is not None:
            await repository.revoke_family(conn, family)
    return Response(b"", status_code=200, headers=_NO_STORE)


@router.get("/.well-known/jwks.json", public=True)
async def jwks(request: Request) -> Response:
    """The public signing keys: current and previous."""
    body = json.dumps((await key_ring()).jwks())
    return Response(
        body, media_type="application/json", headers={"Cache-Control": "public, max-age=300"}
    )


_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


@router.get("/.well-known/oauth-authorization-server", public=True)
async def metadata(request: Request) -> dict[str, Any]:
    """RFC 8414 authorization server metadata, with public URLs only: the host a proxy
    says the client used (``X-Forwarded-Host``/``-Proto``), else the issuer, never the
    function's own internal address."""
    forwarded = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
    scheme = request.headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    if forwarded and _HOST.fullmatch(forwarded) and scheme in ("http", "https"):
        base = f"{scheme}://{forwarded}"
    else:
        base = settings().jwt_issuer.rstrip("/")
    return {
        "issuer": settings().jwt_issuer,
        "token_endpoint": f"{base}/token",
        "revocation_endpoint": f"{base}/revoke",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "grant_types_supported": ["password", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": ["token"],
        "scopes_supported": [USER_SCOPE, "internal"],
    }


async def _params(request: Request) -> dict[str, str]:
    """Form (RFC 6749) or JSON parameters as strings; each may appear only once."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    params = _json_params(raw) if content_type == "application/json" else _form_params(raw)
    if not all(is_text(name) and is_text(value) for name, value in params.items()):
        raise OAuthError("invalid_request", "Parameters must be UTF-8 text without NUL characters.")
    return params


def _json_params(raw: bytes) -> dict[str, str]:
    try:
        data = json.loads(raw or b"{}", object_pairs_hook=_unique)
    except (ValueError, UnicodeDecodeError):
        raise OAuthError("invalid_request", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise OAuthError("invalid_request", "The body must be a JSON object.")
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def _form_params(raw: bytes) -> dict[str, str]:
    try:
        # errors="strict": percent-encoded bytes must be UTF-8 too, not silently replaced
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "The form is not UTF-8.") from None
    return _unique(pairs)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name in params:
            raise OAuthError("invalid_request", f"Parameter '{name[:40]}' is repeated.")
        params[name] = value
    return params


def _hash(refresh_token: str) -> bytes:
    return hashlib.sha256(refresh_token.encode()).digest()


async def _access_token(
    *, subject: str, role: str, scope: str, generation: int | None = None
) -> tuple[str, int]:
    """A signed access token; a user's carries their token generation (``gen``), which
    every function compares with the current one (``shared.auth``) to honour revocation."""
    config = settings()
    now = int(time.time())
    claims = {
        "iss": config.jwt_issuer,
        "aud": config.jwt_audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + config.access_token_ttl_seconds,
        "jti": uuid.uuid4().hex,
        "role": role,
        "scope": scope,
    }
    if generation is not None:
        claims["gen"] = generation
    return keys.sign(await key_ring(), claims), config.access_token_ttl_seconds


async def _issue_refresh(
    conn: asyncpg.Connection, *, family_id: uuid.UUID, user_id: uuid.UUID, scope: str
) -> str:
    value = secrets.token_urlsafe(32)
    await repository.insert_refresh_token(
        conn,
        family_id=family_id,
        user_id=user_id,
        token_hash=_hash(value),
        scope=scope,
        ttl_seconds=settings().refresh_token_ttl_seconds,
    )
    return value


async def _password_grant(request: Request, params: dict[str, str]) -> TokenAnswer:
    """The password grant on one pooled connection: the credentials are read, checked,
    rehashed if the hasher's parameters moved, and the refresh token stored without
    going back to the pool (the writes in one transaction). The connection is held
    while the password is verified (a hash computed off the event loop)."""
    username, password = params.get("username"), params.get("password")
    if not username or password is None:
        raise OAuthError("invalid_request", "username and password are required.")
    try:
        email = normalize_email(username)
    except ValueError:
        email = username.strip().lower()[:254]
    ip = limiter.client_ip(request)
    await limiter.attempt(account=email, ip=ip)
    async with database.connection() as conn:
        found = await repository.credentials_by_email(conn, email)
        if found is None:
            await passwords.burn_time(password)
        if found is None or not await passwords.verify_password(found.password_hash, password):
            raise OAuthError("invalid_grant", "The e-mail or password is wrong.")
        user = found.user
        if user.disabled:
            raise OAuthError("invalid_grant", "This account is disabled.")
        await limiter.succeeded(account=email, ip=ip)
        digest = await _new_hash_if_needed(found.password_hash, password)
        async with conn.transaction():
            if digest is not None:
                await repository.update_user(conn, user.id, password_hash=digest)
            refresh = await _issue_refresh(
                conn, family_id=uuid.uuid4(), user_id=user.id, scope=USER_SCOPE
            )
    access, ttl = await _access_token(
        subject=str(user.id), role=user.role, scope=USER_SCOPE, generation=user.token_generation
    )
    return TokenAnswer(access_token=access, expires_in=ttl, refresh_token=refresh, scope=USER_SCOPE)


async def _new_hash_if_needed(stored: str, password: str) -> str | None:
    """A hash with the hasher's current parameters when ``stored`` has older ones."""
    if passwords.hasher().check_needs_rehash(stored):
        return await passwords.hash_password(password)
    return None


@dataclass(frozen=True, slots=True)
class _Rotated:
    """A refresh token exchanged: whose it was, its scope, and its successor."""

    user: repository.UserRecord
    scope: str
    refresh_token: str


async def _refresh_grant(params: dict[str, str]) -> TokenAnswer:
    value = params.get("refresh_token")
    if not value:
        raise OAuthError("invalid_request", "The refresh_token parameter is missing.")
    async with database.transaction() as conn:
        rotated = await _rotate(conn, _hash(value))
    # Refused after the commit: a reused token's family stays revoked.
    if rotated is None:
        raise OAuthError("invalid_grant", "The refresh token is invalid, expired or revoked.")
    access, ttl = await _access_token(
        subject=str(rotated.user.id),
        role=rotated.user.role,
        scope=rotated.scope,
        generation=rotated.user.token_generation,
    )
    return TokenAnswer(
        access_token=access,
        expires_in=ttl,
        refresh_token=rotated.refresh_token,
        scope=rotated.scope,
    )


async def _rotate(conn: asyncpg.Connection, digest: bytes) -> _Rotated | None:
    """Spend the refresh token and issue its successor, in the caller's transaction.

    None when it cannot be used: not live (a used one's whole family is revoked, as the
    reuse of a rotated token means it leaked), or its user is disabled (the family too).
    """
    used = await repository.use_refresh_token(conn, digest)
    if used is None:
        family = await repository.family_of(conn, digest)
        if family is not None:
            revoked = await repository.revoke_family(conn, family)
            if revoked:
                logger.warning("Refresh token reuse: family %s revoked (%d live)", family, revoked)
        return None
    user = await repository.user_by_id(conn, used.user_id)
    if user.disabled:
        await repository.revoke_family(conn, used.family_id)
        return None
    refresh = await _issue_refresh(
        conn, family_id=used.family_id, user_id=user.id, scope=used.scope
    )
    return _Rotated(user, used.scope, refresh)


def _client_auth(request: Request, params: dict[str, str]) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded:
        return _basic_credentials(encoded)
    form_id, form_secret = params.get("client_id"), params.get("client_secret")
    if not form_id or form_secret is None:
        raise OAuthError("invalid_client", "Client authentication is required.", status=401)
    return form_id, form_secret


def _basic_credentials(encoded: str) -> tuple[str, str]:
    """RFC 6749 section 2.3.1: base64 of form-urlencoded ``client_id:client_secret``."""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        client_id, sep, secret = decoded.partition(":")
        client_id = unquote_plus(client_id, errors="strict")
        secret = unquote_plus(secret, errors="strict")
    except (binascii.Error, UnicodeDecodeError):
        client_id, sep, secret = "", "", ""
    if not (sep and client_id and is_text(client_id) and is_text(secret)):
        raise OAuthError("invalid_client", "Malformed Basic credentials.", status=401)
    return client_id, secret


async def _client_secret_matches(account: repository.ClientCredentials, secret: str) -> bool:
    """The configured platform client's secret is the configuration's (constant time, no
    Argon2: ``context.bootstrap_platform_client`` says why); any other's, its stored hash."""
    config = settings()
    configured = config.platform_client_secret
    if configured is not None and account.client_id == config.platform_client_id:
        return hmac.compare_digest(secret.encode(), configured.get_secret_value().encode())
    return await passwords.verify_password(account.secret_hash, secret)


async def _client_credentials_grant(request: Request, params: dict[str, str]) -> TokenAnswer:
    client_id, secret = _client_auth(request, params)
    ip = limiter.client_ip(request)
    await limiter.attempt(account=f"client:{client_id}", ip=ip)
    async with database.connection() as conn:
        account = await repository.service_account_by_client_id(conn, client_id[:100])
    if account is None:
        await passwords.burn_time(secret)
    if account is None or not await _client_secret_matches(account, secret):
        raise OAuthError("invalid_client", "Client authentication failed.", status=401)
    await limiter.succeeded(account=f"client:{client_id}", ip=ip)
    if account.disabled:
        raise OAuthError("invalid_client", "This client is disabled.", status=401)
    granted = set(account.scopes)
    requested = set(params.get("scope", "").split()) or granted
    if not requested <= granted:
        extra = ", ".join(sorted(requested - granted))[:200]
        raise OAuthError("invalid_scope", f"Scope(s) not granted to this client: {extra}.")
    scope = " ".join(sorted(requested))
    access, ttl = await _access_token(subject=f"sa:{account.id}", role="service", scope=scope)
    return TokenAnswer(access_token=access, expires_in=ttl, scope=scope)
