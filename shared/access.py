"""access asks project-service whether the caller may read a project, and caches the answer.

The one mechanism for "may this caller read project X": ``GET {PROJECTS_URL}/projects/
{id}/access`` with the caller's own ``Authorization`` (and ``X-Acting-User``, for
service tokens acting for a user), answered ``200 {project_id, role}`` for members
and admins, ``404`` for everyone else. Positive answers are cached in-process for
``PROJECT_ACCESS_CACHE_SECONDS`` (default 5), keyed by a hash of the credentials
plus the project id; refusals are not cached, so a new member is let in at once, while a
removed member keeps *reading* for at most that long. A write asks with ``fresh=True``,
which skips the cache: a removed member cannot write (or give feedback) even once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Protocol
from uuid import UUID

from pydantic import Field
from starlette.requests import Request

from shared import clients
from shared.config import BaseConfig
from shared.errors import Forbidden, NotFound, Unauthorized, Unavailable

DEFAULT_PROJECTS_URL = "http://127.0.0.1:8021"
_MAX_ENTRIES = 10_000
_cache: dict[tuple[str, str], tuple[float, str]] = {}


class Settings(Protocol):
    @property
    def projects_url(self) -> str: ...

    @property
    def project_access_cache_seconds(self) -> float: ...


class AccessConfig(BaseConfig):
    """Settings of a service that checks project access (subclass it)."""

    projects_url: str = Field(DEFAULT_PROJECTS_URL, description="The projects function's URL.")
    project_access_cache_seconds: float = Field(
        5.0, ge=0, description="How long a positive project-access answer is reused for reads."
    )


async def project_role(
    source: Request | Mapping[str, str],
    project_id: UUID | str,
    *,
    settings: Settings,
    fresh: bool = False,
) -> str:
    """The caller's role in ``project_id``: ``owner``, ``maintainer``, ``viewer`` or ``admin``.

    Args:
        source: The incoming request, or its headers (``Authorization``, ``X-Acting-User``).
        project_id: The project asked about.
        settings: Gives ``projects_url`` and ``project_access_cache_seconds``.
        fresh: Ask project-service even if an answer is cached (before a write).

    Raises:
        NotFound: the project does not exist or the caller is not a member.
        Unauthorized: project-service refused the credentials.
        Forbidden: the credentials may not act for the named user.
        Unavailable: project-service could not be reached or failed.
    """
    headers = clients.forwarded(source)
    key = (_fingerprint(headers), str(project_id))
    now = time.monotonic()
    cached = None if fresh else _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    role = await _ask(settings.projects_url, str(project_id), headers)
    ttl = settings.project_access_cache_seconds
    if ttl > 0:
        _remember(key, role, expires=now + ttl)
    return role


def forget() -> None:
    """Drop every cached answer (tests, or after a membership change made here)."""
    _cache.clear()


def _fingerprint(headers: dict[str, str]) -> str:
    text = "\n".join((headers.get("Authorization", ""), headers.get("X-Acting-User", "")))
    return hashlib.sha256(text.encode()).hexdigest()


async def _ask(base_url: str, project_id: str, headers: dict[str, str]) -> str:
    url = f"{base_url.rstrip('/')}/projects/{project_id}/access"
    try:
        response = await clients.get(url, headers=headers, timeout=5.0)
    except clients.transport_errors() as e:
        raise Unavailable("projects", detail="project-service could not be reached.") from e
    if response.status_code == 200:
        role: str = response.json()["role"]
        return role
    if response.status_code in (404, 422):
        raise NotFound(f"Project '{project_id}' does not exist.")
    if response.status_code == 401:
        raise Unauthorized("project-service refused the access token.")
    if response.status_code == 403:
        raise Forbidden("The token may not act for this user.")
    raise Unavailable(
        "projects", detail=f"project-service answered {response.status_code} to an access check."
    )


def _remember(key: tuple[str, str], role: str, *, expires: float) -> None:
    if len(_cache) >= _MAX_ENTRIES:
        now = time.monotonic()
        for stale in [k for k, (until, _) in _cache.items() if until <= now]:
            del _cache[stale]
        if len(_cache) >= _MAX_ENTRIES:
            _cache.pop(next(iter(_cache)))
    _cache[key] = (expires, role)
