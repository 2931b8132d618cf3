"""service_token gives a function the platform service account's access token.

Work that no user's request carries (the analysis worker, the orchestrator reading a
provider's key reference) calls other functions as the platform's own service
account: ``client_credentials`` at auth-tokens with ``PLATFORM_CLIENT_ID`` /
``PLATFORM_CLIENT_SECRET`` (scope ``internal``), cached until a minute before it
expires. Acting for a user, the caller adds ``X-Acting-User`` (shared/auth.py).
``SERVICE_TOKEN`` may instead hold a ready token (tests, one-off jobs).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from shared import clients
from shared.auth import INTERNAL_SCOPE
from shared.config import BaseConfig
from shared.errors import Unavailable

_EARLY = 60.0


class ServiceToken:
    """Fetches and caches the platform service account's bearer token.

    Args:
        settings: Returns the loaded settings (auth-tokens URL and the credentials).
    """

    def __init__(self, settings: Callable[[], BaseConfig]) -> None:
        self._settings = settings
        self._token: str | None = None
        self._expires = 0.0
        self._lock: asyncio.Lock | None = None

    async def token(self) -> str:
        """A valid access token.

        Raises:
            Unavailable: no credentials are configured, or auth-tokens refused or is down.
        """
        settings = self._settings()
        if settings.service_token is not None:
            return settings.service_token.get_secret_value()
        if self._token is not None and time.monotonic() < self._expires:
            return self._token
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                await self._fetch(settings)
        assert self._token is not None
        return self._token

    async def headers(self, *, acting_for: str | None = None) -> dict[str, str]:
        """``Authorization`` (and ``X-Acting-User`` when acting for a user)."""
        headers = {"Authorization": f"Bearer {await self.token()}"}
        if acting_for:
            headers["X-Acting-User"] = acting_for
        return headers

    async def _fetch(self, settings: BaseConfig) -> None:
        if not settings.platform_client_id or settings.platform_client_secret is None:
            raise Unavailable(
                "auth-tokens",
                detail="PLATFORM_CLIENT_ID/PLATFORM_CLIENT_SECRET are not configured.",
            )
        form = {
            "grant_type": "client_credentials",
            "client_id": settings.platform_client_id,
            "client_secret": settings.platform_client_secret.get_secret_value(),
            "scope": INTERNAL_SCOPE,
        }
        try:
            answer = await clients.request(
                "POST", f"{settings.auth_tokens_url}/token", data=form, retries=2, retry_unsafe=True
            )
        except clients.transport_errors() as e:
            raise Unavailable("auth-tokens") from e
        if answer.status_code != 200:
            raise Unavailable(
                "auth-tokens", detail=f"The service token was refused ({answer.status_code})."
            )
        body = answer.json()
        self._token = str(body["access_token"])
        self._expires = time.monotonic() + max(0.0, float(body.get("expires_in", 300)) - _EARLY)

    def forget(self) -> None:
        self._token, self._expires = None, 0.0
