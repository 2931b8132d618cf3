"""job_events sends the CloudEvents of an analysis' life: requested (the analyses handler
and the worker's re-queue) and finished (the worker, for failed analyses too).

A module of its own so that the HTTP handler and the worker share it without the handler
importing the worker's job runner.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from functions.analysis_service.repository import AnalysisRecord
from functions.analysis_service.settings import settings
from shared import events
from shared.errors import Unavailable

logger = logging.getLogger(__name__)
COMPLETED = "dev.acr.analysis.completed"
REQUESTED = "dev.acr.analysis.requested"


async def emit_finished(row: AnalysisRecord, *, findings: int) -> None:
    """``dev.acr.analysis.completed`` (for failed analyses too); a lost event is logged."""
    finished = row.finished_at or datetime.now(UTC)
    data = {
        "analysis_id": str(row.id),
        "project_id": str(row.project_id),
        "status": row.status,
        "ab_test_id": str(row.ab_test_id) if row.ab_test_id else None,
        "variant": row.variant,
        "config_version_id": str(row.config_version_id) if row.config_version_id else None,
        "cost_usd": str(row.cost_usd or "0"),
        "latency_ms": round((finished - row.created_at).total_seconds() * 1000, 1),
        "findings": findings,
        "error": row.error,
    }
    try:
        await events.emit(
            COMPLETED,
            data,
            settings=settings(),
            source="analysis-worker",
            subject=str(row.id),
            event_id=f"{row.id}:finished",
        )
    except Unavailable:
        logger.warning("Event %s for analysis %s could not be sent", COMPLETED, row.id)


async def emit_requested(analysis_id: uuid.UUID, *, source: str, event_id: str) -> None:
    """``dev.acr.analysis.requested`` ``{analysis_id}`` to ``K_SINK``.

    Raises:
        Unavailable: the sink refused or could not be reached.
    """
    await events.emit(
        REQUESTED,
        {"analysis_id": str(analysis_id)},
        settings=settings(),
        source=source,
        subject=str(analysis_id),
        event_id=event_id,
    )
