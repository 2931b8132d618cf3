"""run measures the functions side by side with a hello-world baseline (``make bench``).

Every benchmark in ``BENCHMARKS`` runs its subject and the baseline interleaved
(A B A B) in one run and reports medians and the ratio subject/baseline:

* ``cold_start``: spawn of a real ``functions-framework`` process (gunicorn + uvicorn
  worker) -> first 200 on ``/health/startup``, and -> first successful ``POST /token``;
* ``rss``: memory of the process tree (master + worker) after start-up and one request;
* ``throughput``: requests/s and p50/p99 latency under a keep-alive load generator
  running in a separate process (``--loadgen``; ``--wrk`` uses wrk when installed);
* ``imports``: ``-X importtime`` of the real processes, summed, with the top packages.

Add a benchmark with ``@benchmark("name", "what it measures")`` returning ``Result``s.
``python -m tests.bench.run --only cold_start,rss``; ``--list``; ``--help``.
PostgreSQL and Redis come from ``DATABASE_URL``/``REDIS_URL`` (or ``TEST_*``), else
embedded; a database ``acr_bench_<hex>`` and a Redis prefix are made and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil

from shared import local

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "tests" / "bench" / "hello" / "main.py"
RESULTS = ROOT / "tests" / "bench" / "results"
MIB = 1024 * 1024
# as deployed, except development's generated signing key and open registration
PROFILE = {"ENVIRONMENT": "development", "LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}


@dataclass
class Options:
    runs: int = 5
    rss_runs: int = 3
    rounds: int = 3
    duration: float = 5.0
    connections: int = 16
    warmup: bool = True
    wrk: bool = False


@dataclass
class Result:
    """One metric of ``subject`` beside the same metric of ``baseline``."""

    benchmark: str
    metric: str
    unit: str
    subject: str
    subject_values: list[float]
    baseline: str
    baseline_values: list[float]
    higher_is_better: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def subject_median(self) -> float:
        return statistics.median(self.subject_values)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline_values)

    @property
    def ratio(self) -> float:
        return self.subject_median / self.baseline_median if self.baseline_median else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(
            subject_median=round(self.subject_median, 3),
            baseline_median=round(self.baseline_median, 3),
            ratio=round(self.ratio, 3),
        )
        return data


@dataclass(frozen=True)
class Benchmark:
    name: str
    summary: str
    run: Callable[[Bench], list[Result]]


BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(name: str, summary: str) -> Callable[[Callable[[Bench], list[Result]]], Any]:
    """Register a benchmark under ``name`` (the value of ``--only``)."""

    def register(run: Callable[[Bench], list[Result]]) -> Callable[[Bench], list[Result]]:
        BENCHMARKS[name] = Benchmark(name, summary, run)
        return run

    return register


# ---------------------------------------------------------------- processes


@dataclass
class Server:
    """A real ``functions-framework`` process and the moment it was spawned."""

    spec: local.FunctionSpec
    process: subprocess.Popen[bytes]
    log: Path
    spawned: float

    @property
    def port(self) -> int:
        return self.spec.port

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def memory(self) -> tuple[float, float]:
        """RSS and PSS in MiB summed over the tree (RSS counts forked pages twice)."""
        infos = [p.memory_full_info() for p in self.tree()]
        return sum(i.rss for i in infos) / MIB, sum(i.pss for i in infos) / MIB


class Bench:
    """The environment of one run: servers, options, database, Redis prefix and admin."""

    def __init__(
        self, options: Options, *, database_url: str, redis_url: str, workdir: Path
    ) -> None:
        self.options = options
        self.workdir = workdir
        self.prefix = f"bench-{secrets.token_hex(5)}:"
        self.admin_email = "bench-admin@example.com"
        self.admin_password = secrets.token_urlsafe(18)
        self.base_env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": self.prefix,
            **PROFILE,
            "ADMIN_EMAIL": self.admin_email,
            "ADMIN_PASSWORD": self.admin_password,
        }
        self.specs = {f.target: f for s in local.discover(ROOT) for f in s.functions}
        self.specs["hello"] = local.FunctionSpec("hello", "hello", "http", 0, HELLO)
        self.servers: list[Server] = []

    def spawn(self, target: str, **env: str) -> Server:
        spec = dataclasses.replace(self.specs[target], port=local.free_port())
        log = self.workdir / f"{spec.name}-{spec.port}.log"
        with log.open("wb") as sink:
            spawned = time.perf_counter()
            process = local.start_function(spec, {**self.base_env, **env}, log=sink)
        server = Server(spec, process, log, spawned)
        self.servers.append(server)
        return server

    def stop(self, server: Server) -> None:
        local.stop([server.process], timeout=20)
        self.servers.remove(server)

    def close(self) -> None:
        local.stop([s.process for s in self.servers], timeout=20)
        self.servers.clear()

    def token_form(self) -> bytes:
        form = {"grant_type": "password", "username": self.admin_email}
        return urlencode({**form, "password": self.admin_password}).encode()


def request_bytes(
    method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """One request on a fresh connection (no client library: polling must stay cheap)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(
            request_bytes(
                method, path, headers={**(headers or {}), "Connection": "close"}, body=body
            )
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, payload = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


def wait_ok(server: Server, method: str, path: str, **options: Any) -> tuple[float, bytes]:
    """Retry until ``method path`` answers 2xx; returns ms since the spawn and the body.

    Raises:
        RuntimeError: the process exited, a 4xx came back, or 60 s passed.
    """
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.spec.name} exited: {server.output()[-2000:]}")
        with contextlib.suppress(OSError):
            status, payload = http(server.port, method, path, **options)
            if status < 300:
                return (time.perf_counter() - server.spawned) * 1000, payload
            if status < 500:
                raise RuntimeError(f"{method} {path} on {server.spec.name}: {status} {payload!r}")
        time.sleep(0.005)
    raise RuntimeError(f"{method} {path} on {server.spec.name}: no 2xx in 60 s")


def login(bench: Bench, server: Server) -> tuple[float, str]:
    """``POST /token`` (password grant) until it succeeds; ms since spawn and the token."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    ms, payload = wait_ok(server, "POST", "/token", headers=headers, body=bench.token_form())
    return ms, str(json.loads(payload)["access_token"])


def interleave(runs: int, *measures: Callable[[], Any]) -> list[list[Any]]:
    """Run the measures A B A B ... ``runs`` times; one list of outcomes per measure."""
    outcomes: list[list[Any]] = [[] for _ in measures]
    for _ in range(runs):
        for outcome, measure in zip(outcomes, measures, strict=True):
            outcome.append(measure())
    return outcomes


# ---------------------------------------------------------------- cold start, memory


# auth-tokens as deployed (JSON logs through google-cloud-logging), and with text logs to
# show what that handler costs; both beside the same hello runs
VARIANTS = {"auth-tokens": {}, "auth-tokens LOG_FORMAT=text": {"LOG_FORMAT": "text"}}


def hello_cold(bench: Bench) -> float:
    server = bench.spawn("hello")
    try:
        return wait_ok(server, "GET", "/health/startup")[0]
    finally:
        bench.stop(server)


def auth_cold(bench: Bench, **env: str) -> tuple[float, float]:
    server = bench.spawn("auth_tokens", **env)
    try:
        ready = wait_ok(server, "GET", "/health/startup")[0]
        return ready, login(bench, server)[0]
    finally:
        bench.stop(server)


def compare(
    name: str, metrics: list[tuple[str, str]], hello: list[Any], subjects: dict[str, list[Any]]
) -> list[Result]:
    """Results for each metric (index i of every outcome) of each subject against hello."""
    return [
        Result(name, metric, unit, subject, [v[i] for v in values], "hello", [h[i] for h in hello])
        for i, (metric, unit) in enumerate(metrics)
        for subject, values in subjects.items()
    ]


@benchmark("cold_start", "spawn -> first 200 /health/startup and first POST /token (ms)")
def cold_start(bench: Bench) -> list[Result]:
    if bench.options.warmup:  # page cache, migrations, bootstrap admin, dev signing key
        hello_cold(bench)
        auth_cold(bench)
    measures = [lambda env=env: auth_cold(bench, **env) for env in VARIANTS.values()]
    hello, *auth = interleave(bench.options.runs, lambda: hello_cold(bench), *measures)
    metrics = [("spawn -> 200 /health/startup", "ms"), ("spawn -> 200 POST /token", "ms")]
    hellos = [(h, h) for h in hello]  # hello has one route: its first 200 is both
    return compare("cold_start", metrics, hellos, dict(zip(VARIANTS, auth, strict=True)))


def settled_memory(bench: Bench, target: str, **env: str) -> tuple[float, float]:
    server = bench.spawn(target, **env)
    try:
        wait_ok(server, "GET", "/health/startup")
        if target == "hello":
            wait_ok(server, "GET", "/")
        else:
            login(bench, server)
        time.sleep(0.3)  # let the worker finish logging and freeing the request
        return server.memory()
    finally:
        bench.stop(server)


@benchmark("rss", "memory of master + worker after start-up and one request (MiB)")
def rss(bench: Bench) -> list[Result]:
    measures = [lambda e=e: settled_memory(bench, "auth_tokens", **e) for e in VARIANTS.values()]
    hello, *auth = interleave(
        bench.options.rss_runs, lambda: settled_memory(bench, "hello"), *measures
    )
    metrics = [("RSS of the tree", "MiB"), ("PSS of the tree", "MiB")]
    return compare("rss", metrics, hello, dict(zip(VARIANTS, auth, strict=True)))


# ---------------------------------------------------------------- throughput


@dataclass(frozen=True)
class Target:
    subject: str
    port: int
    path: str
    headers: dict[str, str]


def pin(server: Server) -> None:
    """Give the server one core and leave the others to the load generator."""
    if (os.cpu_count() or 1) > 1:
        for process in server.tree():
            process.cpu_affinity([0])


def load(bench: Bench, target: Target, duration: float) -> dict[str, float]:
    """Run the load generator (wrk or ``--loadgen``) in its own process, off the server's core."""
    options = bench.options
    if options.wrk and shutil.which("wrk"):
        return wrk(target, duration=duration, connections=options.connections)
    config = {
        **dataclasses.asdict(target),
        "duration": duration,
        "connections": options.connections,
        "cpus": list(range(1, os.cpu_count() or 1)),
    }
    completed = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "tests.bench.run", "--loadgen"],
        input=json.dumps(config).encode(),
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=duration + 60,
        check=True,
    )
    outcome: dict[str, float] = json.loads(completed.stdout)
    return outcome


def throughput_servers(bench: Bench) -> tuple[Server, Server, Server, dict[str, str]]:
    """auth-tokens, auth-users (verifying with its JWKS), hello, and a bearer header."""
    tokens = bench.spawn("auth_tokens")
    wait_ok(tokens, "GET", "/health/startup")
    jwks = f"http://127.0.0.1:{tokens.port}/.well-known/jwks.json"
    users, hello = bench.spawn("auth_users", JWKS_URL=jwks), bench.spawn("hello")
    for server in (users, hello):
        wait_ok(server, "GET", "/health/startup")
    bearer = {"Authorization": f"Bearer {login(bench, tokens)[1]}"}
    me = json.loads(wait_ok(users, "GET", "/users/me", headers=bearer)[1])
    if me.get("email") != bench.admin_email:
        raise RuntimeError(f"GET /users/me answered {me}")
    for server in (tokens, users, hello):
        pin(server)
    return tokens, users, hello, bearer


@benchmark("throughput", "keep-alive load: requests/s and p50/p99 latency (separate process)")
def throughput(bench: Bench) -> list[Result]:
    tokens, users, hello, bearer = throughput_servers(bench)
    targets = [
        Target("hello", hello.port, "/", {}),
        Target("auth-users", users.port, "/users/me", bearer),
        Target("auth-tokens", tokens.port, "/.well-known/jwks.json", {}),
    ]
    if bench.options.warmup:
        for target in targets:
            load(bench, target, 1.0)
    duration = bench.options.duration
    measures = [lambda t=t: load(bench, t, duration) for t in targets]
    base, *subjects = interleave(bench.options.rounds, *measures)
    for server in (tokens, users, hello):
        bench.stop(server)
    return [
        result
        for target, values in zip(targets[1:], subjects, strict=True)
        for result in load_results(target, values, base)
    ]


def load_results(
    target: Target, values: list[dict[str, float]], base: list[dict[str, float]]
) -> list[Result]:
    errors = {"errors": [v["errors"] for v in values], "hello_errors": [b["errors"] for b in base]}
    return [
        Result(
            "throughput",
            f"GET {target.path} vs GET / {key}",
            unit,
            target.subject,
            [v[key] for v in values],
            "hello",
            [b[key] for b in base],
            higher_is_better=key == "rps",
            notes=errors,
        )
        for key, unit in (("rps", "req/s"), ("p50_ms", "ms"), ("p99_ms", "ms"))
    ]


# ---------------------------------------------------------------- load generators


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; its status and whether the server closes."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    status = int(head.split(" ", 2)[1])
    length = re.search(r"\r\ncontent-length:\s*(\d+)", head)
    if length:
        await reader.readexactly(int(length.group(1)))
    elif "transfer-encoding: chunked" in head:
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    return status, "connection: close" in head


async def generate(config: dict[str, Any]) -> dict[str, float]:
    """``connections`` keep-alive clients sending the same request for ``duration`` s."""
    request = request_bytes("GET", config["path"], headers=config["headers"])
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + config["duration"]

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", config["port"])
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            writer.write(request)
            try:
                status, closing = await asyncio.wait_for(_response(reader), timeout=10)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                status, closing = 599, True
            latencies.append(time.perf_counter() - sent)
            errors += status >= 400
            if closing:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", config["port"])
        writer.close()

    await asyncio.wait_for(
        asyncio.gather(*(client() for _ in range(config["connections"]))),
        timeout=config["duration"] + 30,
    )
    return summarize(latencies, errors, time.perf_counter() - started)


def summarize(latencies: list[float], errors: int, seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)

    def quantile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    return {
        "requests": len(ordered),
        "errors": errors,
        "seconds": seconds,
        "rps": len(ordered) / seconds,
        "p50_ms": quantile(0.50),
        "p99_ms": quantile(0.99),
    }


def loadgen_main() -> int:
    """``--loadgen``: read the config as JSON on stdin, print the summary as JSON."""
    config = json.loads(sys.stdin.read())
    if config.get("cpus"):
        os.sched_setaffinity(0, config["cpus"])
    try:
        import uvloop

        outcome = uvloop.run(generate(config))
    except ImportError:
        outcome = asyncio.run(generate(config))
    print(json.dumps(outcome))
    return 0


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(target: Target, *, duration: float, connections: int) -> dict[str, float]:
    headers = [arg for k, v in target.headers.items() for arg in ("-H", f"{k}: {v}")]
    completed = subprocess.run(  # noqa: S603 - fixed argv
        [
            shutil.which("wrk") or "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            *headers,
            f"http://127.0.0.1:{target.port}{target.path}",
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


# ---------------------------------------------------------------- imports


@dataclass(frozen=True)
class ImportProfile:
    """``-X importtime`` of a process tree: total self time, modules, and who costs most."""

    total_ms: float
    modules: int
    by_package: dict[str, float]
    first_importers: dict[str, float]


def parse_importtime(text: str, *, top: int = 12) -> ImportProfile:
    by_package: dict[str, float] = {}
    first: dict[str, float] = {}
    names = set()
    for line in text.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if not found:
            continue
        own, cumulative, indent, name = found.groups()
        names.add(name)
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + int(own) / 1000
        if len(indent) == 1:  # imported directly by the function's code or the server
            first[name] = first.get(name, 0.0) + int(cumulative) / 1000

    def largest(costs: dict[str, float]) -> dict[str, float]:
        ranked = sorted(costs.items(), key=lambda item: -item[1])[:top]
        return {k: round(v, 1) for k, v in ranked}

    total = sum(by_package.values())
    return ImportProfile(round(total, 1), len(names), largest(by_package), largest(first))


def import_profile(bench: Bench, target: str) -> ImportProfile:
    server = bench.spawn(target, PYTHONPROFILEIMPORTTIME="1")
    try:
        wait_ok(server, "GET", "/health/startup")
        if target == "hello":
            wait_ok(server, "GET", "/")
        else:
            login(bench, server)
    finally:
        bench.stop(server)
    return parse_importtime(server.output())


@benchmark("imports", "-X importtime of start-up + one request: total ms and module count")
def imports(bench: Bench) -> list[Result]:
    hello, auth = interleave(
        bench.options.rss_runs,
        lambda: import_profile(bench, "hello"),
        lambda: import_profile(bench, "auth_tokens"),
    )
    metrics = [("import time (sum of self)", "ms"), ("modules imported", "count")]
    results = compare(
        "imports",
        metrics,
        [(p.total_ms, p.modules) for p in hello],
        {"auth-tokens": [(p.total_ms, p.modules) for p in auth]},
    )
    results[0].notes = {
        "auth_tokens_by_package_ms": auth[-1].by_package,
        "auth_tokens_first_importers_ms": auth[-1].first_importers,
        "hello_by_package_ms": hello[-1].by_package,
    }
    return results


# ---------------------------------------------------------------- platform and report


@contextlib.contextmanager
def platform_urls(workdir: Path) -> Iterator[tuple[str, str]]:
    """The PostgreSQL server and Redis URLs: from the environment, else embedded."""
    handles = []
    database = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    redis = os.environ.get("REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    try:
        if not database:
            database, handle = local.embedded_postgres(workdir / "postgres")
            handles.append(handle)
        if not redis:
            redis, handle = local.embedded_redis(workdir / "redis")
            handles.append(handle)
        yield database, redis
    finally:
        for handle in reversed(handles):
            local.stop_embedded(handle)


@contextlib.contextmanager
def open_bench(
    options: Options, *, server_url: str, redis_url: str, workdir: Path
) -> Iterator[Bench]:
    """A ``Bench`` on a fresh ``acr_bench_<hex>`` database, dropped (and its keys) after."""
    import asyncpg
    import redis

    name = f"acr_bench_{secrets.token_hex(6)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'create database "{name}"'))
    bench = Bench(
        options,
        database_url=local.with_database(server_url, name),
        redis_url=redis_url,
        workdir=workdir,
    )
    try:
        yield bench
    finally:
        bench.close()
        asyncio.run(admin(f'drop database if exists "{name}" with (force)'))
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{bench.prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1) if found else ""
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gib": round(psutil.virtual_memory().total / MIB / 1024, 1),
    }


def table(results: list[Result]) -> str:
    rows = [("benchmark", "metric", "subject", "median", "hello", "ratio", "n")]
    for r in results:
        rows.append(
            (
                r.benchmark,
                r.metric,
                r.subject,
                f"{r.subject_median:,.1f} {r.unit}",
                f"{r.baseline_median:,.1f} {r.unit}",
                f"{r.ratio:.2f}x",
                str(len(r.subject_values)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def details(results: list[Result]) -> str:
    lines = []
    for r in results:
        for key, value in r.notes.items():
            if isinstance(value, dict):
                shown = ", ".join(f"{k} {v}" for k, v in value.items())
                lines.append(f"{r.benchmark} {key}: {shown}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    defaults = Options()
    parser.add_argument("--runs", type=int, default=defaults.runs, help="cold starts of each")
    parser.add_argument("--rss-runs", type=int, default=defaults.rss_runs)
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="load rounds of each")
    parser.add_argument(
        "--duration", type=float, default=defaults.duration, help="seconds per load round"
    )
    parser.add_argument("--connections", type=int, default=defaults.connections)
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--wrk", action="store_true", help="use wrk for load when installed")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--loadgen", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run(names: list[str], options: Options) -> tuple[list[Result], float]:
    started = time.perf_counter()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="acr-bench-") as tmp:
        workdir = Path(tmp)
        with (
            platform_urls(workdir) as (server_url, redis_url),
            open_bench(
                options, server_url=server_url, redis_url=redis_url, workdir=workdir
            ) as bench,
        ):
            for name in names:
                print(f"running {name}: {BENCHMARKS[name].summary}", flush=True)
                results.extend(BENCHMARKS[name].run(bench))
    return results, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.loadgen:
        return loadgen_main()
    if args.list:
        print("\n".join(f"{b.name:<12} {b.summary}" for b in BENCHMARKS.values()))
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    options = Options(
        args.runs,
        args.rss_runs,
        args.rounds,
        args.duration,
        args.connections,
        not args.no_warmup,
        args.wrk,
    )
    results, elapsed = run(names, options)
    print(f"\n{table(results)}\n\n{details(results)}\n\n{elapsed:.0f} s in all")
    report = {
        "command": " ".join(
            ["python -m tests.bench.run", *(argv if argv is not None else sys.argv[1:])]
        ),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": dataclasses.asdict(options),
        "environment": {**PROFILE, "server_cpus": [0], "loadgen_cpus": "the others"},
        "elapsed_seconds": round(elapsed, 1),
        "results": [r.as_dict() for r in results],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
