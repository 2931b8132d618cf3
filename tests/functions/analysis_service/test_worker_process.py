"""analysis-worker as a real functions-framework process: SIGTERM mid-job keeps every
finished chunk, and the redelivered event resumes without reviewing them again."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx

from shared import events
from tests.functions.analysis_service._support import (
    Service,
    StandInOrchestrator,
    new_user,
    project_with_files,
    wait_until,
)


async def _chunk_states(database_url: str, analysis_id: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "select chunk_id, status from analysis_service.analysis_chunks where analysis_id = $1",
            uuid.UUID(analysis_id),
        )
    finally:
        await conn.close()
    return {r["chunk_id"]: r["status"] for r in rows}


async def test_sigterm_mid_job_keeps_finished_chunks_and_redelivery_resumes(
    service: Callable[..., Service],
    service_env: dict[str, str],
    start_function: Callable[..., Any],
    identity: Any,
    stand_in: StandInOrchestrator,
    database_url: str,
) -> None:
    stand_in.delay = 0.4
    svc = service()
    owner = identity.headers(new_user())
    files = {f"pkg/m{i}.py": f"value = eval('{i}')\n" for i in range(10)}
    urls = svc.platform.urls
    project_id, snapshot_id = await project_with_files(
        urls["projects"], urls["project_files"], owner, files
    )
    env = {**service_env, "WORKER_CONCURRENCY": "2", "SHUTDOWN_TIMEOUT_SECONDS": "25"}
    first = start_function("analysis_worker", **env)
    created = await svc.api.post(
        "/analyses", json={"project_id": project_id, "snapshot_id": snapshot_id}, headers=owner
    )
    analysis_id = created.json()["id"]
    headers, body = svc.sink.of_type("dev.acr.analysis.requested")[-1]
    ce = {k: v for k, v in headers.items() if k.startswith("ce-") or k == "content-type"}
    ce["host"] = events.cluster_local_host("analysis-worker")  # as the Trigger delivers it
    async with httpx.AsyncClient(timeout=60) as client:
        delivery = asyncio.ensure_future(client.post(first.url, content=body, headers=ce))

        async def some_done() -> bool:
            states = await _chunk_states(database_url, analysis_id)
            return sum(s == "done" for s in states.values()) >= 2

        await wait_until(some_done)
        first.process.send_signal(signal.SIGTERM)
        interrupted = await delivery
        assert interrupted.status_code == 503, "a drained job asks for redelivery"
        assert await asyncio.to_thread(first.process.wait, 30) == 0
        kept = await _chunk_states(database_url, analysis_id)
        done_before = {c for c, s in kept.items() if s == "done"}
        assert 2 <= len(done_before) < 10, kept
        reviewed_before = dict(stand_in.calls)
        assert all(f"static:{c}" in reviewed_before for c in done_before)

        second = start_function("analysis_worker", **env)
        resumed = await client.post(second.url, content=body, headers=ce)
    assert resumed.status_code == 200 and resumed.json()["status"] == "completed", resumed.text
    assert len(stand_in.calls) == 10 and max(stand_in.calls.values()) == 1, (
        f"each chunk must be reviewed exactly once across both workers: {stand_in.calls}"
    )
    found = await svc.api.get(f"/analyses/{analysis_id}/findings", headers=owner)
    assert len(found.json()["items"]) == 10
    analysis = (await svc.api.get(f"/analyses/{analysis_id}", headers=owner)).json()
    assert analysis["attempt"] == 2 and analysis["status"] == "completed", analysis
    assert json.loads(body) == {"analysis_id": analysis_id}
