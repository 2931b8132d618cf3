"""jobs runs one claimed analysis: plan chunks, review them with bounded concurrency and a
checkpoint per chunk, then merge, fingerprint and store the findings.

A job stops between chunks when it was cancelled or taken over (its lease is gone), when
its deadline passed (failed, ``timeout``), when the orchestrator's quota refused it (failed,
the reason names the limit: a quota does not come back within a job's lifetime), and when
the function is draining or a dependency stays down: then the job is released to
``queued`` and the event is asked for again; every chunk already stored is skipped then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from functions.analysis_service import chunks, merge, remote, repository
from functions.analysis_service.context import database, platform
from functions.analysis_service.coverage import Coverage, Reason
from functions.analysis_service.job_events import emit_finished
from functions.analysis_service.repository import AnalysisRecord, ChunkRecord, ChunkUsage
from functions.analysis_service.settings import settings
from shared import lifecycle
from shared.errors import ProblemError, QuotaExceeded, Unavailable

logger = logging.getLogger(__name__)
_PARSE_WORDS = ("parse", "syntax", "tokeniz")


class Retry(Exception):
    """The job should run again later (draining, or a dependency stayed down)."""


@dataclass(slots=True)
class Job:
    row: AnalysisRecord
    worker: str
    headers: dict[str, str] = field(default_factory=dict)
    stop: str | None = None
    reason: str = ""

    @property
    def id(self) -> uuid.UUID:
        return self.row.id

    def halt(self, stop: str, reason: str = "") -> None:
        if self.stop is None:
            self.stop, self.reason = stop, reason


async def run(row: AnalysisRecord, *, worker: str) -> str:
    """Run a job this worker has claimed; returns its final status.

    Raises:
        Retry: the job was released and its event should be redelivered.
    """
    job = Job(row, worker, await platform.headers(acting_for=str(row.requested_by)))
    beat = asyncio.get_running_loop().create_task(_heartbeat(job))
    try:
        return await _run(job)
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


async def _run(job: Job) -> str:
    try:
        plan = await _plan(job)
    except ProblemError as e:
        return await _unplannable(job, e)
    await _stage(job, "reviewing")
    await _review_all(job, plan)
    if job.stop == "lost":
        return "lost"
    if job.stop in ("timeout", "quota"):
        return await _fail(job, job.reason)
    if job.stop in ("draining", "retry"):
        await _release(job)
        raise Retry(job.reason or job.stop)
    await _stage(job, "merging")
    return await _finish(job, plan)


async def _unplannable(job: Job, error: ProblemError) -> str:
    if isinstance(error, Unavailable):
        await _release(job)
        raise Retry(error.detail) from error
    return await _fail(job, f"The input could not be read: {error.detail}")


async def _plan(job: Job) -> chunks.Plan:
    config = settings()
    budget = int(job.row.version_config.get("token_budget") or 4000)
    if job.row.snapshot_id is not None:
        return await chunks.plan_snapshot(
            job.row.project_id,
            job.row.snapshot_id,
            headers=job.headers,
            budget=budget,
            file_max_bytes=config.file_max_bytes,
            max_files=config.max_files,
        )
    async with database.connection() as conn:
        text = await repository.diff_text(conn, job.id)
    return chunks.plan_diff(
        text or "", budget=budget, context=config.review_context_lines, max_files=config.max_files
    )


async def _review_all(job: Job, plan: chunks.Plan) -> None:
    specs = [(c.id, c.path, c.start_line, c.end_line) for c in plan.chunks]
    async with database.transaction() as conn:
        done = await repository.ensure_chunks(conn, job.id, specs)
    pending = [c for c in plan.chunks if done.get(c.id) == "pending"]
    gate = asyncio.Semaphore(settings().worker_concurrency)
    # chunks finished so far and planned: progress without recounting the table per chunk
    tally = [len(plan.chunks) - len(pending), max(len(plan.chunks), 1)]
    remaining = _deadline(job) - time.time()
    try:
        async with asyncio.timeout(max(0.0, remaining)):
            await asyncio.gather(*(_review_one(job, plan, chunk, gate, tally) for chunk in pending))
    except TimeoutError:
        job.halt("timeout", _timeout_reason())


def _deadline(job: Job) -> float:
    """The job's deadline (set by its claim, so always there for a running job)."""
    assert job.row.deadline_at is not None
    return job.row.deadline_at.timestamp()


def _timeout_reason() -> str:
    limit = settings().analysis_timeout_seconds
    return f"timeout: the analysis did not finish within {limit:g} seconds"


async def _review_one(
    job: Job,
    plan: chunks.Plan,
    chunk: chunks.ReviewChunk,
    gate: asyncio.Semaphore,
    tally: list[int],
) -> None:
    async with gate:
        if not await _may_continue(job):
            return
        try:
            result, usage = await _review(job, chunk, file_text=plan.file_text(chunk))
            status, error = "done", None
        except QuotaExceeded as e:
            job.halt("quota", f"quota exceeded: {e.detail}")
            return
        except remote.ReviewRefused as e:
            result, usage, status, error = {}, ChunkUsage(), "failed", e.detail
        except Unavailable as e:
            job.halt("retry", e.detail)
            return
        tally[0] += 1
        async with database.transaction() as conn:
            await repository.finish_chunk(
                conn,
                job.id,
                chunk.id,
                status=status,
                result=result,
                usage=usage,
                error=error,
                progress=tally[0] / tally[1],
            )


async def _may_continue(job: Job) -> bool:
    """Checked before every chunk: cancelled or taken over, deadline, draining."""
    if job.stop is not None:
        return False
    if lifecycle.state.draining:
        job.halt("draining", "The worker is shutting down.")
        return False
    if time.time() >= _deadline(job):
        job.halt("timeout", _timeout_reason())
        return False
    async with database.connection() as conn:
        if not await repository.heartbeat(conn, job.id, worker=job.worker):
            job.halt("lost")
            return False
    return True


def _passes(config: dict[str, Any]) -> list[str]:
    """``static`` when the config names analyzers, ``ai`` when its routing has a non-local
    candidate; a config with neither still gets the static pass (the local reviewer)."""
    candidates = config.get("routing", {}).get("candidates", [])
    passes = ["static"] if config.get("analyzers", ["static"]) else []
    if any(c.get("provider") != "local" for c in candidates):
        passes.append("ai")
    return passes or ["static"]


async def _review(
    job: Job, chunk: chunks.ReviewChunk, *, file_text: str | None = None
) -> tuple[dict[str, Any], ChunkUsage]:
    """The chunk's stored result (JSON: findings, analyzers run and skipped) and usage."""
    result: dict[str, Any] = {"findings": [], "analyzers": [], "skipped_analyzers": []}
    usage = ChunkUsage()
    for source in _passes(job.row.version_config):
        body = _body(job, chunk, source, file_text=file_text)
        answer = await remote.review(body, headers=job.headers)
        usage = _absorb(result, usage, answer, chunk=chunk, source=source)
    return result, usage


def _body(
    job: Job, chunk: chunks.ReviewChunk, source: str, *, file_text: str | None = None
) -> dict[str, Any]:
    """The /review request of one chunk; a static pass over part of a Python file sends the
    whole file too, as the taint engine follows data across the module's functions."""
    version_id = job.row.config_version_id
    sent: dict[str, Any] = {
        "id": chunk.id,
        "path": chunk.path,
        "language": chunk.language,
        "content": chunk.content,
        "start_line": chunk.start_line,
    }
    if file_text is not None and source == "static" and chunk.language == "python":
        sent["file_content"] = file_text
    return {
        "project_id": str(job.row.project_id),
        "chunks": [sent],
        "config": {"version_id": str(version_id)} if version_id else {},
        "source": source,
    }


def _absorb(
    result: dict[str, Any],
    usage: ChunkUsage,
    answer: remote.Review,
    *,
    chunk: chunks.ReviewChunk,
    source: str,
) -> ChunkUsage:
    """Add one pass' answer to the chunk's result (in place); answers the summed usage."""
    for finding in answer.findings:
        line = finding.get("line")
        # A model can vouch only for lines it was shown (diffs: the changed regions).
        if isinstance(line, int) and chunk.start_line <= line <= chunk.end_line:
            result["findings"].append({**finding, "path": chunk.path, "source": source})
    for part in answer.chunks or [answer.usage]:
        result["analyzers"] += [a for a in part.analyzers if a not in result["analyzers"]]
        result["skipped_analyzers"] += part.skipped_analyzers
        usage = replace(
            usage,
            input_tokens=usage.input_tokens + part.input_tokens,
            output_tokens=usage.output_tokens + part.output_tokens,
            cost_usd=usage.cost_usd + part.cost_usd,
            cached=usage.cached and part.cached,
            provider=part.provider or usage.provider,
            model=part.model or usage.model,
        )
    return usage


async def _finish(job: Job, plan: chunks.Plan) -> str:
    async with database.connection() as conn:
        rows = await repository.chunks(conn, job.id)
    coverage, found = _collect(rows, plan)
    threshold = job.row.version_config.get("severity_threshold", "info")
    merged = merge.merge_findings(
        found,
        line_text=plan.line_text,
        analysis_id=str(job.id),
        threshold=threshold,
        changed=plan.changed,
    )[: settings().max_findings]
    try:
        row = await _store(job, merged, coverage)
    except _Lost:
        return "lost"
    await emit_finished(row, findings=sum(not f.suppressed for f in merged))
    return "completed"


async def _store(job: Job, merged: list[merge.Finding], coverage: Coverage) -> AnalysisRecord:
    """Findings, history and the completed row in one transaction (all or nothing)."""
    async with database.transaction() as conn:
        first_seen, suppressed = await repository.history(
            conn, job.row.project_id, [f.fingerprint for f in merged]
        )
        merged[:] = merge.apply_history(
            merged, merge.History(first_seen, suppressed), analysis_id=str(job.id)
        )
        await repository.insert_findings(
            conn,
            analysis_id=job.id,
            project_id=job.row.project_id,
            config_version_id=job.row.config_version_id,
            findings=merged,
        )
        row = await repository.complete(
            conn,
            job.id,
            worker=job.worker,
            summary=merge.summarize(merged),
            coverage=coverage.to_dict(),
        )
        if row is None:
            raise _Lost()
    return row


class _Lost(Exception):
    """Cancelled or taken over while merging: the transaction rolls back."""


def _collect(rows: list[ChunkRecord], plan: chunks.Plan) -> tuple[Coverage, list[merge.Finding]]:
    coverage = Coverage()
    coverage.update(plan.coverage)
    found: list[merge.Finding] = []
    for row in rows:
        path, start, end = row.path, row.start_line, row.end_line
        if row.status != "done":
            reason = Reason("analyzer_failed", row.error or "The review failed.")
            coverage.hunk_skipped(path, start, end, reason)
            continue
        coverage.hunk_reviewed(path, start, end)
        result = row.result or {}
        for name in result.get("analyzers", []):
            coverage.analyzer_ran(name)
        for skip in result.get("skipped_analyzers", []):
            coverage.analyzer_skipped(skip["analyzer"], path, _skip_reason(skip))
        for report in result.get("findings", []):
            tool = report.get("tool") or report.get("analyzer")
            found.append(merge.finding_from_report(report, source=report["source"], tool=tool))
    return coverage, found


def _skip_reason(skip: dict[str, Any]) -> Reason:
    text = str(skip.get("reason", ""))[:500]
    if any(word in text.lower() for word in _PARSE_WORDS):
        return Reason.parse_error(str(skip["analyzer"]), text)
    return Reason("analyzer_failed", text)


async def _stage(job: Job, stage: str) -> None:
    async with database.connection() as conn:
        if not await repository.set_stage(conn, job.id, worker=job.worker, stage=stage):
            job.halt("lost")


async def _fail(job: Job, reason: str) -> str:
    async with database.connection() as conn:
        failed = await repository.fail(conn, job.id, reason=reason, worker=job.worker)
        row = await repository.analysis(conn, job.id)
    if failed:
        await emit_finished(row, findings=0)
    return row.status


async def _release(job: Job) -> None:
    async with database.connection() as conn:
        await repository.release(conn, job.id, worker=job.worker)


async def _heartbeat(job: Job) -> None:
    interval = max(0.2, min(10.0, settings().worker_lease_seconds / 3))
    while True:
        await asyncio.sleep(interval)
        try:
            async with database.connection() as conn:
                if not await repository.heartbeat(conn, job.id, worker=job.worker):
                    job.halt("lost")
                    return
        except Unavailable:
            logger.warning("Heartbeat of analysis %s failed; retrying", job.id)
