"""lifecycle drains a function on SIGTERM, in the seed's five steps.

1. health endpoints answer 503;
2. new requests are refused (503 problem, ``Connection: close``);
3. in-flight requests finish, up to ``SHUTDOWN_TIMEOUT_SECONDS`` (15 s), then are cancelled;
4. pools are closed (registered ``on_shutdown`` callbacks);
5. the server's own SIGTERM handler runs, so uvicorn/gunicorn exit cleanly (status 0).

functions-framework's ASGI app has no lifespan, so the hook is installed lazily by the
first request the worker serves, and it chains to the handler the server installed
instead of replacing it (as func-python does).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)

ShutdownCallback = Callable[[], Awaitable[None]]


class Lifecycle:
    """Process-wide serving state: started, draining, in-flight requests."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self.draining = False
        self.drain_timeout = 15.0
        self._inflight: set[asyncio.Task[Any]] = set()
        self._callbacks: list[ShutdownCallback] = []
        self._installed = False
        self._previous: Any = None
        self._drain_task: asyncio.Task[None] | None = None
        self._stats_task: asyncio.Task[None] | None = None

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def on_shutdown(self, callback: ShutdownCallback) -> None:
        """Run ``callback`` once in-flight requests are done (close pools here)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def install(self) -> None:
        """Chain a SIGTERM hook in front of the server's handler (idempotent)."""
        if self._installed:
            return
        self._installed = True
        try:
            self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        except ValueError:  # not the main thread: nothing to chain to
            self._installed = False

    def report_runtime(self, interval: float) -> None:
        """Log this process's asyncio task and thread counts every ``interval`` seconds, from
        the running loop (once per process and loop): what a soak reads to tell a leak of
        tasks, which nothing outside the process can count."""
        loop = asyncio.get_running_loop()
        task = self._stats_task
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        # a context of its own: not the request's (its id and trace) that happened to start it
        self._stats_task = loop.create_task(
            _report_runtime(interval), name="runtime-stats", context=contextvars.Context()
        )

    def track(self) -> _Inflight:
        return _Inflight(self)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if self.draining:
            return
        self.draining = True
        logger.info("SIGTERM: draining %d in-flight request(s)", self.inflight)
        loop = asyncio.get_event_loop()
        self._drain_task = loop.create_task(self._drain(signum, frame))

    async def _drain(self, signum: int, frame: FrameType | None) -> None:
        try:
            await asyncio.wait_for(self._wait_idle(), timeout=self.drain_timeout)
        except TimeoutError:
            logger.warning(
                "Drain timeout of %.1fs exceeded: cancelling %d request(s)",
                self.drain_timeout,
                self.inflight,
            )
            for task in list(self._inflight):
                task.cancel()
            await asyncio.sleep(0)
        await self.close()
        self._chain(signum, frame)

    async def _wait_idle(self) -> None:
        # polled: an Event would bind to one loop, and tests use several
        while self._inflight:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for callback in reversed(self._callbacks):
            try:
                await callback()
            except Exception:  # a failing close must not stop the others
                logger.exception("Shutdown callback %r failed", callback)

    def _chain(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous
        if callable(previous):
            previous(signum, frame)
        elif previous in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)


async def _report_runtime(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        tasks, threads = len(asyncio.all_tasks()), threading.active_count()
        logger.info(
            "Runtime stats: pid=%d asyncio_tasks=%d threads=%d",
            os.getpid(),
            tasks,
            threads,
            extra={"json_fields": {"pid": os.getpid(), "asyncio_tasks": tasks, "threads": threads}},
        )


class _Inflight:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self.task: asyncio.Task[Any] | None = None

    def __enter__(self) -> None:
        self.task = asyncio.current_task()
        if self.task is not None:
            self.lifecycle._inflight.add(self.task)

    def __exit__(self, *exc: object) -> None:
        if self.task is not None:
            self.lifecycle._inflight.discard(self.task)


state = Lifecycle()
