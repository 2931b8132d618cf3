"""repository holds every SQL statement of analysis-service.

Its functions answer typed records (frozen, slotted dataclasses built straight from the
row, JSONB columns decoded once), never ``asyncpg.Record`` or ``dict``; ``dict[str, Any]``
is left for what is JSON in the database (``config``, ``summary``, ``coverage``,
``result``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from functions.analysis_service.merge import Finding, Severity, Source
from shared.errors import NotFound

TERMINAL = ("completed", "failed", "cancelled")
_ANALYSIS = (
    "id, project_id, snapshot_id, diff is not null as has_diff, config, config_version_id,"
    " version_config, status, progress, stage, summary, input_tokens, output_tokens, cost_usd,"
    " coverage, error, requested_by, ab_test_id, variant, attempt, claimed_by, heartbeat_at,"
    " deadline_at, created_at, started_at, finished_at"
)


def _json(value: object) -> Any:
    """A JSONB column as asyncpg hands it over (text) decoded; None stays None."""
    return json.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True, slots=True)
class AnalysisRecord:
    """One row of ``analyses`` (``has_diff`` instead of the diff text itself)."""

    id: uuid.UUID
    project_id: uuid.UUID
    snapshot_id: uuid.UUID | None
    has_diff: bool
    config: dict[str, Any]
    config_version_id: uuid.UUID | None
    version_config: dict[str, Any]
    status: str
    progress: float
    stage: str
    summary: dict[str, Any]
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    coverage: dict[str, Any] | None
    error: str | None
    requested_by: uuid.UUID
    ab_test_id: uuid.UUID | None
    variant: str | None
    attempt: int
    claimed_by: str | None
    heartbeat_at: datetime | None
    deadline_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> AnalysisRecord:
        return cls(
            **{
                **row,
                "config": _json(row["config"]),
                "version_config": _json(row["version_config"]),
                "summary": _json(row["summary"]),
                "coverage": _json(row["coverage"]),
            }
        )

    def as_mapping(self) -> Mapping[str, Any]:
        """The row as the SARIF exporter reads it (``sarif.to_sarif`` takes any mapping)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class NewAnalysis:
    """What ``insert_analysis`` stores: the request, the resolved version, the A/B tag."""

    project_id: uuid.UUID
    snapshot_id: uuid.UUID | None
    diff: str | None
    config: dict[str, Any]
    config_version_id: uuid.UUID
    version_config: dict[str, Any]
    requested_by: uuid.UUID
    idempotency_key: str | None
    ab_test_id: uuid.UUID | None
    variant: str | None


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """One row of ``analysis_chunks``; ``result`` is the stored /review answer (JSON)."""

    chunk_id: str
    path: str
    start_line: int
    end_line: int
    status: str
    result: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True, slots=True)
class ChunkUsage:
    """What reviewing one chunk cost, summed over its passes."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    cached: bool = True
    provider: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """One row of ``findings``; ``feedback`` is the reading user's verdict (listings only),
    ``ab_test_id``/``variant`` its analysis' A/B tag (``finding`` only)."""

    id: uuid.UUID
    analysis_id: uuid.UUID
    project_id: uuid.UUID
    path: str
    line: int
    end_line: int | None
    severity: Severity
    category: str
    rule: str | None
    message: str
    suggestion: str | None
    source: Source
    tool: str | None
    fingerprint: str
    on_changed_line: bool | None
    repeated: bool
    first_seen_analysis_id: uuid.UUID | None
    suppressed: bool
    suppression: str | None
    also_reported_by: list[str]
    config_version_id: uuid.UUID | None
    created_at: datetime
    cwe: str | None
    owasp: str | None
    trace: list[dict[str, Any]] | None
    feedback: str | None = None
    ab_test_id: uuid.UUID | None = None
    variant: str | None = None

    @classmethod
    def of(cls, row: asyncpg.Record) -> FindingRecord:
        return cls(**{**row, "trace": _json(row["trace"])})

    def to_finding(self) -> Finding:
        """The finding as the merge and SARIF code handle it."""
        return Finding(
            path=self.path,
            line=self.line,
            severity=self.severity,
            category=self.category,
            message=self.message,
            source=self.source,
            end_line=self.end_line,
            rule=self.rule,
            suggestion=self.suggestion,
            tool=self.tool,
            fingerprint=self.fingerprint,
            on_changed_line=self.on_changed_line,
            repeated=self.repeated,
            first_seen_analysis_id=_text(self.first_seen_analysis_id),
            suppressed=self.suppressed,
            suppression=self.suppression,
            also_reported_by=tuple(self.also_reported_by or ()),
            id=str(self.id),
            cwe=self.cwe,
            owasp=self.owasp,
            trace=tuple(self.trace or ()),
        )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------- analyses


async def in_flight(
    conn: asyncpg.Connection, user_id: uuid.UUID, *, idempotency_key: str | None
) -> int:
    """The user's queued and running analyses, under a per-user transaction lock (so a
    burst cannot all count the same number); 0 for a repeat of a known Idempotency-Key."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 7))", str(user_id))
    if idempotency_key is not None and await conn.fetchval(
        "select 1 from analyses where requested_by = $1 and idempotency_key = $2",
        user_id,
        idempotency_key,
    ):
        return 0
    return int(
        await conn.fetchval(
            "select count(*) from analyses where requested_by = $1"
            " and status in ('queued', 'running')",
            user_id,
        )
    )


async def insert_analysis(
    conn: asyncpg.Connection, new: NewAnalysis
) -> tuple[AnalysisRecord, bool]:
    """Insert a queued analysis; an (requester, Idempotency-Key) seen before answers that
    analysis instead (the database-level guard behind the Redis one). True when created."""
    row = await conn.fetchrow(
        "insert into analyses (id, project_id, snapshot_id, diff, config, config_version_id,"
        " version_config, requested_by, idempotency_key, ab_test_id, variant)"
        " values ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9, $10, $11)"
        " on conflict (requested_by, idempotency_key) where idempotency_key is not null"
        f" do nothing returning {_ANALYSIS}",
        uuid.uuid4(),
        new.project_id,
        new.snapshot_id,
        new.diff,
        json.dumps(new.config),
        new.config_version_id,
        json.dumps(new.version_config),
        new.requested_by,
        new.idempotency_key,
        new.ab_test_id,
        new.variant,
    )
    if row is not None:
        return AnalysisRecord.of(row), True
    existing = await conn.fetchrow(
        f"select {_ANALYSIS} from analyses where requested_by = $1 and idempotency_key = $2",
        new.requested_by,
        new.idempotency_key,
    )
    assert existing is not None  # the conflict was on this very row
    return AnalysisRecord.of(existing), False


def _analysis_or_none(row: asyncpg.Record | None) -> AnalysisRecord | None:
    return None if row is None else AnalysisRecord.of(row)


async def analysis(conn: asyncpg.Connection, analysis_id: uuid.UUID) -> AnalysisRecord:
    found = await conn.fetchrow(f"select {_ANALYSIS} from analyses where id = $1", analysis_id)
    if found is None:
        raise NotFound(f"Analysis '{analysis_id}' does not exist.")
    return AnalysisRecord.of(found)


async def diff_text(conn: asyncpg.Connection, analysis_id: uuid.UUID) -> str | None:
    value = await conn.fetchval("select diff from analyses where id = $1", analysis_id)
    return None if value is None else str(value)


async def list_analyses(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[AnalysisRecord]:
    if after is None:
        rows = await conn.fetch(
            f"select {_ANALYSIS} from analyses where project_id = $1"
            " order by created_at desc, id desc limit $2",
            project_id,
            limit,
        )
    else:
        rows = await conn.fetch(
            f"select {_ANALYSIS} from analyses where project_id = $1"
            " and (created_at, id) < ($2, $3) order by created_at desc, id desc limit $4",
            project_id,
            after[0],
            after[1],
            limit,
        )
    return [AnalysisRecord.of(r) for r in rows]


async def cancel(conn: asyncpg.Connection, analysis_id: uuid.UUID) -> AnalysisRecord | None:
    """Cancel a queued or running analysis; None when it had already finished."""
    return _analysis_or_none(
        await conn.fetchrow(
            "update analyses set status = 'cancelled', stage = 'cancelled', finished_at = now(),"
            " error = 'cancelled by a user', claimed_by = null"
            f" where id = $1 and status in ('queued', 'running') returning {_ANALYSIS}",
            analysis_id,
        )
    )


# ---------------------------------------------------------------- worker lease


async def claim(
    conn: asyncpg.Connection,
    analysis_id: uuid.UUID,
    *,
    worker: str,
    lease_seconds: float,
    timeout_seconds: float,
) -> AnalysisRecord | None:
    """Take the job atomically: queued, or running with a heartbeat older than the lease.

    Returns None when someone else holds it or it is finished (or missing).
    """
    return _analysis_or_none(
        await conn.fetchrow(
            "update analyses set status = 'running', attempt = attempt + 1, claimed_by = $2,"
            " claimed_at = now(), heartbeat_at = now(), started_at = coalesce(started_at, now()),"
            " deadline_at = coalesce(deadline_at, now() + make_interval(secs => $4)),"
            " stage = case when stage = 'queued' then 'fetching' else stage end"
            " where id = $1 and (status = 'queued' or (status = 'running'"
            " and heartbeat_at < now() - make_interval(secs => $3)))"
            f" returning {_ANALYSIS}",
            analysis_id,
            worker,
            lease_seconds,
            timeout_seconds,
        )
    )


async def heartbeat(conn: asyncpg.Connection, analysis_id: uuid.UUID, *, worker: str) -> bool:
    """Renew the lease; False when the job was cancelled or taken over (stop working)."""
    held = await conn.fetchval(
        "update analyses set heartbeat_at = now() where id = $1 and claimed_by = $2"
        " and status = 'running' returning true",
        analysis_id,
        worker,
    )
    return bool(held)


async def set_stage(
    conn: asyncpg.Connection, analysis_id: uuid.UUID, *, worker: str, stage: str
) -> bool:
    held = await conn.fetchval(
        "update analyses set stage = $3, heartbeat_at = now() where id = $1 and claimed_by = $2"
        " and status = 'running' returning true",
        analysis_id,
        worker,
        stage,
    )
    return bool(held)


async def release(conn: asyncpg.Connection, analysis_id: uuid.UUID, *, worker: str) -> bool:
    """Give the job back (queued) so a redelivered event resumes it at once."""
    released = await conn.fetchval(
        "update analyses set status = 'queued', claimed_by = null, heartbeat_at = null"
        " where id = $1 and claimed_by = $2 and status = 'running' returning true",
        analysis_id,
        worker,
    )
    return bool(released)


async def fail(
    conn: asyncpg.Connection, analysis_id: uuid.UUID, *, reason: str, worker: str | None = None
) -> bool:
    """Fail an unfinished job with ``reason``; with ``worker``, only while that worker holds it."""
    failed = await conn.fetchval(
        "update analyses set status = 'failed', stage = 'failed', error = $2,"
        " finished_at = now(), claimed_by = null where id = $1 and status in ('queued', 'running')"
        " and ($3::text is null or claimed_by = $3) returning true",
        analysis_id,
        reason[:2000],
        worker,
    )
    return bool(failed)


async def complete(
    conn: asyncpg.Connection,
    analysis_id: uuid.UUID,
    *,
    worker: str,
    summary: dict[str, Any],
    coverage: dict[str, Any],
) -> AnalysisRecord | None:
    """Finish the job; usage totals are summed from its chunks (exact decimals)."""
    return _analysis_or_none(
        await conn.fetchrow(
            "update analyses a set status = 'completed', stage = 'completed', progress = 1,"
            " summary = $3::jsonb, coverage = $4::jsonb, finished_at = now(), claimed_by = null,"
            " input_tokens = t.input_tokens, output_tokens = t.output_tokens, cost_usd = t.cost"
            " from (select coalesce(sum(input_tokens), 0) as input_tokens,"
            " coalesce(sum(output_tokens), 0) as output_tokens, coalesce(sum(cost_usd), 0) as cost"
            " from analysis_chunks where analysis_id = $1) t"
            " where a.id = $1 and a.claimed_by = $2 and a.status = 'running'"
            f" returning {', '.join('a.' + c.strip() for c in _ANALYSIS.split(','))}",
            analysis_id,
            worker,
            json.dumps(summary),
            json.dumps(coverage),
        )
    )


async def expired(conn: asyncpg.Connection, *, limit: int) -> list[uuid.UUID]:
    """Unfinished jobs past their deadline, failed with reason ``timeout``."""
    rows = await conn.fetch(
        "update analyses set status = 'failed', stage = 'failed', finished_at = now(),"
        " claimed_by = null, error = 'timeout: the analysis did not finish within its time limit'"
        " where id in (select id from analyses where status in ('queued', 'running')"
        " and deadline_at < now() order by deadline_at limit $1 for update skip locked)"
        " returning id",
        limit,
    )
    return [r["id"] for r in rows]


async def requeue_stale(
    conn: asyncpg.Connection, *, lease_seconds: float, limit: int
) -> list[tuple[uuid.UUID, int]]:
    """Running jobs whose worker died (no heartbeat within the lease) go back to queued;
    queued ones waiting longer than the lease (a lost event) are listed too."""
    rows = await conn.fetch(
        "update analyses set status = 'queued', claimed_by = null, heartbeat_at = null,"
        " claimed_at = now() where id in (select id from analyses where (status = 'running'"
        " and heartbeat_at < now() - make_interval(secs => $1)) or (status = 'queued'"
        " and coalesce(claimed_at, created_at) < now() - make_interval(secs => $1))"
        " order by created_at limit $2 for update skip locked)"
        " returning id, attempt",
        lease_seconds,
        limit,
    )
    return [(r["id"], r["attempt"]) for r in rows]


# ---------------------------------------------------------------- chunks


async def ensure_chunks(
    conn: asyncpg.Connection,
    analysis_id: uuid.UUID,
    chunks: Sequence[tuple[str, str, int, int]],
) -> dict[str, str]:
    """Record the job's chunks ``(id, path, start, end)`` once; answers each one's status."""
    await conn.executemany(
        "insert into analysis_chunks (analysis_id, chunk_id, path, start_line, end_line)"
        " values ($1, $2, $3, $4, $5) on conflict do nothing",
        [(analysis_id, c[0], c[1], c[2], c[3]) for c in chunks],
    )
    rows = await conn.fetch(
        "select chunk_id, status from analysis_chunks where analysis_id = $1", analysis_id
    )
    return {r["chunk_id"]: r["status"] for r in rows}


async def finish_chunk(
    conn: asyncpg.Connection,
    analysis_id: uuid.UUID,
    chunk_id: str,
    *,
    status: str,
    result: dict[str, Any],
    usage: ChunkUsage,
    error: str | None = None,
    progress: float,
) -> None:
    """Store one chunk's result and set the job's progress (chunks finished / planned; the
    worker counts them), in the caller's transaction."""
    await conn.execute(
        "update analysis_chunks set status = $3, result = $4::jsonb, input_tokens = $5,"
        " output_tokens = $6, cost_usd = $7, cached = $8, provider = $9, model = $10,"
        " error = $11, attempt = attempt + 1, finished_at = now()"
        " where analysis_id = $1 and chunk_id = $2",
        analysis_id,
        chunk_id,
        status,
        json.dumps(result),
        usage.input_tokens,
        usage.output_tokens,
        usage.cost_usd,
        usage.cached,
        usage.provider,
        usage.model,
        error,
    )
    await conn.execute(
        "update analyses set heartbeat_at = now(), progress = $2 where id = $1",
        analysis_id,
        min(max(progress, 0.0), 1.0),
    )


async def chunks(conn: asyncpg.Connection, analysis_id: uuid.UUID) -> list[ChunkRecord]:
    rows = await conn.fetch(
        "select chunk_id, path, start_line, end_line, status, result, error"
        " from analysis_chunks where analysis_id = $1 order by path, start_line",
        analysis_id,
    )
    return [ChunkRecord(**{**r, "result": _json(r["result"])}) for r in rows]


# ---------------------------------------------------------------- findings


async def history(
    conn: asyncpg.Connection, project_id: uuid.UUID, fingerprints: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """``(first_seen, suppressed)`` of these fingerprints in the project's earlier analyses."""
    seen = await conn.fetch(
        "select fingerprint, first_analysis_id from fingerprint_history"
        " where project_id = $1 and fingerprint = any($2::text[])",
        project_id,
        fingerprints,
    )
    suppressed = await conn.fetch(
        "select fingerprint, verdict from suppressions"
        " where project_id = $1 and fingerprint = any($2::text[])",
        project_id,
        fingerprints,
    )
    return (
        {r["fingerprint"]: str(r["first_analysis_id"]) for r in seen},
        {r["fingerprint"]: r["verdict"] for r in suppressed},
    )


async def insert_findings(
    conn: asyncpg.Connection,
    *,
    analysis_id: uuid.UUID,
    project_id: uuid.UUID,
    config_version_id: uuid.UUID | None,
    findings: Iterable[Finding],
) -> None:
    """Insert findings; a fingerprint the analysis already holds is left as it is."""
    await conn.executemany(
        "insert into findings (id, analysis_id, project_id, path, line, end_line, severity,"
        " category, rule, message, suggestion, source, tool, fingerprint, on_changed_line,"
        " repeated, first_seen_analysis_id, suppressed, suppression, also_reported_by,"
        " config_version_id, cwe, owasp, trace) values ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24::jsonb)"
        " on conflict (analysis_id, fingerprint) do nothing",
        [
            (
                uuid.uuid4(),
                analysis_id,
                project_id,
                f.path,
                f.line,
                f.end_line,
                f.severity,
                f.category,
                f.rule,
                f.message,
                f.suggestion,
                f.source,
                f.tool,
                f.fingerprint,
                f.on_changed_line,
                f.repeated,
                uuid.UUID(f.first_seen_analysis_id) if f.first_seen_analysis_id else None,
                f.suppressed,
                f.suppression,
                list(f.also_reported_by),
                config_version_id,
                f.cwe,
                f.owasp,
                json.dumps([dict(step) for step in f.trace]) if f.trace else None,
            )
            for f in findings
        ],
    )
    await conn.execute(
        "insert into fingerprint_history (project_id, fingerprint, first_analysis_id,"
        " last_analysis_id) select $1, fingerprint, $2, $2 from findings where analysis_id = $2"
        " on conflict (project_id, fingerprint) do update set last_analysis_id = excluded"
        ".last_analysis_id, last_seen_at = now()",
        project_id,
        analysis_id,
    )


_FINDING = (
    "f.id, f.analysis_id, f.project_id, f.path, f.line, f.end_line, f.severity, f.category,"
    " f.rule, f.message, f.suggestion, f.source, f.tool, f.fingerprint, f.on_changed_line,"
    " f.repeated, f.first_seen_analysis_id, f.suppressed, f.suppression, f.also_reported_by,"
    " f.config_version_id, f.created_at, f.cwe, f.owasp, f.trace"
)


async def findings_of(
    conn: asyncpg.Connection,
    analysis_id: uuid.UUID,
    *,
    user_id: str | None,
    after: tuple[str, int, uuid.UUID] | None = None,
    limit: int | None = None,
) -> list[FindingRecord]:
    """The analysis' findings in (path, line, id) order, with the caller's verdict: all of
    them, or up to ``limit`` after the keyset position ``after`` (index findings_listing)."""
    rows = await conn.fetch(
        f"select {_FINDING}, fb.verdict as feedback from findings f left join feedback fb"
        " on fb.finding_id = f.id and fb.user_id::text = $2"
        " where f.analysis_id = $1"
        " and ($3::text is null or (f.path, f.line, f.id) > ($3, $4::int, $5::uuid))"
        " order by f.path, f.line, f.id limit $6",
        analysis_id,
        user_id or "",
        *(after or (None, None, None)),
        limit,
    )
    return [FindingRecord.of(r) for r in rows]


async def finding(conn: asyncpg.Connection, finding_id: uuid.UUID) -> FindingRecord:
    row = await conn.fetchrow(
        f"select {_FINDING}, a.ab_test_id, a.variant from findings f"
        " join analyses a on a.id = f.analysis_id where f.id = $1",
        finding_id,
    )
    if row is None:
        raise NotFound(f"Finding '{finding_id}' does not exist.")
    return FindingRecord.of(row)


async def give_feedback(
    conn: asyncpg.Connection,
    *,
    finding: FindingRecord,
    user_id: uuid.UUID,
    verdict: str,
    comment: str | None,
    project_wide: bool = True,
) -> tuple[str | None, datetime]:
    """Store the user's verdict; when ``project_wide`` (a maintainer's), a dismissal
    suppresses the fingerprint in the project's later analyses and an acceptance lifts
    that. Returns the previous verdict and the time."""
    previous = await conn.fetchval(
        "select verdict from feedback where finding_id = $1 and user_id = $2 for update",
        finding.id,
        user_id,
    )
    updated_at = await conn.fetchval(
        "insert into feedback (finding_id, user_id, verdict, comment) values ($1, $2, $3, $4)"
        " on conflict (finding_id, user_id) do update set verdict = excluded.verdict,"
        " comment = excluded.comment, updated_at = now() returning updated_at",
        finding.id,
        user_id,
        verdict,
        comment,
    )
    if project_wide and verdict in ("dismissed", "false_positive"):
        await conn.execute(
            "insert into suppressions (project_id, fingerprint, verdict, finding_id, created_by)"
            " values ($1, $2, $3, $4, $5) on conflict (project_id, fingerprint) do update"
            " set verdict = excluded.verdict, finding_id = excluded.finding_id,"
            " created_by = excluded.created_by, created_at = now()",
            finding.project_id,
            finding.fingerprint,
            verdict,
            finding.id,
            user_id,
        )
    elif project_wide:
        await conn.execute(
            "delete from suppressions where project_id = $1 and fingerprint = $2",
            finding.project_id,
            finding.fingerprint,
        )
    return (None if previous is None else str(previous)), updated_at


# ---------------------------------------------------------------- events


async def event_seen(conn: asyncpg.Connection, *, source: str, event_id: str) -> bool:
    found = await conn.fetchval(
        "select true from processed_events where source = $1 and event_id = $2", source, event_id
    )
    return bool(found)


async def record_event(
    conn: asyncpg.Connection, *, source: str, event_id: str, event_type: str
) -> None:
    await conn.execute(
        "insert into processed_events (source, event_id, type) values ($1, $2, $3)"
        " on conflict do nothing",
        source,
        event_id,
        event_type,
    )


async def fail_queued(conn: asyncpg.Connection, analysis_id: uuid.UUID, *, reason: str) -> bool:
    """Fail a job nobody is working on (a dead-lettered event)."""
    failed = await conn.fetchval(
        "update analyses set status = 'failed', stage = 'failed', error = $2, finished_at = now()"
        " where id = $1 and status = 'queued' returning true",
        analysis_id,
        reason,
    )
    return bool(failed)
