"""SIGTERM draining under the real runtime: functions-framework, gunicorn and the uvicorn worker."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

SLOW = Path(__file__).resolve().parent.parent / "shared" / "sample_functions" / "slow" / "main.py"


def _start(start_function: Callable[..., Any], **env: str) -> Any:
    return start_function("slow_function", source=SLOW, **env)


async def _wait_inflight(url: str, count: int) -> None:
    """Poll the sample's /inflight until ``count`` requests are being served."""
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        for _ in range(200):
            seen = (await client.get("/inflight")).json()["inflight"]
            if seen >= count:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"{count} slow request(s) never reached {url}")


async def _wait_draining(url: str) -> httpx.Response:
    """GET /health on a fresh connection each time until it answers 503 (the worker got SIGTERM)."""
    for _ in range(200):
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            answer = await client.get("/health")
        if answer.status_code == 503:
            return answer
        await asyncio.sleep(0.02)
    raise AssertionError(f"{url}/health never reported draining")


async def _exit_code(process: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return await asyncio.to_thread(process.wait, timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the process did not exit within {timeout}s of SIGTERM") from None


async def test_sigterm_refuses_new_work_and_lets_in_flight_requests_finish(
    start_function: Callable[..., Any],
) -> None:
    fn = _start(start_function)
    async with httpx.AsyncClient(base_url=fn.url, timeout=30) as slow_client:
        slow = [
            asyncio.create_task(slow_client.get("/slow", params={"seconds": 3, "tag": f"r{i}"}))
            for i in range(3)
        ]
        await _wait_inflight(fn.url, 3)
        fn.process.send_signal(signal.SIGTERM)

        health = await _wait_draining(fn.url)
        assert health.json()["status"] == "draining", health.text
        assert health.headers["retry-after"], health.headers

        async with httpx.AsyncClient(base_url=fn.url, timeout=5) as fresh:
            refused = await fresh.get("/slow", params={"seconds": 0})
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["connection"] == "close", refused.headers
        assert refused.headers["retry-after"] == "1", refused.headers
        assert refused.json()["detail"] == "A dependency is unavailable; retry later."

        answers = await asyncio.gather(*slow)
    for i, answer in enumerate(answers):
        assert answer.status_code == 200, (
            f"in-flight request r{i}: {answer.status_code} {answer.text}"
        )
        assert answer.json() == {"slept": 3.0, "tag": f"r{i}", "padding": "z" * 4096}
    assert await _exit_code(fn.process, 20) == 0, fn.output()


async def test_drain_timeout_cuts_the_request_and_still_closes_pools_and_exits_cleanly(
    start_function: Callable[..., Any], tmp_path: Path
) -> None:
    marker = tmp_path / "closed.txt"
    fn = _start(start_function, SHUTDOWN_TIMEOUT_SECONDS="1", SHUTDOWN_MARKER=str(marker))
    async with httpx.AsyncClient(base_url=fn.url, timeout=30) as client:
        long = asyncio.create_task(client.get("/slow", params={"seconds": 10}))
        await _wait_inflight(fn.url, 1)
        fn.process.send_signal(signal.SIGTERM)
        # the 10 s request cannot finish: the process must be gone well before it would
        assert await _exit_code(fn.process, 8) == 0, fn.output()
        try:
            cut = await long
        except httpx.TransportError:
            cut = None
    assert cut is None or cut.status_code != 200, f"the request was not cut: {cut.text}"
    assert marker.read_text() == "closed\n", "the shutdown callback did not run exactly once"


async def test_an_idle_function_exits_cleanly_on_sigterm(
    start_function: Callable[..., Any], tmp_path: Path
) -> None:
    marker = tmp_path / "closed.txt"
    fn = _start(start_function, SHUTDOWN_MARKER=str(marker))
    async with httpx.AsyncClient(base_url=fn.url, timeout=5) as client:
        quick = await client.get("/slow", params={"seconds": 0, "tag": "warm"})
    assert quick.json()["tag"] == "warm", quick.text
    fn.process.send_signal(signal.SIGTERM)
    assert await _exit_code(fn.process, 10) == 0, fn.output()
    assert marker.read_text() == "closed\n"
