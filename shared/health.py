"""health answers /health, /ready and /health/startup in the seed's JSON shape."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]
"""A readiness check: returns when the component works, raises when it does not."""

HEALTH_PATHS = frozenset({"/health", "/ready", "/health/startup"})


async def run_checks(checks: dict[str, Check], *, limit_s: float) -> list[dict[str, Any]]:
    """Run every check concurrently, each bounded by ``limit_s``, and time it (``latency_ms``)."""
    return list(await asyncio.gather(*(_timed(n, c, limit_s) for n, c in checks.items())))


async def _timed(name: str, check: Check, limit_s: float) -> dict[str, Any]:
    started = time.perf_counter()
    component: dict[str, Any] = {"name": name, "status": "healthy"}
    try:
        await asyncio.wait_for(check(), timeout=limit_s)
    except Exception as e:  # any failure of a dependency makes it unhealthy
        # The probe paths answer without a token (Knative's probes have none): the seed's
        # shape (name, status, latency) only; why it failed, with hosts and addresses, is
        # for the log.
        component["status"] = "unhealthy"
        logger.warning(
            "Readiness check %s failed: %s", name, type(e).__name__ if not str(e) else str(e)[:200]
        )
    component["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return component


def body(
    *,
    service: str,
    version: str,
    status: str,
    started_at: float,
    components: list[dict[str, Any]],
    detail: str | None = None,
) -> dict[str, Any]:
    """The seed's "Health Check Response" object."""
    answer: dict[str, Any] = {
        "status": status,
        "service": service,
        "version": version,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "uptime_seconds": int(time.time() - started_at),
        "components": components,
    }
    if detail:
        answer["detail"] = detail
    return answer
