"""remote calls the functions comparison-service depends on: versions and analyses.

Every call forwards the caller's identity (``shared.clients.forwarded``), so versions and
analyses apply their own access rules to the person (or service) asking.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel

from functions.comparison_service.settings import settings
from shared import clients
from shared.errors import NotFound

MAX_FINDINGS = 100_000
"""A bound on the findings read for one analysis (pages of 200)."""


class Version(BaseModel):
    """What comparison-service reads of a version: the experiment it belongs to."""

    id: uuid.UUID
    experiment_id: uuid.UUID


class _FindingsPage(BaseModel):
    # Findings stay JSON: comparisons answer them as analyses sent them.
    items: list[dict[str, Any]]
    next_cursor: str | None = None


async def version(version_id: uuid.UUID, *, headers: dict[str, str]) -> Version | None:
    """The version, or None when versions does not know it."""
    try:
        return await clients.call_for(
            Version,
            "versions",
            "GET",
            f"{settings().versions_url}/versions/{version_id}",
            headers=headers,
        )
    except NotFound:
        return None


async def move_production(
    experiment_id: uuid.UUID, *, version_id: uuid.UUID, reason: str, headers: dict[str, str]
) -> dict[str, Any]:
    """PUT the experiment's ``production`` alias (versions records who and why); its
    answer is JSON the promotion answers as it is."""
    moved: dict[str, Any] = (
        await clients.call(
            "versions",
            "PUT",
            f"{settings().versions_url}/experiments/{experiment_id}/aliases/production",
            json={"version_id": str(version_id), "reason": reason[:2000]},
            headers=headers,
        )
    ).json()
    return moved


async def findings(analysis_id: uuid.UUID, *, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every finding of an analysis, following ``next_cursor``."""
    url = f"{settings().analyses_url}/analyses/{analysis_id}/findings"
    collected: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        page = await clients.call_for(
            _FindingsPage, "analyses", "GET", url, params=params, headers=headers
        )
        collected.extend(page.items)
        cursor = page.next_cursor
        if not cursor or len(collected) >= MAX_FINDINGS:
            return collected
