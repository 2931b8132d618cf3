"""Helpers shared by auth-service's tests: clients on both functions, users, admins, keys."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey

PASSWORD = "a sturdy passphrase 42"
ISSUER = "https://auth.ai-codereview.dev"
AUDIENCE = "ai-codereview"


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Auth:
    """auth-tokens and auth-users in-process, sharing one database and Redis prefix."""

    tokens: httpx.AsyncClient
    users: httpx.AsyncClient
    admin_email: str = ""
    admin_password: str = ""
    _admin_token: str = field(default="", repr=False)

    async def register(
        self, email: str | None = None, password: str = PASSWORD, **extra: Any
    ) -> dict[str, Any]:
        """Register a user as the admin (201 with the user: a self-registration answers
        202 without it, ``test_users.py``); returns its body plus the ``password`` used."""
        email = email or unique_email()
        answer = await self.users.post(
            "/users",
            json={"email": email, "password": password, **extra},
            headers=await self.admin_headers(),
        )
        assert answer.status_code == 201, answer.text
        return {**answer.json(), "password": password}

    async def password_grant(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return await self.tokens.post(
            "/token", data={"grant_type": "password", "username": username, "password": password}
        )

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        answer = await self.password_grant(username, password)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def user_token(self, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new user and its token answer."""
        user = await self.register(**extra)
        return user, await self.login(user["email"], user["password"])

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.tokens.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def admin_headers(self) -> dict[str, str]:
        """Bearer headers of this run's bootstrap admin (``ADMIN_EMAIL``)."""
        assert self.admin_email, "Auth was built without an admin"
        if not self._admin_token:
            self._admin_token = (await self.login(self.admin_email, self.admin_password))[
                "access_token"
            ]
        return bearer(self._admin_token)

    async def service_account(self, scopes: list[str], name: str = "ci-bot") -> dict[str, Any]:
        answer = await self.users.post(
            "/service-accounts",
            json={"name": name, "scopes": scopes},
            headers=await self.admin_headers(),
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def service_token(self, scopes: list[str]) -> str:
        """An access token of a new service account with ``scopes`` (client_credentials)."""
        account = await self.service_account(scopes)
        answer = await self.tokens.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "client_id": account["client_id"],
                "client_secret": account["client_secret"],
            },
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, claims) of a compact JWS, unverified."""
    head, payload, _ = token.split(".")
    return _b64json(head), _b64json(payload)


def _b64json(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ec_pem(*, pkcs8: bool = False, curve: ec.EllipticCurve | None = None) -> str:
    """A fresh EC private key as PEM (SEC1 ``EC PRIVATE KEY`` unless ``pkcs8``)."""
    key = ec.generate_private_key(curve or ec.SECP256R1())
    form = (
        serialization.PrivateFormat.PKCS8
        if pkcs8
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    return key.private_bytes(
        serialization.Encoding.PEM, form, serialization.NoEncryption()
    ).decode()


def ed25519_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def rfc7638_thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 thumbprint computed here from the required members only."""
    required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def mint(pem: str, *, sub: str, **overrides: Any) -> str:
    """An access token signed by ``pem`` with auth-tokens' claims (tests forge and rotate)."""
    key: ECKey | OKPKey = ECKey.import_key(pem) if "EC PRIVATE" in pem else _any_key(pem)
    key.ensure_kid()
    alg = "EdDSA" if isinstance(key, OKPKey) else "ES256"
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "role": "member",
        "scope": "user",
        **overrides,
    }
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def _any_key(pem: str) -> ECKey | OKPKey:
    try:
        return ECKey.import_key(pem)
    except Exception:  # noqa: BLE001 - not EC: then it is Ed25519
        return OKPKey.import_key(pem)
