"""versions implements the versions function: experiments, versions, aliases and /resolve."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from functions.version_control_service import configdiff, repository
from functions.version_control_service.context import database, redis
from functions.version_control_service.schemas import (
    Alias,
    AliasChange,
    AliasMove,
    Experiment,
    ExperimentCreate,
    Resolved,
    Version,
    VersionCreate,
    canonical_json,
    config_sha256,
)
from functions.version_control_service.settings import settings
from shared import pagination
from shared.auth import Principal, principal
from shared.cache import down_errors
from shared.errors import Conflict, Forbidden, NotFound, Unavailable, ValidationFailed
from shared.function import Router, path_uuid

router = Router()
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
# /experiments/{id} takes the experiment's id or its name
_EXPERIMENT = {"type": "string", "description": "The experiment's id (UUID) or its name."}
_EXPERIMENT_PATH = {"id": _EXPERIMENT}
_ALIAS_PATH = {"id": _EXPERIMENT, "alias": {"type": "string", "pattern": _ALIAS.pattern}}


def _writer(request: Request) -> Principal:
    """Admins and internal services (promotion by comparison-service) may write."""
    who = principal(request)
    if not who.is_privileged:
        raise Forbidden("Changing experiments, versions or aliases needs the admin role.")
    return who


def _alias(request: Request) -> str:
    name = str(request.path_params["alias"])
    if not _ALIAS.match(name):
        raise ValidationFailed([{"loc": ["path", "alias"], "msg": f"must match {_ALIAS.pattern}"}])
    return name


@router.post(
    "/experiments", status=201, body=ExperimentCreate, response=Experiment, idempotent=True
)
async def create_experiment(request: Request, body: ExperimentCreate) -> Experiment:
    """Create an experiment (admin)."""
    writer = _writer(request)
    async with database.connection() as conn:
        row = await repository.create_experiment(
            conn, name=body.name, description=body.description, created_by=writer.actor
        )
    return Experiment.model_validate(row, from_attributes=True)


@router.get("/experiments")
async def list_experiments(request: Request) -> dict[str, Any]:
    """Experiments by name."""
    limit, cursor = pagination.params(request)
    async with database.connection() as conn:
        rows = await repository.list_experiments(
            conn, limit=limit + 1, after=(cursor or {}).get("name")
        )
    items = [Experiment.model_validate(r, from_attributes=True) for r in rows]
    return pagination.page(items, limit=limit, key=lambda e: {"name": e.name})


@router.get("/experiments/{id}", response=Experiment, path_schemas=_EXPERIMENT_PATH)
async def read_experiment(request: Request) -> Experiment:
    """One experiment, by id or name."""
    async with database.connection() as conn:
        found = await repository.experiment(conn, request.path_params["id"])
    return Experiment.model_validate(found, from_attributes=True)


@router.post(
    "/experiments/{id}/versions",
    status=201,
    also=(200,),
    body=VersionCreate,
    response=Version,
    path_schemas=_EXPERIMENT_PATH,
)
async def create_version(request: Request, body: VersionCreate) -> Response:
    """Add an immutable version; an identical configuration answers the existing one (200)."""
    writer = _writer(request)
    async with database.transaction() as conn:
        experiment = await repository.experiment(conn, request.path_params["id"])
        version, created = await repository.insert_version(
            conn,
            experiment_id=experiment.id,
            sha256=config_sha256(body.config),
            config_json=canonical_json(body.config),
            message=body.message,
            parent_id=body.parent_id,
            created_by=writer.actor,
        )
    return Response(
        Version.model_validate(version, from_attributes=True).model_dump_json(),
        status_code=201 if created else 200,
        media_type="application/json",
    )


@router.get("/experiments/{id}/versions", path_schemas=_EXPERIMENT_PATH)
async def list_versions(request: Request) -> dict[str, Any]:
    """The experiment's versions by number."""
    limit, cursor = pagination.params(request)
    after = (cursor or {}).get("number")
    async with database.connection() as conn:
        experiment = await repository.experiment(conn, request.path_params["id"])
        rows = await repository.list_versions(
            conn, experiment.id, limit=limit + 1, after=int(after) if after is not None else None
        )
    items = [Version.model_validate(r, from_attributes=True) for r in rows]
    return pagination.page(items, limit=limit, key=lambda v: {"number": v.number})


@router.get("/versions/{id}", response=Version)
async def read_version(request: Request) -> Version:
    """One version with its configuration."""
    async with database.connection() as conn:
        found = await repository.version(conn, path_uuid(request))
    return Version.model_validate(found, from_attributes=True)


@router.get("/versions/{id}/diff/{other_id}")
async def diff_versions(request: Request) -> dict[str, Any]:
    """Structured diff from version ``id`` to version ``other_id``."""
    async with database.connection() as conn:
        old = await repository.version(conn, path_uuid(request))
        new = await repository.version(conn, path_uuid(request, "other_id"))
    return {
        "from": {"id": old.id, "number": old.number, "experiment_id": old.experiment_id},
        "to": {"id": new.id, "number": new.number, "experiment_id": new.experiment_id},
        "changes": configdiff.diff(old.config, new.config),
    }


@router.get("/experiments/{id}/aliases", path_schemas=_EXPERIMENT_PATH)
async def list_aliases(request: Request) -> dict[str, Any]:
    """Every alias of the experiment and where it points."""
    async with database.connection() as conn:
        experiment = await repository.experiment(conn, request.path_params["id"])
        rows = await repository.list_aliases(conn, experiment.id)
    return {
        "items": [Alias.model_validate(r, from_attributes=True) for r in rows],
        "next_cursor": None,
    }


@router.put(
    "/experiments/{id}/aliases/{alias}", body=AliasMove, response=Alias, path_schemas=_ALIAS_PATH
)
async def move_alias(request: Request, body: AliasMove) -> Alias:
    """Point an alias at a version of this experiment, keeping its history."""
    writer = _writer(request)
    alias = _alias(request)
    async with database.transaction() as conn:
        experiment = await repository.experiment(conn, request.path_params["id"])
        row = await repository.move_alias(
            conn,
            experiment_id=experiment.id,
            alias=alias,
            version_id=body.version_id,
            changed_by=writer.actor,
            reason=body.reason,
        )
        await _forget(experiment, alias, strict=True)
    await _forget(experiment, alias)
    return Alias.model_validate(row, from_attributes=True)


@router.post("/experiments/{id}/aliases/{alias}/rollback", response=Alias, path_schemas=_ALIAS_PATH)
async def rollback_alias(request: Request) -> Alias:
    """Move the alias back to the version it pointed at before its current one."""
    writer = _writer(request)
    alias = _alias(request)
    async with database.transaction() as conn:
        experiment = await repository.experiment(conn, request.path_params["id"])
        target = await repository.rollback_target(conn, experiment.id, alias)
        if target is None:
            raise Conflict(f"Alias '{alias}' has no earlier version to roll back to.")
        row = await repository.move_alias(
            conn,
            experiment_id=experiment.id,
            alias=alias,
            version_id=target,
            changed_by=writer.actor,
            reason="rollback",
            rollback=True,
        )
        await _forget(experiment, alias, strict=True)
    await _forget(experiment, alias)
    return Alias.model_validate(row, from_attributes=True)


@router.get("/experiments/{id}/aliases/{alias}/history", path_schemas=_ALIAS_PATH)
async def alias_history(request: Request) -> dict[str, Any]:
    """Every move of the alias, newest first: who, when, from, to, why."""
    alias = _alias(request)
    async with database.connection() as conn:
        experiment = await repository.experiment(conn, request.path_params["id"])
        rows = await repository.alias_history(conn, experiment.id, alias)
    return {
        "items": [AliasChange.model_validate(r, from_attributes=True) for r in rows],
        "next_cursor": None,
    }


@router.get("/resolve", response=Resolved)
async def resolve(request: Request) -> Response:
    """The version an alias (default ``production``) or a version id names, with its config.

    On every review's hot path: answers come from Redis, and moving an alias deletes its
    cached answer at once; without Redis the database answers.
    """
    experiment_ref = request.query_params.get("experiment") or settings().default_experiment
    try:  # one spelling per experiment id in the cache key, as the move that clears it uses
        experiment_ref = str(uuid.UUID(experiment_ref))
    except ValueError:
        pass
    version_ref = request.query_params.get("version_id")
    alias = None if version_ref else request.query_params.get("alias") or "production"
    key = redis.key("resolve", experiment_ref, f"v:{version_ref}" if version_ref else f"a:{alias}")
    cached = await _cache_get(key)
    if cached is not None:
        return Response(cached, media_type="application/json", headers={"X-Cache": "hit"})
    body = (await _resolve(experiment_ref, alias, version_ref)).model_dump_json().encode()
    await _cache_set(key, body)
    return Response(body, media_type="application/json", headers={"X-Cache": "miss"})


async def _resolve(experiment_ref: str, alias: str | None, version_ref: str | None) -> Resolved:
    async with database.connection() as conn:
        experiment = await repository.experiment(conn, experiment_ref)
        if version_ref is not None:
            try:
                version_id = uuid.UUID(version_ref)
            except ValueError:
                raise ValidationFailed(
                    [{"loc": ["query", "version_id"], "msg": "must be a UUID"}]
                ) from None
        else:
            assert alias is not None
            version_id = await repository.alias_version(conn, experiment.id, alias)
        version = await repository.version(conn, version_id)
    if version.experiment_id != experiment.id:
        raise NotFound(f"Version '{version_id}' is not in experiment '{experiment.name}'.")
    return Resolved(
        experiment_id=experiment.id,
        experiment=experiment.name,
        alias=alias,
        version=Version.model_validate(version, from_attributes=True),
    )


async def _cache_get(key: str) -> bytes | None:
    try:
        value = await redis.client().get(key)
    except down_errors():
        return None
    return value if isinstance(value, bytes) else None


async def _cache_set(key: str, body: bytes) -> None:
    ttl = settings().resolve_cache_seconds
    if ttl:
        try:
            await redis.client().set(key, body, ex=ttl)
        except down_errors():
            return


async def _forget(
    experiment: repository.ExperimentRecord, alias: str, *, strict: bool = False
) -> None:
    """Drop the alias's cached answers: inside the move's transaction (``strict``: a
    Redis failure aborts the move, so no stale answer outlives it) and again after commit
    (a resolve that raced the move may have cached the old version)."""
    refs = (str(experiment.id), experiment.name)
    try:
        await redis.client().delete(*[redis.key("resolve", ref, f"a:{alias}") for ref in refs])
    except down_errors() as e:
        if strict:
            raise Unavailable("redis", detail="The alias cache could not be invalidated.") from e
