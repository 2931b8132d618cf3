"""membership decides what a caller may do in a project.

Roles rank ``viewer < maintainer < owner``: viewers read, maintainers also edit the
project and its files and take snapshots, owners also delete the project and manage
members. A token with role ``admin`` acts as an owner of every project (its role
reads ``admin`` where it is not a member). A service token with the ``internal``
scope naming a user in ``X-Acting-User`` is that user. Whoever is not a member sees
``404`` for the project and everything in it, exactly as for a missing project, so
ids do not leak; a member lacking the rank gets ``403``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg
from starlette.requests import Request

from functions.project_service import repository
from shared.auth import Principal, principal
from shared.errors import Forbidden, NotFound

RANK = {"viewer": 1, "maintainer": 2, "owner": 3, "admin": 4}
ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Caller:
    """The caller as membership sees it: an admin acts as one only for themself."""

    principal: Principal

    @property
    def user_id(self) -> uuid.UUID | None:
        """The user acted for; None for a service account acting for nobody."""
        return self.principal.user_id

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin and self.principal.acting_for is None


async def caller(request: Request) -> Caller:
    """The caller the function authenticated (``shared.auth.principal``)."""
    return Caller(principal(request))


def require_user(who: Caller) -> uuid.UUID:
    """The user the caller acts for (403 for a service token acting for nobody)."""
    return who.principal.user()


async def role(conn: asyncpg.Connection, project_id: uuid.UUID, who: Caller) -> str:
    """The caller's role in the project (``admin`` for admins who are not members).

    Raises:
        NotFound: the project does not exist or the caller is not a member.
    """
    exists, found = await repository.access(conn, project_id, who.user_id)
    if found is not None:
        return found
    if exists and who.is_admin:
        return ADMIN
    raise NotFound(f"Project '{project_id}' does not exist.")


async def require(
    conn: asyncpg.Connection, project_id: uuid.UUID, who: Caller, minimum: str
) -> str:
    """The caller's role, which must rank at least ``minimum``.

    Raises:
        NotFound: not a member (nor an admin).
        Forbidden: a member below ``minimum``.
    """
    current = await role(conn, project_id, who)
    if RANK[current] < RANK[minimum] and not who.is_admin:
        raise Forbidden(
            f"This action needs the '{minimum}' role in project '{project_id}'; "
            f"the caller is '{current}'."
        )
    return current
