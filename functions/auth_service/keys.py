"""keys loads the signing keys (current first, previous after) and signs access tokens.

Keys come from ``AUTH_SIGNING_KEYS`` (PEM, possibly a Secret Manager reference). To
rotate: put the new key first and keep the old one second for at least one access-token
lifetime (15 min), so tokens it signed still verify through the JWKS; then drop it.
Without configured keys, development generates one EC P-256 key and persists it in
the service's database, so every auth function and every restart shares it.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey

from functions.auth_service import repository
from functions.auth_service.settings import AuthConfig
from shared import db as shared_db
from shared.config import ConfigError

_PEM = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
)

SigningKey = ECKey | OKPKey


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[SigningKey, ...]

    @property
    def current(self) -> SigningKey:
        return self.keys[0]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(k) for k in self.keys]}


def algorithm(key: SigningKey) -> str:
    return "EdDSA" if isinstance(key, OKPKey) else "ES256"


def public_jwk(key: SigningKey) -> dict[str, Any]:
    data: dict[str, Any] = dict(key.as_dict(private=False))
    data.update({"kid": key.kid, "use": "sig", "alg": algorithm(key)})
    return data


def import_pem(pem: str) -> SigningKey:
    """Import one PEM private key (EC P-256 or Ed25519), ``kid`` = RFC 7638 thumbprint."""
    key: SigningKey
    if "EC PRIVATE" in pem or _is_ec(pem):
        key = ECKey.import_key(pem)
        if key.get("crv") != "P-256":
            raise ConfigError("Config 'AUTH_SIGNING_KEYS' holds an EC key that is not P-256.")
    else:
        key = OKPKey.import_key(pem)
        if key.get("crv") != "Ed25519":
            raise ConfigError("Config 'AUTH_SIGNING_KEYS' holds an OKP key that is not Ed25519.")
    key.ensure_kid()
    return key


def _is_ec(pem: str) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return isinstance(load_pem_private_key(pem.encode(), password=None), ec.EllipticCurvePrivateKey)


def parse(value: str) -> list[str]:
    """PEM keys from a JSON list of PEM strings or from concatenated PEM text."""
    text = value.strip()
    pems = json.loads(text) if text.startswith("[") else _PEM.findall(text)
    if not pems or not all(isinstance(p, str) for p in pems):
        raise ConfigError("Config 'AUTH_SIGNING_KEYS' holds no PEM private key.")
    return list(pems)


def generate_pem() -> str:
    key = ECKey.generate_key("P-256")
    pem: bytes = key.as_pem(private=True)
    return pem.decode()


async def load(settings: AuthConfig, database: shared_db.Database) -> KeyRing:
    """The key ring from config, or (development only) the persisted dev key."""
    if settings.auth_signing_keys is not None:
        return KeyRing(
            tuple(import_pem(p) for p in parse(settings.auth_signing_keys.get_secret_value()))
        )
    if not settings.is_development:
        raise ConfigError(
            "Config 'AUTH_SIGNING_KEYS' is missing, and has no default outside development."
        )
    candidate = import_pem(generate_pem())
    async with database.transaction() as conn:
        pems = await repository.dev_signing_keys(
            conn, kid=str(candidate.kid), pem=candidate.as_pem(private=True).decode()
        )
    return KeyRing(tuple(import_pem(p) for p in pems))


def sign(ring: KeyRing, claims: dict[str, Any]) -> str:
    key = ring.current
    header = {"alg": algorithm(key), "kid": key.kid, "typ": "at+jwt"}
    # joserfc warns that RFC 9864 deprecates "EdDSA" for "Ed25519"; the contract (and
    # every verifier) still names EdDSA, so the choice is deliberate, not an accident.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return jwt.encode(header, claims, key, algorithms=[algorithm(key)])
