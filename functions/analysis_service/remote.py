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
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

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


# The answers read from other functions: only the fields used here (others are ignored),
# validated once per call, so a broken answer is a 503 rather than a KeyError later.


class SnapshotFile(BaseModel):
    path: str
    sha256: str
    size: int = 0
    language: str | None = None


class Snapshot(BaseModel):
    """project-files' snapshot manifest."""

    id: uuid.UUID
    files: list[SnapshotFile]


class Version(BaseModel):
    id: uuid.UUID
    config: dict[str, Any]  # the reviewer config, stored as JSON with the analysis


class Resolved(BaseModel):
    """versions' ``/resolve``: the version an alias (or id) names, with its experiment."""

    experiment_id: uuid.UUID
    version: Version


class Assignment(BaseModel):
    """ab-tests' ``/ab-tests/assign`` when the project is in a running test."""

    ab_test_id: uuid.UUID
    variant: str
    version_id: uuid.UUID


class _MaybeAssignment(BaseModel):
    ab_test_id: uuid.UUID | None = None
    variant: str | None = None
    version_id: uuid.UUID | None = None


class ReviewedPart(BaseModel):
    """The usage of a reviewed chunk (or the answer's total, from an older orchestrator)."""

    provider: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    cached: bool = False
    analyzers: list[str] = Field(default_factory=list)
    # ``{analyzer, reason}`` each, kept as sent: stored with the chunk's result (JSONB)
    skipped_analyzers: list[dict[str, Any]] = Field(default_factory=list)


class Review(BaseModel):
    """The orchestrator's ``/review`` answer. Findings stay JSON: they are stored as the
    chunk's result (JSONB) and read back by ``merge.finding_from_report``."""

    findings: list[dict[str, Any]] = Field(default_factory=list)
    usage: ReviewedPart = Field(default_factory=ReviewedPart)
    chunks: list[ReviewedPart] = Field(default_factory=list)


async def snapshot(
    project_id: uuid.UUID, snapshot_id: uuid.UUID, *, headers: dict[str, str]
) -> Snapshot:
    """The snapshot manifest: its files' path, sha256, size and language."""
    url = f"{settings().project_files_url}/projects/{project_id}/snapshots/{snapshot_id}"
    return await clients.call_for(Snapshot, "project-files", "GET", url, headers=headers)


async def blob(project_id: uuid.UUID, sha256: str, *, headers: dict[str, str]) -> bytes:
    url = f"{settings().project_files_url}/projects/{project_id}/blobs/{sha256}"
    response = await clients.call("project-files", "GET", url, headers=headers, timeout=30.0)
    content: bytes = response.content
    return content


async def resolve_version(
    *, alias: str | None, version_id: uuid.UUID | None, headers: dict[str, str]
) -> Resolved:
    """The alias (or version) in the default experiment; an unknown alias or version is a
    422 for the caller."""
    params = {"experiment": settings().default_experiment}
    if version_id is not None:
        params["version_id"] = str(version_id)
    else:
        params["alias"] = alias or settings().default_alias
    url = f"{settings().versions_url}/resolve"
    try:
        return await clients.call_for(
            Resolved, "versions", "GET", url, params=params, headers=headers
        )
    except NotFound as e:
        field = "version_id" if version_id is not None else "alias"
        raise ValidationFailed(
            [{"loc": ["body", "config", field], "msg": f"is unknown to versions ({e.detail})"}]
        ) from None


async def assignment(
    experiment_id: uuid.UUID, project_id: uuid.UUID, *, headers: dict[str, str]
) -> Assignment | None:
    """The project's variant in the experiment's running A/B test, or None.

    ab-tests being down never blocks an analysis: it then runs untested (logged).
    """
    url = f"{settings().ab_tests_url}/ab-tests/assign"
    params = {"experiment_id": str(experiment_id), "unit": str(project_id)}
    try:
        found = await clients.call_for(
            _MaybeAssignment, "ab-tests", "GET", url, params=params, headers=headers
        )
    except (Unavailable, NotFound) as e:
        logger.warning("A/B assignment unavailable for project %s: %s", project_id, e.detail)
        return None
    if found.version_id is None or found.ab_test_id is None or found.variant is None:
        return None
    return Assignment(
        ab_test_id=found.ab_test_id, variant=found.variant, version_id=found.version_id
    )


async def review(body: dict[str, Any], *, headers: dict[str, str]) -> Review:
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
            return clients.read(Review, "orchestrator", response)
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
