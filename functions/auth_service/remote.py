"""remote calls the function auth-service depends on: projects (project-service).

Deleting a user touches their projects: auth-users asks first whether the user is the
only owner of any (then the delete is refused), and after the delete has project-service
remove the user's memberships. Both routes are project-service's internal ones, served
only at its cluster-local address to platform services, so the calls carry the platform
service account's token and the cluster-local Host (which ``PROJECTS_URL`` already is in
the cluster; ``make run`` and the tests give a local port instead).
"""

from __future__ import annotations

import uuid
from typing import TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from functions.auth_service.context import platform
from functions.auth_service.settings import settings
from shared import clients, events
from shared.errors import Forbidden, Unauthorized, Unavailable

M = TypeVar("M", bound=BaseModel)


class OwnedProject(BaseModel):
    id: uuid.UUID
    name: str


class SoleOwnerships(BaseModel):
    """project-service's answer: how many projects the user alone owns, the oldest ones."""

    total: int
    projects: list[OwnedProject]


class _Removed(BaseModel):
    removed: int


async def sole_ownerships(user_id: uuid.UUID) -> SoleOwnerships:
    """The projects ``user_id`` is the only owner of.

    Raises:
        Unavailable: projects is down or refused the platform's credentials.
    """
    return await _call(SoleOwnerships, "GET", f"/members/{user_id}/sole-ownerships")


async def remove_memberships(user_id: uuid.UUID) -> int:
    """Remove the (deleted) user from every project; how many memberships went.

    Raises:
        Unavailable: projects is down or refused the platform's credentials.
    """
    return (await _call(_Removed, "DELETE", f"/members/{user_id}")).removed


async def _call(answer: type[M], method: str, path: str) -> M:
    config = settings()
    headers = await platform.headers()
    host = urlsplit(config.projects_url).netloc
    if not events.is_cluster_local(host, domain=config.cluster_domain):
        headers["Host"] = events.cluster_local_host("projects", domain=config.cluster_domain)
    try:
        return await clients.call_for(
            answer, "projects", method, f"{config.projects_url}{path}", headers=headers
        )
    except (Unauthorized, Forbidden) as e:
        platform.forget()
        raise Unavailable(
            "projects", detail="projects refused auth-users' service credentials."
        ) from e
