"""loadgen drives keep-alive HTTP/1.1 (or Redis) load from its own process, off the server's core.

``python -m tests.bench.loadgen`` reads a ``Target`` as JSON on stdin and prints a summary
(requests, errors, seconds, rps, p50_ms, p99_ms). One iteration is the target's steps in
order on one connection; a step may capture a JSON field of its answer (``capture``) that a
later step's path or body uses as ``{name}``; ``{uuid}`` is a new UUID per iteration and
``{n}`` a random integer below ``choices``. A ``redis`` target runs ``EVALSHA`` round trips
with redis-py's asyncio client instead. ``--wrk`` in run.py uses wrk for plain GETs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    capture: dict[str, str] = field(default_factory=dict)  # placeholder -> JSON key


@dataclass(frozen=True)
class Target:
    """What one load round sends: HTTP ``steps`` on ``port``, or Redis round trips."""

    subject: str
    port: int = 0
    steps: tuple[Step, ...] = ()
    choices: int = 1000
    redis_url: str = ""
    redis_calls: int = 1  # EVALSHA round trips per iteration

    @classmethod
    def get(cls, subject: str, port: int, path: str, headers: dict[str, str]) -> Target:
        return cls(subject, port, (Step("GET", path, headers),))

    @property
    def plain_get(self) -> bool:
        """One fixed GET: what wrk can send as well."""
        return (
            len(self.steps) == 1
            and self.steps[0].method == "GET"
            and "{" not in self.steps[0].path
            and not self.redis_url
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        steps = tuple(Step(**step) for step in data.pop("steps"))
        return cls(steps=steps, **data)


def request_bytes(
    method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    given = headers or {}
    host = next((v for k, v in given.items() if k.lower() == "host"), "127.0.0.1")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in given.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Read one HTTP/1.1 response: its status, whether the server closes, and its body."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    status = int(head.split(" ", 2)[1])
    length = re.search(r"\r\ncontent-length:\s*(\d+)", head)
    body = b""
    if length:
        body = await reader.readexactly(int(length.group(1)))
    elif "transfer-encoding: chunked" in head:
        parts = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            parts.append((await reader.readexactly(size + 2))[:-2])
        await reader.readline()
        body = b"".join(parts)
    return status, "connection: close" in head, body


def fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(request)
        try:
            status, closing, body = await asyncio.wait_for(read_response(self.reader), timeout=30)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            status, closing, body = 599, True, b""
        if closing:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def iteration(target: Target, connection: Connection) -> bool:
    """The target's steps once; False when any step failed (status >= 400 or no capture)."""
    values = {"uuid": uuid.uuid4().hex, "n": str(random.randrange(target.choices))}  # noqa: S311
    for step in target.steps:
        body = fill(step.body, values).encode()
        status, payload = await connection.send(
            request_bytes(step.method, fill(step.path, values), headers=step.headers, body=body)
        )
        if status >= 400:
            return False
        if step.capture:
            answer = json.loads(payload)
            values.update({name: str(answer[key]) for name, key in step.capture.items()})
    return True


async def generate(target: Target, duration: float, connections: int) -> dict[str, float]:
    """``connections`` keep-alive clients repeating the target's iteration for ``duration`` s."""
    latencies: list[float] = []
    errors = 0
    # The clock starts once the Redis baseline's client and script are ready: on a busy
    # machine their set-up could outlast a short round, which then measured 0 requests.
    redis_client, script = await _redis(target)
    started = time.perf_counter()
    deadline = started + duration

    async def client() -> None:
        nonlocal errors
        connection = Connection(target.port)
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            if redis_client is not None:
                ok = True
                for _ in range(target.redis_calls):
                    ok = ok and await redis_client.evalsha(script, 0) == 1
            else:
                ok = await iteration(target, connection)
            latencies.append(time.perf_counter() - sent)
            errors += not ok
        connection.close()

    try:
        await asyncio.wait_for(
            asyncio.gather(*(client() for _ in range(connections))), timeout=duration + 60
        )
    finally:
        if redis_client is not None:
            await redis_client.aclose()
    return summarize(latencies, errors, time.perf_counter() - started)


async def _redis(target: Target) -> tuple[Any, str]:
    """A pooled redis-py asyncio client and a trivial script's SHA (``return 1``)."""
    if not target.redis_url:
        return None, ""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(target.redis_url)
    return client, str(await client.script_load("return 1"))


def summarize(latencies: list[float], errors: int, seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)

    def quantile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    return {
        "requests": len(ordered),
        "errors": errors,
        "seconds": seconds,
        "rps": len(ordered) / seconds if seconds else 0.0,
        "p50_ms": quantile(0.50),
        "p99_ms": quantile(0.99),
    }


def run(
    target: Target, *, duration: float, connections: int, cpus: list[int], use_wrk: bool = False
) -> dict[str, float]:
    """One load round from a separate process (wrk for a plain GET when asked and installed)."""
    if use_wrk and target.plain_get and shutil.which("wrk"):
        return wrk(target, duration=duration, connections=connections)
    config = {
        "target": dataclasses.asdict(target),
        "duration": duration,
        "connections": connections,
        "cpus": cpus,
    }
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    completed = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "tests.bench.loadgen"],
        input=json.dumps(config).encode(),
        capture_output=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": root},
        timeout=duration + 120,
        check=False,
    )
    if completed.returncode:
        raise RuntimeError(f"load generator failed: {completed.stderr.decode()[-2000:]}")
    outcome: dict[str, float] = json.loads(completed.stdout)
    return outcome


def main() -> int:
    """Read the config as JSON on stdin, print the summary as JSON."""
    config = json.loads(sys.stdin.read())
    if config.get("cpus"):
        os.sched_setaffinity(0, config["cpus"])
    target = Target.from_dict(config["target"])
    work = generate(target, config["duration"], config["connections"])
    try:
        import uvloop

        outcome = uvloop.run(work)
    except ImportError:
        outcome = asyncio.run(work)
    print(json.dumps(outcome))
    return 0


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(target: Target, *, duration: float, connections: int) -> dict[str, float]:
    step = target.steps[0]
    headers = [arg for k, v in step.headers.items() for arg in ("-H", f"{k}: {v}")]
    completed = subprocess.run(  # noqa: S603 - fixed argv
        [
            shutil.which("wrk") or "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            *headers,
            f"http://127.0.0.1:{target.port}{step.path}",
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    return parse_wrk(completed.stdout)


def parse_wrk(text: str) -> dict[str, float]:
    """The summary of wrk's ``--latency`` output, in ``summarize``'s keys."""

    def latency(percent: str) -> float:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        return float(found.group(1)) * _WRK_UNITS[found.group(2)] if found else 0.0

    requests = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s)", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", text)
    return {
        "requests": int(requests.group(1)) if requests else 0,
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (int(errors.group(1)) if errors else 0),
        "seconds": float(requests.group(2)) * _WRK_UNITS[requests.group(3)] / 1000
        if requests
        else 0.0,
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
    }


if __name__ == "__main__":
    sys.exit(main())
