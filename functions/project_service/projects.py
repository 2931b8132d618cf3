"""projects implements the projects function: projects, members and the access check.

Creating a project makes the caller its owner. Roles and the 404-for-non-members
rule are in ``membership``. ``GET /projects/{id}/access`` is how other services ask
"may this caller read project X": 200 ``{project_id, role}`` for members (and
admins), 404 otherwise; ``shared/access.py`` calls it and caches the answer.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from functions.project_service import membership, remote, repository
from functions.project_service.context import database
from functions.project_service.schemas import (
    AccessOut,
    MemberOut,
    MemberPage,
    MemberPut,
    MembershipsRemoved,
    ProjectCreate,
    ProjectOut,
    ProjectPage,
    ProjectUpdate,
    SoleOwnerships,
)
from functions.project_service.settings import settings
from shared import pagination
from shared.auth import INTERNAL_SCOPE
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.function import Router, path_uuid, render

router = Router()


def _project(row: repository.ProjectRecord, role: str | None) -> ProjectOut:
    return ProjectOut.model_validate({**asdict(row), "role": role})


@router.post("/projects", status=201, body=ProjectCreate, response=ProjectOut, idempotent=True)
async def create_project(request: Request, body: ProjectCreate) -> ProjectOut:
    """Create a project; the caller becomes its owner."""
    who = await membership.caller(request)
    owner = membership.require_user(who)
    async with database.transaction() as conn:
        limit = settings().max_projects_per_user
        if not who.is_admin and await repository.projects_created_by(conn, owner) >= limit:
            raise Conflict(f"You have created {limit} projects, the most a member may keep.")
        row = await repository.create_project(
            conn, name=body.name, description=body.description, owner=owner
        )
    return _project(row, "owner")


@router.get("/projects", response=ProjectPage)
async def list_projects(request: Request) -> dict[str, Any]:
    """Projects the caller is a member of, oldest first; admins may add ``?all=true``."""
    who = await membership.caller(request)
    every = request.query_params.get("all", "false").lower() == "true"
    if every and not who.is_admin:
        raise Forbidden("Only administrators may list every project (all=true).")
    limit, cursor = pagination.params(request)
    async with database.connection() as conn:
        rows = await repository.list_projects(
            conn,
            user_id=who.user_id,
            every=every,
            limit=limit + 1,
            after=pagination.created_after(cursor),
        )
    items = [_project(r, role) for r, role in rows]
    return pagination.page(items, limit=limit, key=pagination.created_key)


@router.get("/projects/{id}", response=ProjectOut)
async def read_project(request: Request) -> ProjectOut:
    """Members: the project."""
    project_id = path_uuid(request)
    who = await membership.caller(request)
    async with database.connection() as conn:
        role = await membership.require(conn, project_id, who, "viewer")
        return _project(await repository.project(conn, project_id), role)


@router.patch("/projects/{id}", body=ProjectUpdate, response=ProjectOut)
async def update_project(request: Request, body: ProjectUpdate) -> ProjectOut:
    """Maintainers+: rename or describe the project."""
    project_id = path_uuid(request)
    who = await membership.caller(request)
    async with database.transaction() as conn:
        role = await membership.require(conn, project_id, who, "maintainer")
        row = await repository.update_project(
            conn, project_id, **body.model_dump(exclude_none=True)
        )
    return _project(row, role)


@router.delete("/projects/{id}", status=204)
async def delete_project(request: Request) -> None:
    """Owners: delete the project with its members, files and snapshots."""
    project_id = path_uuid(request)
    who = await membership.caller(request)
    async with database.transaction() as conn:
        await membership.require(conn, project_id, who, "owner")
        await repository.delete_project(conn, project_id)


@router.get("/projects/{id}/access", response=AccessOut)
async def read_access(request: Request) -> AccessOut:
    """Members: the caller's role (``admin`` for administrators who are not members)."""
    project_id = path_uuid(request)
    who = await membership.caller(request)
    async with database.connection() as conn:
        role = await membership.role(conn, project_id, who)
    return AccessOut.model_validate({"project_id": project_id, "role": role})


@router.get("/projects/{id}/members", response=MemberPage)
async def list_members(request: Request) -> dict[str, Any]:
    """Members: who is in the project, by user id."""
    project_id = path_uuid(request)
    who = await membership.caller(request)
    limit, cursor = pagination.params(request)
    after = _member_cursor(cursor)
    async with database.connection() as conn:
        await membership.require(conn, project_id, who, "viewer")
        rows = await repository.list_members(conn, project_id, limit=limit + 1, after=after)
    items = [MemberOut.model_validate(r, from_attributes=True) for r in rows]
    return pagination.page(items, limit=limit, key=lambda m: {"user": str(m.user_id)})


def _member_cursor(cursor: dict[str, Any] | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    try:
        return uuid.UUID(cursor["user"])
    except (KeyError, ValueError, TypeError):
        raise ValidationFailed(
            [{"loc": ["query", "cursor"], "msg": "is not a valid cursor"}]
        ) from None


@router.put("/projects/{id}/members/{user_id}", body=MemberPut, response=MemberOut, also=(201,))
async def put_member(request: Request, body: MemberPut) -> Response:
    """Owners: add a member (201) or change a role (200); the last owner stays owner.

    A new member must be a user: auth-users is asked first (``remote.require_user``), and
    an id nobody has is a 404 ("User '<id>' does not exist."), as for any path naming a
    missing resource; auth-users down is a 503. Nothing is added then. A disabled user
    may be added (disabling is reversible). A role change of a member asks nobody: the
    member was a user when added, and a deleted user's memberships are removed.
    """
    project_id = path_uuid(request)
    user_id = path_uuid(request, "user_id")
    who = await membership.caller(request)
    async with database.connection() as conn:
        await membership.require(conn, project_id, who, "owner")
        known = await repository.member(conn, project_id, user_id) is not None
    if not known:  # asked outside the transaction: no lock is held across a remote call
        await remote.require_user(user_id)
    async with database.transaction() as conn:
        await membership.require(conn, project_id, who, "owner")
        await repository.lock_members(conn, project_id)
        current = await repository.member(conn, project_id, user_id)
        if current is not None and body.role != "owner":
            await _keep_an_owner(conn, project_id, current)
        row = await repository.put_member(conn, project_id, user_id, role=body.role)
    return render(
        MemberOut.model_validate(row, from_attributes=True), status=200 if current else 201
    )


@router.delete("/projects/{id}/members/{user_id}", status=204)
async def delete_member(request: Request) -> None:
    """Owners remove anyone; any member may leave; the last owner cannot leave."""
    project_id = path_uuid(request)
    user_id = path_uuid(request, "user_id")
    who = await membership.caller(request)
    async with database.transaction() as conn:
        leaving = who.user_id == user_id
        await membership.require(conn, project_id, who, "viewer" if leaving else "owner")
        await repository.lock_members(conn, project_id)
        current = await repository.member(conn, project_id, user_id)
        if current is None:
            raise NotFound(f"User '{user_id}' is not a member of project '{project_id}'.")
        await _keep_an_owner(conn, project_id, current)
        await repository.delete_member(conn, project_id, user_id)


async def _keep_an_owner(
    conn: asyncpg.Connection, project_id: uuid.UUID, current: repository.MemberRecord
) -> None:
    if current.role == "owner" and await repository.count_owners(conn, project_id) <= 1:
        raise Conflict(
            f"User '{current.user_id}' is the last owner of project '{project_id}'; "
            "make another member owner first."
        )


# ---------------------------------------------------------------- internal: deleting a user
# auth-users' DELETE /users/{id} asks the first and, once the user is deleted, calls the
# second. Both are served only at the cluster-local address (``internal``: a 404 through
# the gateway, absent from the public OpenAPI) and only to platform services.

SOLE_OWNERSHIPS_LISTED = 50


def _require_platform(who: membership.Caller) -> None:
    """A platform service (scope ``internal``) acting for nobody: no user, not even an
    admin, reads or removes another user's memberships across projects here.

    Raises:
        Forbidden: any other caller.
    """
    given = who.principal
    if given.role != "service" or INTERNAL_SCOPE not in given.scopes or given.acting_for:
        raise Forbidden("Only platform services may call this route.")


@router.get("/members/{user_id}/sole-ownerships", response=SoleOwnerships, internal=True)
async def read_sole_ownerships(request: Request) -> SoleOwnerships:
    """Platform services: the projects the user is the only owner of (oldest 50, and how
    many in all); auth-users refuses to delete that user while there are any."""
    who = await membership.caller(request)
    _require_platform(who)
    user_id = path_uuid(request, "user_id")
    async with database.connection() as conn:
        rows, total = await repository.sole_ownerships(conn, user_id, limit=SOLE_OWNERSHIPS_LISTED)
    return SoleOwnerships.model_validate(
        {"user_id": user_id, "total": total, "projects": [asdict(r) for r in rows]}
    )


@router.delete("/members/{user_id}", response=MembershipsRemoved, internal=True)
async def delete_memberships(request: Request) -> MembershipsRemoved:
    """Platform services: remove a deleted user from every project (idempotent: a retry
    removes what is left, 0 when nothing is)."""
    who = await membership.caller(request)
    _require_platform(who)
    user_id = path_uuid(request, "user_id")
    async with database.transaction() as conn:
        removed = await repository.delete_memberships(conn, user_id)
    return MembershipsRemoved(user_id=user_id, removed=removed)
