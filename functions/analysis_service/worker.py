"""worker implements analysis-worker: it receives CloudEvents and runs analysis jobs.

Why an HTTP target and not ``@functions_framework.aio.cloud_event``: functions-framework's
ASGI CloudEvent app routes only ``POST``, so the ``GET`` probes could never reach
``/health``, and it has one path where the Broker needs three. The target is therefore
``@functions_framework.aio.http`` and decodes CloudEvents itself with ``shared.events.read``
(the cloudevents SDK, binary and structured mode). In behaviour it is a CloudEvent
function: a 2xx acknowledges an event, a 5xx asks the Broker to deliver it again.

* ``POST /`` — ``dev.acr.analysis.requested`` ``{analysis_id}``: claim the job atomically
  (queued, or running with a heartbeat older than the lease), run it inside the request,
  ack. A job finished, running elsewhere or unknown is acked without work, and an event
  whose ``(source, id)`` was already handled to the end is acked at once, so redelivery
  never duplicates findings. A job released by draining answers 503 (redeliver).
* ``POST /requeue`` — the PingSource's tick (a timer under ``make run``): fails jobs past
  their deadline (``timeout``), re-queues jobs whose worker died and re-sends their event.
* ``POST /dead-letter`` — events the Broker gave up on: a job still queued fails, naming why.

``/`` and ``/dead-letter`` accept only events signed by a platform producer, within the
age window, once per event id (``shared.events.delivery``): a pod that can reach the
worker still cannot start, fail or replay a job. ``/requeue`` is the exception, because a
PingSource's events cannot carry our signature: it accepts only the PingSource's event
type, ignores its data, and its only effect is the idempotent sweep the PingSource runs
every minute anyway (time out jobs past their deadline, re-queue jobs whose heartbeat is
older than the lease), so a forged tick can do nothing a real one would not. All three are
also ``internal`` routes, answering only at the cluster-local address the Broker and the
PingSource deliver to, and the Knative Service is itself ``cluster-local``.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any

from starlette.requests import Request

from functions.analysis_service import job_events, jobs, repository
from functions.analysis_service.context import database, redis
from functions.analysis_service.settings import settings
from shared import events
from shared.errors import BadRequest, NotFound, Unavailable
from shared.function import Router

logger = logging.getLogger(__name__)
router = Router()
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
SWEEP_BATCH = 100
PING = "dev.knative.sources.ping"


@router.post("/", public=True, optional_auth=True, internal=True)
async def receive(request: Request) -> dict[str, Any]:
    """A ``dev.acr.analysis.requested`` event: run the job it names (see the module docstring)."""
    async with events.delivery(
        request, consumer="analysis-worker", settings=settings(), redis=redis
    ) as event:
        if event is None:
            return {"status": "duplicate"}
        return await _receive(event)


async def _receive(event: Any) -> dict[str, Any]:
    source, event_id, event_type = str(event["source"]), str(event["id"]), str(event["type"])
    if event_type != job_events.REQUESTED:
        return {"status": "ignored", "reason": f"Event type '{event_type}' is not handled here."}
    analysis_id = _analysis_id(event.get_data())
    if analysis_id is None:
        return {"status": "ignored", "reason": "The event data has no valid analysis_id."}
    async with database.connection() as conn:
        if await repository.event_seen(conn, source=source, event_id=event_id):
            return {"status": "duplicate", "analysis_id": str(analysis_id)}
    status = await _work(analysis_id)
    if status in repository.TERMINAL:
        async with database.connection() as conn:
            await repository.record_event(
                conn, source=source, event_id=event_id, event_type=event_type
            )
    return {"status": status, "analysis_id": str(analysis_id)}


def _analysis_id(data: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(data["analysis_id"])) if isinstance(data, dict) else None
    except (KeyError, ValueError):
        return None


async def _work(analysis_id: uuid.UUID) -> str:
    config = settings()
    async with database.connection() as conn:
        row = await repository.claim(
            conn,
            analysis_id,
            worker=WORKER_ID,
            lease_seconds=config.worker_lease_seconds,
            timeout_seconds=config.analysis_timeout_seconds,
        )
        if row is None:
            return await _unclaimed(conn, analysis_id)
    try:
        return await jobs.run(row, worker=WORKER_ID)
    except jobs.Retry as e:
        raise Unavailable(
            "analysis-worker", retry_after=1, detail=f"Analysis {analysis_id} released: {e}"
        ) from None


async def _unclaimed(conn: Any, analysis_id: uuid.UUID) -> str:
    try:
        row = await repository.analysis(conn, analysis_id)
    except NotFound:
        logger.warning("Event names unknown analysis %s; acknowledged", analysis_id)
        return "unknown"
    return "running-elsewhere" if row.status == "running" else row.status


@router.post("/requeue", public=True, optional_auth=True, internal=True)
async def requeue(request: Request) -> dict[str, Any]:
    """The PingSource's tick: time out overdue jobs, re-queue abandoned ones."""
    event = await events.read(request)
    if str(event["type"]) != PING:
        raise BadRequest(f"/requeue takes only the PingSource's '{PING}' events.")
    config = settings()
    async with database.transaction() as conn:
        timed_out = await repository.expired(conn, limit=SWEEP_BATCH)
        stale = await repository.requeue_stale(
            conn, lease_seconds=config.worker_lease_seconds, limit=SWEEP_BATCH
        )
    for analysis_id in timed_out:
        async with database.connection() as conn:
            await job_events.emit_finished(await repository.analysis(conn, analysis_id), findings=0)
    sent = []
    for analysis_id, attempt in stale:
        event_id = f"{analysis_id}:requeue:{attempt}:{uuid.uuid4().hex[:8]}"
        try:
            await job_events.emit_requested(
                analysis_id, source="analysis-worker", event_id=event_id
            )
            sent.append(str(analysis_id))
        except Unavailable:
            logger.warning("Re-queued analysis %s but its event could not be sent", analysis_id)
    return {"requeued": sent, "timed_out": [str(a) for a in timed_out]}


@router.post("/dead-letter", public=True, optional_auth=True, internal=True)
async def dead_letter(request: Request) -> dict[str, Any]:
    """An event the Broker gave up on; a requested job still queued fails with the reason."""
    async with events.delivery(
        request, consumer="analysis-worker-dead-letter", settings=settings(), redis=redis
    ) as event:
        if event is None:
            return {"status": "duplicate"}
        return await _dead_letter(event)


async def _dead_letter(event: Any) -> dict[str, Any]:
    analysis_id = _analysis_id(event.get_data())
    if str(event["type"]) != job_events.REQUESTED or analysis_id is None:
        logger.error("Dead letter %s of type %s dropped", event["id"], event["type"])
        return {"status": "dropped"}
    reason = "dead letter: the event was not acknowledged after the Broker's retries"
    async with database.connection() as conn:
        failed = await repository.fail_queued(conn, analysis_id, reason=reason)
        row = await repository.analysis(conn, analysis_id) if failed else None
    if row is not None:
        await job_events.emit_finished(row, findings=0)
    return {"status": "failed" if failed else "ignored", "analysis_id": str(analysis_id)}
