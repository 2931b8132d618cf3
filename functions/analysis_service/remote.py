"""remote calls the functions analysis-service depends on: project-files, versions, ab-tests
and the orchestrator.

Request-time calls forward the user's own ``Authorization``; the worker calls as the
platform service account acting for the requester (``X-Acting-User``), so every read is
still member-checked by the function that owns the data.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from functions.analysis_service.settings import settings
from shared import clients
from shared.errors import (
    NotFound,
    ProblemError,
    QuotaExceeded,
    Unavailable,
    ValidationFailed,
)

logger = logging.getLogger(__name__)


class ReviewRefused(ProblemError):
    """The orchestrator refused a chunk for good (4xx other than 429): the chunk is skipped."""


async def snapshot(
    project_id: uuid.UUID, snapshot_id: uuid.UUID, *, headers: dict[str, str]
) -> dict[str, Any]:
    """The snapshot manifest ``{id, tree_sha256, files:[{path, sha256, size, language}]}``."""
    url = f"{settings().project_files_url}/projects/{project_id}/snapshots/{snapshot_id}"
    manifest: dict[str, Any] = (
        await clients.call("project-files", "GET", url, headers=headers)
    ).json()
    return manifest


async def blob(project_id: uuid.UUID, sha256: str, *, headers: dict[str, str]) -> bytes:
    url = f"{settings().project_files_url}/projects/{project_id}/blobs/{sha256}"
    response = await clients.call("project-files", "GET", url, headers=headers, timeout=30.0)
    content: bytes = response.content
    return content


async def resolve_version(
    *, alias: str | None, version_id: uuid.UUID | None, headers: dict[str, str]
) -> dict[str, Any]:
    """``{experiment_id, version:{id, config}}`` of the alias (or version) in the default
    experiment; an unknown alias or version is a 422 for the caller."""
    params = {"experiment": settings().default_experiment}
    if version_id is not None:
        params["version_id"] = str(version_id)
    else:
        params["alias"] = alias or settings().default_alias
    url = f"{settings().versions_url}/resolve"
    try:
        resolved: dict[str, Any] = (
            await clients.call("versions", "GET", url, params=params, headers=headers)
        ).json()
    except NotFound as e:
        field = "version_id" if version_id is not None else "alias"
        raise ValidationFailed(
            [{"loc": ["body", "config", field], "msg": f"is unknown to versions ({e.detail})"}]
        ) from None
    return resolved


async def assignment(
    experiment_id: str, project_id: uuid.UUID, *, headers: dict[str, str]
) -> dict[str, Any] | None:
    """The project's variant in the experiment's running A/B test, or None.

    ab-tests being down never blocks an analysis: it then runs untested (logged).
    """
    url = f"{settings().ab_tests_url}/ab-tests/assign"
    params = {"experiment_id": experiment_id, "unit": str(project_id)}
    try:
        found = (await clients.call("ab-tests", "GET", url, params=params, headers=headers)).json()
    except (Unavailable, NotFound) as e:
        logger.warning("A/B assignment unavailable for project %s: %s", project_id, e.detail)
        return None
    return found if isinstance(found, dict) and found.get("version_id") else None


async def review(body: dict[str, Any], *, headers: dict[str, str]) -> dict[str, Any]:
    """POST /review; a 503 (or no answer) is retried with backoff.

    Raises:
        QuotaExceeded: the orchestrator answered 429 (the detail names the limit).
        ReviewRefused: it refused the chunk itself (4xx).
        Unavailable: it stayed down through every retry.
    """
    config = settings()
    url = f"{config.orchestrator_url}/review"
    for attempt in range(config.orchestrator_retries + 1):
        try:
            response = await clients.request(
                "POST",
                url,
                json=body,
                headers=headers,
                retries=0,
                timeout=config.orchestrator_timeout_seconds,
            )
        except clients.transport_errors():
            response = None
        if response is not None and response.status_code == 200:
            answer: dict[str, Any] = response.json()
            return answer
        if response is not None and response.status_code == 429:
            raise QuotaExceeded(
                f"orchestrator quota: {clients.detail(response)}",
                retry_after=_seconds(response.headers.get("retry-after")),
            )
        if response is not None and response.status_code < 500:
            raise ReviewRefused(
                f"orchestrator answered {response.status_code}: {clients.detail(response)}"
            )
        if attempt < config.orchestrator_retries:
            await asyncio.sleep(min(8.0, 0.5 * 2**attempt))
    raise Unavailable("orchestrator", detail="The orchestrator stayed unavailable.")


def _seconds(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 60
