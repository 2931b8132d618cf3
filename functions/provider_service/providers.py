"""providers implements the providers function: the AI providers, their models and prices.

Admins write, any authenticated caller reads. A provider's API key is a reference
(``api_key_secret``) that is stored but never answered: reads say only ``api_key_set``.
``GET /providers`` orders by ``priority`` (lower first) then name, so a router can be
built from it directly.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

import asyncpg
from starlette.requests import Request

from functions.provider_service import probes, repository
from functions.provider_service.context import database, redis
from functions.provider_service.schemas import (
    ModelOut,
    ProviderCreate,
    ProviderHealth,
    ProviderOut,
    ProviderPage,
    ProviderUpdate,
)
from functions.provider_service.settings import settings
from shared import pagination
from shared.auth import INTERNAL_SCOPE, principal
from shared.cache import down_errors
from shared.errors import Forbidden, ValidationFailed
from shared.function import Router, path_uuid

router = Router()


async def _with_models(
    conn: asyncpg.Connection, rows: list[repository.ProviderRecord], *, show_url: bool = True
) -> list[ProviderOut]:
    """Providers with their models; ``show_url=False`` (a member asking) leaves out where
    the platform sends its keys: the base URL is infrastructure, not catalog."""
    models: dict[uuid.UUID, list[ModelOut]] = {row.id: [] for row in rows}
    for model in await repository.models_of(conn, list(models)):
        models[model.provider_id].append(ModelOut.model_validate(model, from_attributes=True))
    out = [ProviderOut(models=models[row.id], **asdict(row)) for row in rows]
    return out if show_url else [p.model_copy(update={"base_url": None}) for p in out]


async def _one(conn: asyncpg.Connection, provider_id: uuid.UUID) -> ProviderOut:
    return (await _with_models(conn, [await repository.provider_by_id(conn, provider_id)]))[0]


@router.post("/providers", status=201, body=ProviderCreate, response=ProviderOut, idempotent=True)
async def create_provider(request: Request, body: ProviderCreate) -> ProviderOut:
    """Admin: register a provider with its models and prices."""
    principal(request).require_role("admin")
    fields = body.model_dump(exclude={"models"})
    if body.kind != "local" and fields["base_url"] is None:
        fields["base_url"] = probes.DEFAULT_BASE_URLS[body.kind]
    async with database.transaction() as conn:
        row = await repository.create_provider(conn, **fields)
        await repository.replace_models(conn, row.id, [m.model_dump() for m in body.models])
        return (await _with_models(conn, [row]))[0]


@router.get("/providers", response=ProviderPage)
async def list_providers(request: Request) -> dict[str, Any]:
    """Every provider, by priority (lower first) then name, with models and prices."""
    who = principal(request)
    limit, cursor = pagination.params(request)
    after = None
    if cursor is not None:
        try:
            after = (int(cursor["p"]), str(cursor["n"]))
        except (KeyError, ValueError, TypeError, OverflowError):
            raise ValidationFailed(
                [{"loc": ["query", "cursor"], "msg": "is not a valid cursor"}]
            ) from None
    async with database.connection() as conn:
        rows = await repository.list_providers(conn, limit=limit + 1, after=after)
        providers = await _with_models(conn, rows, show_url=who.is_privileged)
    return pagination.page(providers, limit=limit, key=lambda p: {"p": p.priority, "n": p.name})


@router.get("/providers/{id}", response=ProviderOut)
async def read_provider(request: Request) -> ProviderOut:
    """One provider; the key reference is never answered, only whether one is set, and
    the base URL only to admins and internal services."""
    who = principal(request)
    provider_id = path_uuid(request)
    async with database.connection() as conn:
        row = await repository.provider_by_id(conn, provider_id)
        return (await _with_models(conn, [row], show_url=who.is_privileged))[0]


@router.patch("/providers/{id}", body=ProviderUpdate, response=ProviderOut)
async def update_provider(request: Request, body: ProviderUpdate) -> ProviderOut:
    """Admin: change fields; ``models`` replaces the list, ``api_key_secret: null`` clears it."""
    principal(request).require_role("admin")
    provider_id = path_uuid(request)
    changes = body.model_dump(include=body.model_fields_set, exclude={"models"})
    for required in ("name", "priority", "enabled"):
        if required in changes and changes[required] is None:
            raise ValidationFailed([{"loc": ["body", required], "msg": "may not be null"}])
    async with database.transaction() as conn:
        row = await repository.update_provider(conn, provider_id, **changes)
        if body.models is not None:
            await repository.replace_models(
                conn, provider_id, [m.model_dump() for m in body.models]
            )
        return (await _with_models(conn, [row]))[0]


@router.delete("/providers/{id}", status=204)
async def delete_provider(request: Request) -> None:
    """Admin: remove a provider and its models (the usage ledger keeps its history)."""
    principal(request).require_role("admin")
    provider_id = path_uuid(request)
    async with database.connection() as conn:
        await repository.delete_provider(conn, provider_id)


@router.get("/providers/{id}/health", response=ProviderHealth)
async def provider_health(request: Request) -> ProviderHealth:
    """Admin: a live probe of the provider's API (``GET /v1/models``), bounded by a timeout.

    The probe sends the provider's key, so only admins may ask, a disabled provider is
    not probed, and one provider is probed at most once per
    ``PROVIDER_PROBE_MIN_INTERVAL_SECONDS`` (asking again in between answers the last
    result): nobody can turn health checks into a stream of keyed requests.
    """
    principal(request).require_role("admin")
    provider_id = path_uuid(request)
    async with database.connection() as conn:
        row = await repository.provider_call_target(conn, provider_id)
    if not row.enabled:
        return ProviderHealth(status="disabled", latency_ms=0.0, detail="disabled; not probed")
    config = settings()
    key = redis.key("probe", str(provider_id))
    try:
        recent = await redis.client().get(key)
    except down_errors():
        recent = None
    if recent is not None:
        return ProviderHealth.model_validate_json(recent)
    target = probes.Target(row.kind, row.base_url, row.api_key_secret, config.is_development)
    result = ProviderHealth.model_validate(
        await probes.probe(target, limit_s=config.provider_probe_timeout_seconds)
    )
    try:
        await redis.client().set(
            key, result.model_dump_json(), ex=config.provider_probe_min_interval_seconds
        )
    except down_errors():
        pass  # unthrottled while Redis is down; still admin-only
    return result


@router.get("/providers/{id}/credentials")
async def provider_credentials(request: Request) -> dict[str, Any]:
    """Internal: where the provider's key is kept (the reference, never the key itself).

    Only internal service tokens (ai-orchestrator, acting on its own account) may ask;
    the caller resolves the reference with ``shared.credentials`` right before a call.
    """
    who = principal(request)
    if INTERNAL_SCOPE not in who.scopes or who.acting_for is not None:
        raise Forbidden("Only internal services may read a provider's key reference.")
    provider_id = path_uuid(request)
    async with database.connection() as conn:
        row = await repository.provider_call_target(conn, provider_id)
    return {"id": str(provider_id), "kind": row.kind, "api_key_secret": row.api_key_secret}
