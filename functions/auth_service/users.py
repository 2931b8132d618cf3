"""users implements auth-users: registration, profiles, administration and service accounts."""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from functions.auth_service import limiter, passwords, remote, repository
from functions.auth_service.context import database, redis
from functions.auth_service.schemas import (
    RegistrationAccepted,
    ServiceAccountCreate,
    ServiceAccountCreated,
    UserAdminUpdate,
    UserCreate,
    UserOut,
    UserPage,
    UserSelfUpdate,
)
from functions.auth_service.settings import settings
from shared import auth, pagination
from shared.auth import principal
from shared.errors import Conflict, Forbidden, NotFound, Unavailable, ValidationFailed
from shared.function import Router, path_uuid, render

logger = logging.getLogger(__name__)
router = Router()


def _user(row: Any) -> UserOut:
    return UserOut.model_validate(row, from_attributes=True)


def _check_password(password: str, email: str) -> None:
    config = settings()
    problems = passwords.policy_violations(
        password,
        email=email,
        min_length=config.password_min_length,
        min_score=config.password_min_score,
    )
    if problems:
        raise ValidationFailed(
            [{"loc": ["body", "password"], "msg": p, "type": "password_policy"} for p in problems],
            detail="The password does not meet the password policy.",
        )


@router.post(
    "/users",
    status=202,
    also=(201,),
    body=UserCreate,
    response=RegistrationAccepted | UserOut,
    public=True,
    optional_auth=True,
    idempotent=True,
)
async def create_user(request: Request, body: UserCreate) -> Response:
    """Register a user (open in development or when REGISTRATION_OPEN; admins always may).

    A self-registration answers 202 with the same body, after the same work (the password
    policy, one Argon2 hash, one insert), whether or not the e-mail has an account: the
    answer must not tell a stranger who is registered. The new user signs in (``POST
    /token``) and reads their id from ``GET /users/me``; someone registering an address
    that is taken learns it only by failing to sign in, which the login throttle slows.
    An admin (who lists every user anyway) gets 201 with the user, or 409 for a taken
    e-mail.
    """
    caller = principal(request, required=False)
    admin = caller is not None and caller.is_admin
    if not settings().registration_is_open and not admin:
        raise Forbidden("Registration is closed; ask an administrator.")
    _check_password(body.password, body.email)
    digest = await passwords.hash_password(body.password)
    try:
        async with database.connection() as conn:
            row = await repository.create_user(
                conn, email=body.email, name=body.name or "", role="member", password_hash=digest
            )
    except Conflict:
        if admin:
            raise
        logger.info("Self-registration for an address that already has an account.")
    else:
        if admin:
            return render(_user(row), status=201)
    return render(RegistrationAccepted(email=body.email), status=202)


@router.get("/users/me", response=UserOut)
async def read_me(request: Request) -> UserOut:
    """The caller's own user."""
    user_id = principal(request).user()
    async with database.connection() as conn:
        return _user(await repository.user_by_id(conn, user_id))


@router.patch("/users/me", body=UserSelfUpdate, response=UserOut)
async def update_me(request: Request, body: UserSelfUpdate) -> UserOut:
    """Change one's name or password; the current password is always required, and
    guesses at it are throttled like logins (a stolen access token must not become a
    password oracle)."""
    user_id = principal(request).user()
    account, ip = f"user:{user_id}", limiter.client_ip(request)
    await limiter.attempt(account=account, ip=ip)
    async with database.connection() as conn:
        stored = await repository.password_hash(conn, user_id)
        user = await repository.user_by_id(conn, user_id)
    if not await passwords.verify_password(stored, body.current_password):
        raise Forbidden("The current password is wrong.")
    await limiter.succeeded(account=account, ip=ip)
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["name"] = body.name
    if body.password is not None:
        _check_password(body.password, user.email)
        changes["password_hash"] = await passwords.hash_password(body.password)
    generation = None
    async with database.transaction() as conn:
        row = await repository.update_user(conn, user_id, **changes)
        if "password_hash" in changes:  # signs out everywhere, this token included
            await repository.revoke_user_tokens(conn, user_id)
            generation = await repository.bump_generation(conn, user_id)
    if generation is not None:
        await auth.publish_generation(redis, str(user_id), generation)
    return _user(row)


@router.get("/users", response=UserPage)
async def list_users(request: Request) -> dict[str, Any]:
    """Admin: every user, oldest first."""
    principal(request).require_role("admin")
    limit, cursor = pagination.params(request)
    after = pagination.created_after(cursor)
    async with database.connection() as conn:
        rows = await repository.list_users(conn, limit=limit + 1, after=after)
    return pagination.page([_user(r) for r in rows], limit=limit, key=pagination.created_key)


async def _guard_last_admin(conn: Any, target: Any, *, demoting: bool) -> None:
    if demoting and target.role == "admin" and not target.disabled:
        if await repository.count_admins(conn) <= 1:
            raise Conflict("The last active administrator cannot be demoted, disabled or deleted.")


@router.patch("/users/{id}", body=UserAdminUpdate, response=UserOut)
async def update_user(request: Request, body: UserAdminUpdate) -> UserOut:
    """Admin: change a user's role or disable them (disabling revokes refresh tokens).

    A role change or a disable also ends the user's access tokens on their next request
    (their token generation moves on, ``shared.auth``), not when they expire.
    """
    principal(request).require_role("admin")
    user_id = path_uuid(request)
    changes = body.model_dump(exclude_none=True)
    generation = None
    async with database.transaction() as conn:
        target = await repository.user_by_id(conn, user_id)
        demoting = changes.get("role") == "member" or changes.get("disabled") is True
        await _guard_last_admin(conn, target, demoting=demoting)
        row = await repository.update_user(conn, user_id, **changes)
        if changes.get("disabled"):
            await repository.revoke_user_tokens(conn, user_id)
        if row.role != target.role or (row.disabled and not target.disabled):
            generation = await repository.bump_generation(conn, user_id)
    if generation is not None:
        await auth.publish_generation(redis, str(user_id), generation)
    return _user(row)


@router.get("/users/{id}", response=UserOut)
async def read_user(request: Request) -> UserOut:
    """Admins and platform services: a user by id (project-service asks it before adding
    a member); 404 for an id no user has, disabled users included (disabling is
    reversible); anyone else a 403.
    """
    if not principal(request).is_privileged:
        raise Forbidden("Only administrators and platform services may read another user.")
    user_id = path_uuid(request)
    async with database.connection() as conn:
        return _user(await repository.user_by_id(conn, user_id))


@router.delete("/users/{id}", status=204)
async def delete_user(request: Request) -> None:
    """Admin: delete a user, their refresh tokens and their project memberships.

    A user who is the only owner of a project is not deleted: 409, naming the projects
    (their ownership must be transferred, or the projects deleted, first), as code hosts
    do. project-service is asked before the delete (down: 503, nothing deleted) and told
    after it to remove the user's memberships. If that second call fails, the user stays
    deleted and the answer is a 503 (the log says why): the memberships left are harmless (the
    user's tokens are refused from the delete on, ``auth.TOMBSTONE``, and ids are never
    reused), and the retried DELETE, which answers 404 for the user, removes them first.
    """
    principal(request).require_role("admin")
    user_id = path_uuid(request)
    async with database.connection() as conn:
        target = await repository.user_by_id_or_none(conn, user_id)
        if target is not None:
            await _guard_last_admin(conn, target, demoting=True)
    if target is None:  # gone, perhaps by an earlier attempt: finish its clean-up
        await remote.remove_memberships(user_id)
        raise NotFound(f"User '{user_id}' does not exist.")
    owned = await remote.sole_ownerships(user_id)
    if owned.total:
        raise Conflict(_sole_owner_detail(user_id, owned))
    async with database.transaction() as conn:
        target = await repository.user_by_id(conn, user_id)
        await _guard_last_admin(conn, target, demoting=True)
        await repository.delete_user(conn, user_id)
    await auth.publish_generation(redis, str(user_id), auth.TOMBSTONE)
    try:
        await remote.remove_memberships(user_id)
    except Unavailable as e:
        raise Unavailable(
            "projects",
            detail=f"User '{user_id}' was deleted, but their project memberships could not be"
            " removed yet; retry the DELETE to remove them.",
        ) from e


def _sole_owner_detail(user_id: Any, owned: remote.SoleOwnerships) -> str:
    named = ", ".join(f"'{p.name}' ({p.id})" for p in owned.projects[:10])
    more = owned.total - min(len(owned.projects), 10)
    listing = named + (f" and {more} more" if more > 0 else "")
    return (
        f"User '{user_id}' is the only owner of {owned.total} project(s): {listing}; "
        "transfer ownership or delete them first."
    )


@router.post(
    "/service-accounts",
    status=201,
    body=ServiceAccountCreate,
    response=ServiceAccountCreated,
    idempotent=True,
)
async def create_service_account(
    request: Request, body: ServiceAccountCreate
) -> ServiceAccountCreated:
    """Admin: a client for ``client_credentials``; the secret is shown only here."""
    admin = principal(request).require_role("admin")
    client_id = "sa-" + secrets.token_hex(12)
    client_secret = passwords.generate_secret()
    digest = await passwords.hash_password(client_secret)
    creator = admin.user_id
    async with database.connection() as conn:
        row = await repository.create_service_account(
            conn,
            name=body.name,
            client_id=client_id,
            secret_hash=digest,
            scopes=body.scopes,
            created_by=creator,
        )
    return ServiceAccountCreated.model_validate({**asdict(row), "client_secret": client_secret})
