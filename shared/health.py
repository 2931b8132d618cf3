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


class Health:
    """A function's answers to the health paths (served before routing, without a token).

    ``/health`` is liveness (200 unless draining), ``/ready`` runs the readiness checks,
    ``/health/startup`` runs the start-up hooks once (503 ``starting`` with the reason
    while they fail). The last checks' components are repeated by the other two paths.
    """

    def __init__(self, *, service: str, version: str, checks: dict[str, Check]) -> None:
        self.service = service
        self.version = version
        self.checks = dict(checks)
        self._last_components: list[dict[str, Any]] = []

    async def answer(
        self,
        path: str,
        *,
        started_at: float,
        draining: Callable[[], bool],
        start: Callable[[], Awaitable[str | None]],
    ) -> tuple[int, dict[str, Any]]:
        """The status code and body for ``path`` (one of :data:`HEALTH_PATHS`).

        Args:
            started_at: When the process started (epoch seconds), for ``uptime_seconds``.
            draining: Whether the function is shutting down (every path then answers 503),
                asked when the answer is built: a ``/ready`` whose checks were still
                running when SIGTERM came answers "draining".
            start: Runs the start-up hooks if not yet done; returns why they failed, or None.
        """
        status, code, detail = "healthy", 200, None
        components = self._last_components
        if path == "/ready":
            components = await run_checks(self.checks, limit_s=2.0)
            self._last_components = components
            if any(c["status"] != "healthy" for c in components):
                status, code = "unhealthy", 503
        elif path == "/health/startup":
            failure = await start()
            if failure is not None:
                status, code, detail = "starting", 503, failure
        if draining():
            status, code, detail = "draining", 503, "The function is shutting down."
        document = body(
            service=self.service,
            version=self.version,
            status=status,
            started_at=started_at,
            components=components,
            detail=detail,
        )
        return code, document
