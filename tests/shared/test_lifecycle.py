"""Lifecycle's bookkeeping and SIGTERM drain, driven by calling its handler directly."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest

from shared.lifecycle import Lifecycle


class PreviousHandler:
    """Stands in for the server's own SIGTERM handler (uvicorn's ``handle_exit``)."""

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.calls: list[tuple[int, FrameType | None]] = []

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.calls.append((signum, frame))
        self.events.append("server handler")


@pytest.fixture
def events() -> list[str]:
    return []


@pytest.fixture
def previous(events: list[str]) -> Iterator[PreviousHandler]:
    """Installs a fake server handler for SIGTERM; pytest's own is restored afterwards."""
    handler = PreviousHandler(events)
    saved = signal.signal(signal.SIGTERM, handler)
    yield handler
    signal.signal(signal.SIGTERM, saved)


def _recorder(events: list[str], name: str, *, fail: bool = False) -> Any:
    async def callback() -> None:
        events.append(name)
        if fail:
            raise RuntimeError(f"{name} failed")

    return callback


async def test_track_counts_a_request_while_it_runs_and_forgets_it_after() -> None:
    lifecycle = Lifecycle()
    release = asyncio.Event()

    async def request() -> None:
        with lifecycle.track():
            await release.wait()

    tasks = [asyncio.create_task(request()) for _ in range(2)]
    await asyncio.sleep(0)
    assert lifecycle.inflight == 2, "both running requests are counted"
    release.set()
    await asyncio.gather(*tasks)
    assert lifecycle.inflight == 0, "finished requests are forgotten"


async def test_track_forgets_a_request_that_raised() -> None:
    lifecycle = Lifecycle()
    with pytest.raises(ValueError), lifecycle.track():
        assert lifecycle.inflight == 1
        raise ValueError("boom")
    assert lifecycle.inflight == 0


async def test_shutdown_callbacks_run_in_reverse_order_and_a_failure_does_not_stop_the_others(
    events: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    lifecycle = Lifecycle()
    first, failing, last = (
        _recorder(events, "database"),
        _recorder(events, "redis", fail=True),
        _recorder(events, "http clients"),
    )
    for callback in (first, failing, last, first):  # registering twice keeps one
        lifecycle.on_shutdown(callback)
    await lifecycle.close()
    assert events == ["http clients", "redis", "database"], events
    assert "Shutdown callback" in caplog.text and "redis failed" in caplog.text, caplog.text


async def test_sigterm_waits_for_in_flight_requests_then_closes_pools_then_chains(
    events: list[str], previous: PreviousHandler
) -> None:
    lifecycle = Lifecycle()
    lifecycle.install()
    assert signal.getsignal(signal.SIGTERM) == lifecycle._on_sigterm, "the hook is in front"
    lifecycle.on_shutdown(_recorder(events, "pools closed"))
    release = asyncio.Event()

    async def request() -> None:
        with lifecycle.track():
            await release.wait()
        events.append("request done")

    running = asyncio.create_task(request())
    await asyncio.sleep(0)
    lifecycle._on_sigterm(signal.SIGTERM, None)
    assert lifecycle.draining, "draining starts with the signal"
    await asyncio.sleep(0.2)
    assert previous.calls == [], "the server must not stop while a request is in flight"
    release.set()
    await running
    assert lifecycle._drain_task is not None
    await asyncio.wait_for(lifecycle._drain_task, timeout=5)
    assert events == ["request done", "pools closed", "server handler"], events
    assert previous.calls == [(signal.SIGTERM, None)], "chained with the original arguments"


async def test_drain_timeout_cancels_requests_and_still_chains(
    events: list[str], previous: PreviousHandler
) -> None:
    lifecycle = Lifecycle()
    lifecycle.install()
    lifecycle.drain_timeout = 0.1
    lifecycle.on_shutdown(_recorder(events, "pools closed"))

    async def stuck() -> None:
        with lifecycle.track():
            await asyncio.Event().wait()

    running = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    lifecycle._on_sigterm(signal.SIGTERM, None)
    assert lifecycle._drain_task is not None
    await asyncio.wait_for(lifecycle._drain_task, timeout=5)
    assert running.cancelled(), "a request over the drain limit is cancelled"
    assert events == ["pools closed", "server handler"], events


async def test_a_second_sigterm_does_not_start_a_second_drain(
    events: list[str], previous: PreviousHandler
) -> None:
    lifecycle = Lifecycle()
    lifecycle.install()
    lifecycle.install()  # idempotent: still chains to the server's handler, not to itself
    lifecycle.on_shutdown(_recorder(events, "pools closed"))
    lifecycle._on_sigterm(signal.SIGTERM, None)
    first = lifecycle._drain_task
    lifecycle._on_sigterm(signal.SIGTERM, None)
    assert lifecycle._drain_task is first, "the second signal is ignored while draining"
    assert first is not None
    await asyncio.wait_for(first, timeout=5)
    assert events == ["pools closed", "server handler"], events


def test_install_outside_the_main_thread_leaves_the_handler_alone(
    previous: PreviousHandler,
) -> None:
    lifecycle = Lifecycle()
    thread = threading.Thread(target=lifecycle.install)
    thread.start()
    thread.join()
    assert signal.getsignal(signal.SIGTERM) is previous, "signals belong to the main thread"
    assert not lifecycle._installed, "a later install from the main thread may still chain"


async def test_runtime_stats_count_this_loops_tasks_once_per_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import os
    import re

    state = Lifecycle()
    release = asyncio.Event()
    extra = [asyncio.create_task(release.wait()) for _ in range(5)]
    caplog.set_level("INFO", logger="shared.lifecycle")
    try:
        state.report_runtime(0.02)
        reporter = state._stats_task
        state.report_runtime(0.02)  # a second function of the process: still one reporter
        assert state._stats_task is reporter
        for _ in range(200):
            await asyncio.sleep(0.02)
            lines = [r for r in caplog.records if r.getMessage().startswith("Runtime stats")]
            if lines:
                break
        expected = len(asyncio.all_tasks())
    finally:
        release.set()
        await asyncio.gather(*extra)
        assert state._stats_task is not None
        state._stats_task.cancel()
    assert lines, "no runtime stats were logged"
    fields = lines[-1].json_fields  # type: ignore[attr-defined]
    assert fields["pid"] == os.getpid()
    assert fields["asyncio_tasks"] == expected  # the five waiting tasks, this one, the reporter
    assert fields["threads"] == threading.active_count()
    assert re.fullmatch(
        rf"Runtime stats: pid={os.getpid()} asyncio_tasks={expected} threads=\d+",
        lines[-1].getMessage(),
    )
