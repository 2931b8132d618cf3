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

    The configuration is the account's source of truth: when the secret no longer matches
    (rotated in Secret Manager), the stored hash follows it, so a rotation needs no call
    to the API and no other function is refused its token for longer than a restart."""
    config = settings()
    if not config.platform_client_id or config.platform_client_secret is None:
        return
    secret = config.platform_client_secret.get_secret_value()
    async with database.connection() as conn:
        account = await repository.service_account_by_client_id(conn, config.platform_client_id)
        if account is not None:
            if await passwords.verify_password(account.secret_hash, secret):
                return
            digest = await passwords.hash_password(secret)
            await repository.set_service_account_secret(conn, account.id, digest)
            logger.info("Platform service account %s: secret rotated", config.platform_client_id)
            return
        digest = await passwords.hash_password(secret)
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
    startup=[bootstrap_admin, bootstrap_platform_client, load_keys],
)
database, redis, verifier = service.database, service.redis, service.verifier
create = service.function
platform = service_token.ServiceToken(settings)
"""The platform service account's token (client_credentials at auth-tokens, as every other
function gets it): auth-users calls project-service's internal routes with it."""
