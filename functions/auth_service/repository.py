"""repository holds every SQL statement of auth-service; it answers typed records
(frozen, slotted dataclasses), never ``asyncpg.Record``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.errors import Conflict, NotFound

_USER = "id, email, name, role, disabled, token_generation, created_at, updated_at"


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: uuid.UUID
    email: str
    name: str
    role: str
    disabled: bool
    token_generation: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user with their password hash (logins only)."""

    user: UserRecord
    password_hash: str


@dataclass(frozen=True, slots=True)
class UsedRefreshToken:
    """A refresh token just spent: the family its successor joins, whose it is, its scope."""

    family_id: uuid.UUID
    user_id: uuid.UUID
    scope: str


@dataclass(frozen=True, slots=True)
class ServiceAccountRecord:
    id: uuid.UUID
    name: str
    client_id: str
    scopes: list[str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """A service account as ``client_credentials`` checks it."""

    id: uuid.UUID
    name: str
    client_id: str
    secret_hash: str
    scopes: list[str]
    disabled: bool


async def create_user(
    conn: asyncpg.Connection, *, email: str, name: str, role: str, password_hash: str
) -> UserRecord:
    try:
        row = await conn.fetchrow(
            f"insert into users (id, email, name, role, password_hash) values ($1, $2, $3, $4, $5)"
            f" returning {_USER}",
            uuid.uuid4(),
            email,
            name,
            role,
            password_hash,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"A user with e-mail '{email}' already exists.") from None
    assert row is not None
    return UserRecord(**row)


async def ensure_admin(conn: asyncpg.Connection, *, email: str, password_hash: str) -> bool:
    """Create the bootstrap admin unless the e-mail exists; True when created."""
    created = await conn.fetchval(
        "insert into users (id, email, name, role, password_hash) values ($1, $2, 'Administrator',"
        " 'admin', $3) on conflict (email) do nothing returning true",
        uuid.uuid4(),
        email,
        password_hash,
    )
    return bool(created)


async def user_by_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> UserRecord:
    row = await conn.fetchrow(f"select {_USER} from users where id = $1", user_id)
    if row is None:
        raise NotFound(f"User '{user_id}' does not exist.")
    return UserRecord(**row)


async def user_by_id_or_none(conn: asyncpg.Connection, user_id: uuid.UUID) -> UserRecord | None:
    row = await conn.fetchrow(f"select {_USER} from users where id = $1", user_id)
    return None if row is None else UserRecord(**row)


async def credentials_by_email(conn: asyncpg.Connection, email: str) -> Credentials | None:
    row = await conn.fetchrow(f"select {_USER}, password_hash from users where email = $1", email)
    if row is None:
        return None
    user = UserRecord(**{k: v for k, v in row.items() if k != "password_hash"})
    return Credentials(user, row["password_hash"])


async def password_hash(conn: asyncpg.Connection, user_id: uuid.UUID) -> str:
    value = await conn.fetchval("select password_hash from users where id = $1", user_id)
    if value is None:
        raise NotFound(f"User '{user_id}' does not exist.")
    return str(value)


async def list_users(
    conn: asyncpg.Connection, *, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[UserRecord]:
    if after is None:
        rows = await conn.fetch(
            f"select {_USER} from users order by created_at, id limit $1", limit
        )
        return [UserRecord(**r) for r in rows]
    rows = await conn.fetch(
        f"select {_USER} from users where (created_at, id) > ($1, $2)"
        " order by created_at, id limit $3",
        after[0],
        after[1],
        limit,
    )
    return [UserRecord(**r) for r in rows]


async def update_user(conn: asyncpg.Connection, user_id: uuid.UUID, **changes: Any) -> UserRecord:
    allowed = {"name", "role", "disabled", "password_hash"}
    columns = [c for c in changes if c in allowed]
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    sql = (
        f"update users set {assignments}{', ' if columns else ''}updated_at = now()"
        f" where id = $1 returning {_USER}"
    )
    row = await conn.fetchrow(sql, user_id, *(changes[c] for c in columns))
    if row is None:
        raise NotFound(f"User '{user_id}' does not exist.")
    return UserRecord(**row)


async def delete_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> None:
    result = await conn.execute("delete from users where id = $1", user_id)
    if result == "DELETE 0":
        raise NotFound(f"User '{user_id}' does not exist.")


async def bump_generation(conn: asyncpg.Connection, user_id: uuid.UUID) -> int:
    """End every access token issued so far to the user: their generation moves on."""
    value = await conn.fetchval(
        "update users set token_generation = token_generation + 1 where id = $1"
        " returning token_generation",
        user_id,
    )
    if value is None:
        raise NotFound(f"User '{user_id}' does not exist.")
    return int(value)


async def count_admins(conn: asyncpg.Connection) -> int:
    """Active admins; run inside the transaction that demotes, disables or deletes one.

    The advisory lock serializes those transactions, so two concurrent demotions cannot
    both see two admins and leave none.
    """
    await conn.execute("select pg_advisory_xact_lock(hashtext('auth_service.admins'))")
    return int(
        await conn.fetchval("select count(*) from users where role = 'admin' and not disabled")
    )


async def insert_refresh_token(
    conn: asyncpg.Connection,
    *,
    family_id: uuid.UUID,
    user_id: uuid.UUID,
    token_hash: bytes,
    scope: str,
    ttl_seconds: int,
) -> None:
    await conn.execute(
        "insert into refresh_tokens (id, family_id, user_id, token_hash, scope, expires_at)"
        " values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
        uuid.uuid4(),
        family_id,
        user_id,
        token_hash,
        scope,
        float(ttl_seconds),
    )


async def use_refresh_token(conn: asyncpg.Connection, token_hash: bytes) -> UsedRefreshToken | None:
    """Mark a live token used (exactly once, even under concurrency); None if not live."""
    row = await conn.fetchrow(
        "update refresh_tokens set used_at = now() where token_hash = $1 and used_at is null"
        " and revoked_at is null and expires_at > now() returning family_id, user_id, scope",
        token_hash,
    )
    return None if row is None else UsedRefreshToken(**row)


async def family_of(conn: asyncpg.Connection, token_hash: bytes) -> uuid.UUID | None:
    value = await conn.fetchval(
        "select family_id from refresh_tokens where token_hash = $1", token_hash
    )
    return value if isinstance(value, uuid.UUID) else None


async def revoke_family(conn: asyncpg.Connection, family_id: uuid.UUID) -> int:
    """Revoke every live token of the family. Concurrent revocations of one family (a
    reused token presented several times at once) take turns on an advisory lock: each
    locks the family's rows in its own order, which deadlocked."""
    await conn.execute("select pg_advisory_xact_lock(hashtext($1))", f"family:{family_id}")
    result = await conn.execute(
        "update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null",
        family_id,
    )
    return int(result.split()[-1])


async def revoke_user_tokens(conn: asyncpg.Connection, user_id: uuid.UUID) -> int:
    result = await conn.execute(
        "update refresh_tokens set revoked_at = now() where user_id = $1 and revoked_at is null",
        user_id,
    )
    return int(result.split()[-1])


async def create_service_account(
    conn: asyncpg.Connection,
    *,
    name: str,
    client_id: str,
    secret_hash: str,
    scopes: list[str],
    created_by: uuid.UUID | None,
) -> ServiceAccountRecord:
    row = await conn.fetchrow(
        "insert into service_accounts (id, name, client_id, secret_hash, scopes, created_by)"
        " values ($1, $2, $3, $4, $5, $6) returning id, name, client_id, scopes, created_at",
        uuid.uuid4(),
        name,
        client_id,
        secret_hash,
        scopes,
        created_by,
    )
    assert row is not None
    return ServiceAccountRecord(**row)


async def ensure_service_account(
    conn: asyncpg.Connection, *, name: str, client_id: str, secret_hash: str, scopes: list[str]
) -> None:
    """Create a service account unless its client id exists (concurrent-safe)."""
    await conn.execute(
        "insert into service_accounts (id, name, client_id, secret_hash, scopes)"
        " values ($1, $2, $3, $4, $5) on conflict (client_id) do nothing",
        uuid.uuid4(),
        name,
        client_id,
        secret_hash,
        scopes,
    )


async def service_account_by_client_id(
    conn: asyncpg.Connection, client_id: str
) -> ClientCredentials | None:
    row = await conn.fetchrow(
        "select id, name, client_id, secret_hash, scopes, disabled from service_accounts"
        " where client_id = $1",
        client_id,
    )
    return None if row is None else ClientCredentials(**row)


async def dev_signing_keys(conn: asyncpg.Connection, *, kid: str, pem: str) -> list[str]:
    """The persisted dev keys, newest first; ``pem`` is stored only if none exists.

    Run inside a transaction: the advisory lock makes concurrent first starts agree.
    """
    await conn.execute("select pg_advisory_xact_lock(hashtext('auth_service.dev_signing_keys'))")
    await conn.execute(
        "insert into dev_signing_keys (kid, private_pem) select $1, $2"
        " where not exists (select 1 from dev_signing_keys)",
        kid,
        pem,
    )
    rows = await conn.fetch("select private_pem from dev_signing_keys order by created_at desc")
    return [r["private_pem"] for r in rows]
