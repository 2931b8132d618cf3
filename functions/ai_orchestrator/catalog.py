"""catalog reads provider-service's providers and builds callable providers from them.

``GET {PROVIDERS_URL}/providers`` (as the platform service account) is cached for
``CATALOG_CACHE_SECONDS``. A provider's key reference comes from
``GET /providers/{id}/credentials`` (internal scope, on the orchestrator's own account)
and is resolved with ``shared.credentials`` right before the provider is built; built
providers are reused per (provider id, ``updated_at``, timeout), so a key rotated in
provider-service is picked up at the next catalog refresh.

A candidate named ``local`` that the catalog lacks is the built-in offline reviewer:
zero price and no quota calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from functions.ai_orchestrator import providers
from functions.ai_orchestrator.context import platform_token
from functions.ai_orchestrator.providers import AuthError, Provider
from functions.ai_orchestrator.providers.local import MODEL as LOCAL_MODEL
from functions.ai_orchestrator.settings import settings
from shared import clients, credentials
from shared.errors import Unavailable

BUILTIN = "local"
_catalog: list[tuple[float, list[Entry]]] = []
_built: dict[tuple[str, str, float], Provider] = {}


@dataclass(frozen=True)
class Model:
    name: str
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal


@dataclass(frozen=True)
class Entry:
    """One provider of the catalog (``id`` None for the built-in local reviewer)."""

    id: str | None
    name: str
    kind: str
    base_url: str | None
    priority: int
    enabled: bool
    updated_at: str
    models: tuple[Model, ...]

    @property
    def builtin(self) -> bool:
        return self.id is None

    def model(self, name: str) -> Model | None:
        return next((m for m in self.models if m.name == name), None)


BUILTIN_ENTRY = Entry(
    id=None,
    name=BUILTIN,
    kind="local",
    base_url=None,
    priority=10**6,
    enabled=True,
    updated_at="",
    models=(Model(LOCAL_MODEL, Decimal(0), Decimal(0)),),
)


async def entries() -> list[Entry]:
    """Every provider by priority, then name (cached ``CATALOG_CACHE_SECONDS``).

    Raises:
        Unavailable: provider-service could not be reached or refused the service token.
    """
    now = time.monotonic()
    if _catalog and _catalog[0][0] > now:
        return _catalog[0][1]
    found = await _fetch()
    _catalog[:] = [(now + settings().catalog_cache_seconds, found)]
    return found


async def with_builtin() -> list[Entry]:
    """The catalog plus the built-in local reviewer when the catalog has no ``local``."""
    found = await entries()
    if any(entry.name == BUILTIN for entry in found):
        return found
    return [*found, BUILTIN_ENTRY]


def forget() -> None:
    """Drop the cached catalog and built providers (tests, or after a change made here)."""
    _catalog.clear()
    _built.clear()


async def provider(entry: Entry, *, seconds: float) -> Provider:
    """A callable provider for ``entry`` with its key resolved just now.

    Raises:
        AuthError: the provider has no usable key (not retryable on this provider).
        Unavailable: provider-service could not be asked for the key reference.
    """
    if entry.id is None or entry.kind == "local":
        return providers.create("local", timeout=seconds)
    cache_key = (entry.id, entry.updated_at, seconds)
    built = _built.get(cache_key)
    if built is None:
        api_key = await _api_key(entry)
        built = providers.create(
            entry.kind, api_key=api_key, base_url=entry.base_url, timeout=seconds
        )
        _built[cache_key] = built
    return built


async def _api_key(entry: Entry) -> str:
    answer = await _get(f"/providers/{entry.id}/credentials")
    reference = answer.get("api_key_secret")
    if not reference:
        raise AuthError("no API key reference is configured", provider=entry.name)
    try:
        return await credentials.resolve(str(reference))
    except credentials.KeyUnavailable as e:
        raise AuthError(f"its API key could not be read ({e})", provider=entry.name) from e


async def _fetch() -> list[Entry]:
    answer = await _get("/providers?limit=200")
    return [_entry(item) for item in answer.get("items", [])]


async def _get(path: str) -> dict[str, Any]:
    url = settings().providers_url.rstrip("/") + path
    try:
        response = await clients.get(url, headers=await platform_token.headers(), timeout=5.0)
    except clients.transport_errors() as e:
        raise Unavailable("providers", detail="provider-service could not be reached.") from e
    if response.status_code != 200:
        if response.status_code == 401:
            platform_token.forget()
        raise Unavailable(
            "providers", detail=f"provider-service answered {response.status_code} to {path}."
        )
    body: dict[str, Any] = response.json()
    return body


def _entry(item: dict[str, Any]) -> Entry:
    return Entry(
        id=str(item["id"]),
        name=str(item["name"]),
        kind=str(item["kind"]),
        base_url=item.get("base_url"),
        priority=int(item.get("priority", 100)),
        enabled=bool(item.get("enabled", True)),
        updated_at=str(item.get("updated_at", "")),
        models=tuple(
            Model(
                str(m["name"]),
                Decimal(str(m["input_usd_per_mtok"])),
                Decimal(str(m["output_usd_per_mtok"])),
            )
            for m in item.get("models", [])
        ),
    )
