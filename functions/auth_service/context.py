"""context holds auth-service's process-wide resources and builds its functions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from functions.auth_service import keys, passwords, repository
from functions.auth_service.schemas import normalize_email
from functions.auth_service.settings import AuthConfig, settings
from shared import auth, service_token
from shared.service import Service

logger = logging.getLogger(__name__)

_ring: list[keys.KeyRing] = []


async def key_ring() -> keys.KeyRing:
    """The signing keys, loaded once per process."""
    if not _ring:
        _ring.append(await keys.load(settings(), database))
    return _ring[0]


async def jwks() -> dict[str, Any]:
    return (await key_ring()).jwks()


async def bootstrap_admin() -> None:
    """Create the first admin from ``ADMIN_EMAIL``/``ADMIN_PASSWORD`` if it is missing.

    Every start but the first finds the admin. The lookup by the address merely trimmed
    and lower-cased comes first: stored addresses are normalized, and an ASCII address
    that equals one once lower-cased normalizes to it, so a hit is the admin and the start
    needs no address validation (``normalize_email``'s import). A miss normalizes properly.
    """
    config = settings()
    if not config.admin_email or config.admin_password is None:
        return
    simple = config.admin_email.strip().lower()
    async with database.connection() as conn:
        if simple.isascii() and await repository.credentials_by_email(conn, simple) is not None:
            return
    email = normalize_email(config.admin_email)
    async with database.connection() as conn:
        if await repository.credentials_by_email(conn, email) is not None:
            return
        digest = await passwords.hash_password(config.admin_password.get_secret_value())
        if await repository.ensure_admin(conn, email=email, password_hash=digest):
            logger.info("Bootstrap admin %s created", email)


async def bootstrap_platform_client() -> None:
    """Create the platform service account (scope ``internal``) from
    ``PLATFORM_CLIENT_ID``/``PLATFORM_CLIENT_SECRET`` if it is missing; the other
    functions use it for work no user's request carries (shared/service_token.py).

    An existing account is left as it is: no Argon2 verification of the configured secret
    at every cold start (~30 ms of CPU and a 19 MiB block kept by the hashing thread). The
    configuration is the account's source of truth for its secret instead: the
    ``client_credentials`` grant compares a secret presented for this client id with the
    configured one (``tokens._client_secret_matches``), so a secret rotated in Secret Manager
    is the only one accepted from the first start that reads it, and the old one is
    refused there at once. The stored hash is only what the account was created with."""
    config = settings()
    if not config.platform_client_id or config.platform_client_secret is None:
        return
    async with database.connection() as conn:
        if await repository.service_account_by_client_id(conn, config.platform_client_id):
            return
        digest = await passwords.hash_password(config.platform_client_secret.get_secret_value())
        await repository.ensure_service_account(
            conn,
            name="platform",
            client_id=config.platform_client_id,
            secret_hash=digest,
            scopes=[auth.INTERNAL_SCOPE],
        )
        logger.info("Platform service account %s created", config.platform_client_id)


async def load_keys() -> None:
    await key_ring()


# Built last: its start-up hooks and key source are the functions above (which read the
# pools below only when called).
service = Service(
    AuthConfig,
    Path(__file__).parent,
    keys=jwks,
    startup=[load_keys],
)
bootstrap = (bootstrap_admin, bootstrap_platform_client)
"""auth-tokens' own start-up hooks: logins and ``client_credentials`` are its requests
only, so auth-users' cold starts do not look up (or create) the accounts."""
database, redis, verifier = service.database, service.redis, service.verifier
create = service.function
platform = service_token.ServiceToken(settings)
"""The platform service account's token (client_credentials at auth-tokens, as every other
function gets it): auth-users calls project-service's internal routes with it."""
