"""outcomes applies outcome events and posted outcomes to the per-variant aggregates.

CloudEvents (binary or structured mode) are at-least-once: the event ``id`` is recorded
in the same transaction as its effect, so a redelivery changes nothing. A finding's
current verdict is stored, so a changed verdict moves one count from the old verdict to
the new one; a completed analysis counts once per analysis id.

An event counts only for a test that was running when the event was produced (its signed
``time`` lies between the test's start and stop): a draft test has no outcomes, and
feedback given after a stop does not move a decision already taken.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from functions.comparison_service import repository
from shared.errors import NotFound, ValidationFailed
from shared.function import unstorable_text, validate

logger = logging.getLogger(__name__)
FEEDBACK = "dev.acr.finding.feedback"
COMPLETED = "dev.acr.analysis.completed"
Verdict = Literal["accepted", "dismissed", "false_positive"]


class FeedbackData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    finding_id: str = Field(min_length=1, max_length=200)
    analysis_id: str | None = Field(None, max_length=200)
    project_id: str | None = Field(None, max_length=200)
    verdict: Verdict
    previous_verdict: Verdict | None = None
    ab_test_id: uuid.UUID
    variant: str = Field(min_length=1, max_length=63)
    config_version_id: str | None = Field(None, max_length=200)


class CompletedData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    analysis_id: str = Field(min_length=1, max_length=200)
    project_id: str | None = Field(None, max_length=200)
    status: str = Field(min_length=1, max_length=50)
    ab_test_id: uuid.UUID
    variant: str = Field(min_length=1, max_length=63)
    config_version_id: str | None = Field(None, max_length=200)
    cost_usd: Decimal | None = Field(None, ge=0, le=1_000_000, allow_inf_nan=False)
    latency_ms: float | None = Field(None, ge=0, le=1e10, allow_inf_nan=False)
    findings: int | None = Field(None, ge=0, le=1_000_000_000)


async def apply_event(
    conn: asyncpg.Connection,
    *,
    event_id: str,
    event_type: str,
    data: Any,
    produced_at: datetime,
) -> dict[str, str]:
    """Apply one event inside the caller's transaction; answers what happened and why."""
    if event_type not in (FEEDBACK, COMPLETED):
        return {"status": "ignored", "reason": f"Event type '{event_type}' is not an outcome."}
    if not isinstance(data, dict) or data.get("ab_test_id") in (None, ""):
        return {"status": "ignored", "reason": "The event belongs to no A/B test."}
    model = FeedbackData if event_type == FEEDBACK else CompletedData
    bad = unstorable_text(data, ["data"])
    if bad is not None:  # NUL or a lone surrogate would fail in PostgreSQL, as a 500
        raise ValidationFailed([{"loc": bad, "msg": "must not contain NUL or lone surrogates"}])
    parsed = validate(data, model, location="data")
    try:
        test = await repository.test(conn, parsed.ab_test_id)
    except NotFound:
        logger.warning("Event %s names unknown A/B test %s", event_id, parsed.ab_test_id)
        return {"status": "ignored", "reason": f"A/B test '{parsed.ab_test_id}' does not exist."}
    if parsed.variant not in {v.name for v in test.variants}:
        return {"status": "ignored", "reason": f"The test has no variant '{parsed.variant}'."}
    if not _running_at(test, produced_at):
        return {"status": "ignored", "reason": "The test was not running when this happened."}
    if not await repository.claim_event(conn, event_id, event_type):
        return {"status": "duplicate", "reason": f"Event '{event_id}' was already applied."}
    if isinstance(parsed, FeedbackData):
        applied = await _feedback(conn, parsed)
    else:
        applied = await _completed(conn, parsed)
    if applied:
        await repository.append_outcome(
            conn,
            test_id=parsed.ab_test_id,
            variant=parsed.variant,
            unit=parsed.project_id,
            source=event_type,
            event_id=event_id,
            data=parsed.model_dump(mode="json"),
        )
        return {"status": "applied", "reason": ""}
    return {"status": "unchanged", "reason": "The outcome was already counted."}


def _running_at(test: repository.TestRecord, moment: datetime) -> bool:
    started, stopped = test.started_at, test.stopped_at
    return started is not None and started <= moment and (stopped is None or moment <= stopped)


async def _feedback(conn: asyncpg.Connection, data: FeedbackData) -> bool:
    change = await repository.set_verdict(
        conn,
        test_id=data.ab_test_id,
        finding_id=data.finding_id,
        variant=data.variant,
        verdict=data.verdict,
    )
    if change is None:
        return False
    old, counted_for = change
    counts: dict[str, int] = {data.verdict: 1}
    if old is not None:
        counts[old] = -1
    await repository.bump(conn, test_id=data.ab_test_id, variant=counted_for, counts=counts)
    return True


async def _completed(conn: asyncpg.Connection, data: CompletedData) -> bool:
    if not await repository.claim_analysis(conn, data.ab_test_id, data.analysis_id):
        return False
    if data.status != "completed":
        await repository.bump(
            conn, test_id=data.ab_test_id, variant=data.variant, counts={"failed": 1}
        )
        return True
    await repository.bump(
        conn,
        test_id=data.ab_test_id,
        variant=data.variant,
        counts={"analyses": 1},
        cost=float(data.cost_usd) if data.cost_usd is not None else None,
        latency=data.latency_ms,
    )
    return True
