"""analyses implements the analyses function: jobs, findings, SARIF, cancel and feedback.

Access: every route asks project-service whether the caller may read the project
(``shared.access``); non-members get 404, as for a missing id. Any member may request an
analysis and give feedback; cancelling needs the requester, a maintainer or an owner.

Configuration (issue 5): ``config: {alias}`` or ``{version_id}`` names the reviewer
version; without it the project's variant in a running A/B test of the default experiment
is used (the analysis is tagged with the test and variant), else the default experiment's
``production`` alias. A config given explicitly wins over the A/B assignment, and such an
analysis is not tagged: it would otherwise count in a variant it did not run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from functions.analysis_service import diff, job_events, merge, remote, repository, sarif
from functions.analysis_service.context import database, platform
from functions.analysis_service.repository import AnalysisRecord, FindingRecord, NewAnalysis
from functions.analysis_service.schemas import (
    Analysis,
    AnalysisCreate,
    FeedbackIn,
    FeedbackOut,
    Usage,
)
from functions.analysis_service.settings import settings
from shared import __version__, access, clients, events, pagination
from shared.auth import principal
from shared.errors import (
    Conflict,
    Forbidden,
    PayloadTooLarge,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from shared.function import Router, path_uuid, query_uuid, render

logger = logging.getLogger(__name__)
router = Router()
FEEDBACK = "dev.acr.finding.feedback"
_SLACK = 64 * 1024
"""Room for the JSON around the largest diff (its escaping included, roughly)."""


def _max_body() -> int:
    return 2 * settings().max_diff_bytes + _SLACK


async def _readable(request: Request, project_id: uuid.UUID) -> str:
    """The caller's role in the project; NotFound for non-members."""
    return await access.project_role(request, project_id, settings=settings())


def to_analysis(row: AnalysisRecord) -> Analysis:
    usage = Usage(
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_usd=str(row.cost_usd),
    )
    return Analysis(
        id=row.id,
        project_id=row.project_id,
        kind="diff" if row.has_diff else "snapshot",
        snapshot_id=row.snapshot_id,
        status=row.status,
        progress=row.progress,
        stage=row.stage,
        summary=row.summary,
        usage=usage,
        coverage=row.coverage,
        error=row.error,
        config=row.config,
        config_version_id=row.config_version_id,
        ab_test_id=row.ab_test_id,
        variant=row.variant,
        requested_by=row.requested_by,
        attempt=row.attempt,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


@router.post(
    "/analyses",
    status=202,
    body=AnalysisCreate,
    response=Analysis,
    idempotent=True,
    max_body=_max_body,
)
async def create_analysis(request: Request, body: AnalysisCreate) -> Response:
    """Queue an analysis of a snapshot or a unified diff (202); the worker is sent an event."""
    who = principal(request)
    user_id = who.user()  # a service token must name the user it acts for (403)
    _check_diff(body.diff)
    await _readable(request, body.project_id)
    user_headers = clients.forwarded(request)
    if body.snapshot_id is not None:
        await remote.snapshot(body.project_id, body.snapshot_id, headers=user_headers)
    choice = await _version_choice(body, headers=user_headers, user_id=str(user_id))
    new = NewAnalysis(
        project_id=body.project_id,
        snapshot_id=body.snapshot_id,
        diff=body.diff,
        config=choice.config,
        config_version_id=choice.version.id,
        version_config=choice.version.config,
        requested_by=user_id,
        idempotency_key=request.headers.get("idempotency-key"),
        ab_test_id=choice.assigned.ab_test_id if choice.assigned else None,
        variant=choice.assigned.variant if choice.assigned else None,
    )
    async with database.transaction() as conn:
        if not who.is_privileged:
            await _room_for_one_more(conn, new.requested_by, new.idempotency_key)
        row, created = await repository.insert_analysis(conn, new)
    if row.status == "queued":
        await _announce(row.id, first=created)
    return render(to_analysis(row), status=202)


async def _as_platform(user_id: str) -> dict[str, str] | None:
    """The platform's own token acting for the caller: ab-tests lets only internal
    services choose the unit (the project) to assign, so an assignment is bound to an
    analysis of a project its caller may read, and a member cannot pick units. None (the
    analysis runs untested, logged) when the platform token is unavailable."""
    try:
        return await platform.headers(acting_for=user_id)
    except Unavailable as e:
        logger.warning("No platform token for the A/B assignment: %s", e.reason)
        return None


async def _room_for_one_more(conn: Any, user_id: uuid.UUID, key: str | None) -> None:
    """A member has at most ``MAX_ANALYSES_IN_FLIGHT_PER_USER`` queued or running: a burst
    cannot monopolise the workers (429 until one finishes)."""
    limit = settings().max_analyses_in_flight_per_user
    if await repository.in_flight(conn, user_id, idempotency_key=key) >= limit:
        raise RateLimited(
            f"You have {limit} analyses queued or running; wait for one to finish.",
            retry_after=5,
        )


def _check_diff(text: str | None) -> None:
    if text is None:
        return
    limit = settings().max_diff_bytes
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise PayloadTooLarge(f"The diff is {size} bytes; the limit is {limit}.")
    try:
        files = diff.parse_diff(text, max_files=settings().max_files)
    except diff.DiffError as e:
        raise ValidationFailed([{"loc": ["body", "diff"], "msg": str(e)}]) from None
    if not files:
        raise ValidationFailed([{"loc": ["body", "diff"], "msg": "changes no file"}])


@dataclass(frozen=True, slots=True)
class _VersionChoice:
    """The version an analysis runs: the request's ``config`` as given (JSON), the version
    it resolved to, and the A/B assignment when a test decided it."""

    config: dict[str, Any]
    version: remote.Version
    assigned: remote.Assignment | None


async def _version_choice(
    body: AnalysisCreate, *, headers: dict[str, str], user_id: str
) -> _VersionChoice:
    """The version to run, and the A/B test and variant when one decided it."""
    given = body.config.model_dump(mode="json", exclude_none=True) if body.config else {}
    resolved = await remote.resolve_version(
        alias=given.get("alias"),
        version_id=body.config.version_id if body.config else None,
        headers=headers,
    )
    platform_headers = None if given else await _as_platform(user_id)
    assigned = None
    if platform_headers is not None:
        assigned = await remote.assignment(
            resolved.experiment_id, body.project_id, headers=platform_headers
        )
        if assigned is not None:
            resolved = await remote.resolve_version(
                alias=None, version_id=assigned.version_id, headers=headers
            )
    return _VersionChoice(config=given, version=resolved.version, assigned=assigned)


async def _announce(analysis_id: uuid.UUID, *, first: bool) -> None:
    """Send the requested event; a repeat (same Idempotency-Key, still queued) re-sends it
    with a fresh id, which is harmless: the worker's claim is atomic."""
    suffix = "requested" if first else f"requested:{uuid.uuid4().hex[:8]}"
    await job_events.emit_requested(
        analysis_id, source="analyses", event_id=f"{analysis_id}:{suffix}"
    )


@router.get("/analyses")
async def list_analyses(request: Request) -> dict[str, Any]:
    """A project's analyses, newest first (``?project_id=`` required; members)."""
    project_id = query_uuid(request, "project_id", required=True)
    await _readable(request, project_id)
    limit, cursor = pagination.params(request)
    async with database.connection() as conn:
        rows = await repository.list_analyses(
            conn, project_id, limit=limit + 1, after=pagination.created_after(cursor)
        )
    items = [to_analysis(r) for r in rows]
    return pagination.page(items, limit=limit, key=pagination.created_key)


async def _analysis(request: Request) -> tuple[AnalysisRecord, str]:
    """The analysis of the path, if the caller may read its project; with the caller's role."""
    analysis_id = path_uuid(request)
    async with database.connection() as conn:
        row = await repository.analysis(conn, analysis_id)
    return row, await _readable(request, row.project_id)


@router.get("/analyses/{id}", response=Analysis)
async def read_analysis(request: Request) -> Analysis:
    """Status, progress, stage, summary, usage and coverage of one analysis."""
    row, _ = await _analysis(request)
    return to_analysis(row)


@router.get("/analyses/{id}/findings")
async def list_findings(request: Request) -> dict[str, Any]:
    """Findings in (path, line) order: ``?severity=high,critical``, ``?path=`` (prefix or
    glob), ``?include_suppressed=true``, ``?changed_only=true``; paginated."""
    user_id = principal(request).user_id
    row, _ = await _analysis(request)
    limit, cursor = pagination.params(request)
    position = _position(cursor) if cursor is not None else None
    kept: list[FindingRecord] = []
    # Keyset pages read from the cursor on, in batches until a page (plus one) passes the
    # filters: a page costs what it returns, not the whole analysis.
    batch = max(4 * (limit + 1), 200)
    async with database.connection() as conn:
        while len(kept) <= limit:
            rows = await repository.findings_of(
                conn, row.id, user_id=str(user_id) if user_id else None, after=position, limit=batch
            )
            try:
                # Off the event loop: a page's filtering is bounded, but not free.
                kept += await asyncio.to_thread(_filtered, rows, request)
            except merge.FilterError as e:
                raise ValidationFailed([{"loc": ["query", e.param], "msg": str(e)}]) from None
            if len(rows) < batch:
                break
            position = (rows[-1].path, rows[-1].line, rows[-1].id)
    items = [_finding_out(r) for r in kept[: limit + 1]]
    return pagination.page(
        items, limit=limit, key=lambda f: {"p": f["path"], "l": f["line"], "id": f["id"]}
    )


def _position(cursor: dict[str, Any]) -> tuple[str, int, uuid.UUID]:
    try:
        return str(cursor["p"]), int(cursor["l"]), uuid.UUID(str(cursor["id"]))
    except (KeyError, ValueError, TypeError, AttributeError):
        raise ValidationFailed([{"loc": ["query", "cursor"], "msg": "is invalid"}]) from None


def _filtered(rows: list[FindingRecord], request: Request) -> list[FindingRecord]:
    params = request.query_params
    wanted = merge.filter_findings(
        [r.to_finding() for r in rows],
        severity=params.get("severity"),
        path=params.get("path"),
        include_suppressed=params.get("include_suppressed", "").lower() in ("1", "true", "yes"),
        changed_only=params.get("changed_only", "").lower() in ("1", "true", "yes"),
    )
    ids = {f.id for f in wanted}
    return [r for r in rows if str(r.id) in ids]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _finding_out(row: FindingRecord) -> dict[str, Any]:
    """A finding as the listing answers it (JSON; keys in this order on the wire)."""
    return {
        "id": str(row.id),
        "path": row.path,
        "line": row.line,
        "end_line": row.end_line or row.line,  # one-line findings are stored as NULL
        "severity": row.severity,
        "category": row.category,
        "rule": row.rule,
        "message": row.message,
        "suggestion": row.suggestion,
        "source": row.source,
        "tool": row.tool,
        "fingerprint": row.fingerprint,
        "on_changed_line": row.on_changed_line,
        "repeated": row.repeated,
        "first_seen_analysis_id": _text(row.first_seen_analysis_id),
        "suppressed": row.suppressed,
        "suppression": row.suppression,
        "also_reported_by": list(row.also_reported_by or []),
        "config_version_id": _text(row.config_version_id),
        "created_at": row.created_at,
        "cwe": row.cwe,
        "owasp": row.owasp,
        "trace": row.trace,
        "feedback": row.feedback,
        "analysis_id": str(row.analysis_id),
        "new": not row.repeated,
    }


@router.get("/analyses/{id}/sarif")
async def export_sarif(request: Request) -> Response:
    """The analysis as a SARIF 2.1.0 log (suppressed findings included, marked)."""
    row, _ = await _analysis(request)
    async with database.connection() as conn:
        rows = await repository.findings_of(conn, row.id, user_id=None)
    findings = [r.to_finding() for r in rows]
    log = sarif.to_sarif(row.as_mapping(), findings, tool_version=__version__)
    return Response(json.dumps(log), media_type="application/sarif+json")


@router.post("/analyses/{id}/cancel", response=Analysis)
async def cancel_analysis(request: Request) -> Analysis:
    """Cancel a queued or running analysis (the requester, maintainers, owners); the worker
    stops before its next chunk. A finished one is a 409."""
    row, role = await _analysis(request)
    if role == "viewer" and row.requested_by != principal(request).user_id:
        raise Forbidden("Cancelling needs the requester, a maintainer or an owner.")
    async with database.connection() as conn:
        cancelled = await repository.cancel(conn, row.id)
    if cancelled is None:
        raise Conflict(f"Analysis '{row.id}' is already {row.status}.")
    return to_analysis(cancelled)


@router.post("/findings/{id}/feedback", body=FeedbackIn, response=FeedbackOut)
async def give_feedback(request: Request, body: FeedbackIn) -> FeedbackOut:
    """Record the caller's verdict; dismissed/false_positive suppresses the finding in the
    project's later analyses, accepted lifts that. Emits ``dev.acr.finding.feedback``."""
    user_id = principal(request).user()
    finding_id = path_uuid(request)
    async with database.connection() as conn:
        finding = await repository.finding(conn, finding_id)
    role = await access.project_role(request, finding.project_id, settings=settings(), fresh=True)
    # Anyone who can read gives their verdict (it counts in A/B tests); only maintainers,
    # owners and admins decide what the whole project stops seeing.
    suppresses = role in ("owner", "maintainer", "admin")
    async with database.transaction() as conn:
        previous, updated_at = await repository.give_feedback(
            conn,
            finding=finding,
            user_id=user_id,
            verdict=body.verdict,
            comment=body.comment,
            project_wide=suppresses,
        )
    await _emit_feedback(finding, verdict=body.verdict, previous=previous)
    return FeedbackOut(
        finding_id=finding_id,
        verdict=body.verdict,
        previous_verdict=previous,
        comment=body.comment,
        suppressed_in_later_analyses=suppresses and body.verdict != "accepted",
        updated_at=updated_at,
    )


async def _emit_feedback(finding: FindingRecord, *, verdict: str, previous: str | None) -> None:
    data = {
        "finding_id": str(finding.id),
        "analysis_id": str(finding.analysis_id),
        "project_id": str(finding.project_id),
        "verdict": verdict,
        "previous_verdict": previous,
        "ab_test_id": _text(finding.ab_test_id),
        "variant": finding.variant,
        "config_version_id": _text(finding.config_version_id),
    }
    try:
        await events.emit(
            FEEDBACK, data, settings=settings(), source="analyses", subject=str(finding.id)
        )
    except Unavailable:
        # The verdict is stored; only the A/B outcome is lost, which must not fail the user.
        logger.warning("Event %s for finding %s could not be sent", FEEDBACK, finding.id)
