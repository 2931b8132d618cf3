"""harness holds what every benchmark shares: options, results, the registry, real processes,
tokens, load rounds, interleaving, the platform (database, Redis) and the report table."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psutil

from localdev import discovery, local
from tests.bench import loadgen
from tests.bench.loadgen import Target

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
    # the service families' sizes (tests use tiny ones)
    service_duration: float = 3.0
    archive_mb: float = 10.0
    archive_runs: int = 3
    snapshot_files: int = 1000
    snapshot_runs: int = 5
    analysis_lines: int = 10_000
    analysis_runs: int = 1
    review_connections: int = 4
    gateway_connections: int = 50  # the litellm part's many-connection rounds
    assign_units: int = 1000
    ab_events: int = 1_000_000
    results_calls: int = 7
    taint_files: int = 1000  # the generated project the taint benchmark times
    coldstart_targets: str = ""  # comma-separated function targets of ``coldstart`` (all)
    login_burst: int = 48  # password logins of ``login_memory``'s burst
    coldstart_venv: str = "image"  # ``image``: each image's requirements; ``dev``: .venv


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


# ---------------------------------------------------------------- identity


class Identity:
    """auth-tokens' stand-in: an EC key whose JWKS is served over real HTTP, minting access
    tokens with auth-tokens' claims (as tests/conftest.py's Identity)."""

    def __init__(self) -> None:
        from joserfc.jwk import ECKey

        self.key = ECKey.generate_key("P-256")
        self.key.ensure_kid()
        jwks = {"keys": [{**self.key.as_dict(private=False), "alg": "ES256", "use": "sig"}]}
        body = json.dumps(jwks).encode()

        class JWKS(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), JWKS)
        self.jwks_url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, sub: str, *, role: str = "member", scope: str = "user") -> str:
        from joserfc import jwt

        now = int(time.time())
        payload = {
            "iss": "https://auth.ai-codereview.dev",
            "aud": "ai-codereview",
            "sub": sub,
            "iat": now,
            "exp": now + 3 * 3600,  # outlives any run
            "jti": uuid.uuid4().hex,
            "role": role,
            "scope": scope,
        }
        header = {"alg": "ES256", "kid": self.key.kid, "typ": "at+jwt"}
        return jwt.encode(header, payload, self.key, algorithms=["ES256"])

    def headers(self, sub: str | None = None, **options: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub or str(uuid.uuid4()), **options)}"}

    def service_token(self) -> str:
        return self.token("sa:platform", role="service", scope="internal")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- processes

IMAGE_VENVS = ROOT / ".cache" / "bench" / "images"


class InstallFailed(RuntimeError):
    """A venv of the bench's own could not be made (the message says which step, why)."""


def stamped_venv(venv: Path, requirements: Path, steps: list[list[str]], *, made: Path) -> None:
    """(Re)make ``venv`` by ``steps`` unless it was made from this very ``requirements``
    file (a stamp in it holds the file's hash) and ``made`` (what the steps leave) exists.

    Raises:
        InstallFailed: the file is missing, a step failed, or ``made`` was not left.
    """
    try:
        digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    except OSError as e:
        raise InstallFailed(f"no requirements file {requirements}: {e}") from None
    stamp = venv / ".requirements.sha256"
    if made.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return
    print(f"  installing {requirements} into {venv} (once per requirements file)", flush=True)
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=1200, check=False)  # noqa: S603
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise InstallFailed(f"`{' '.join(step[:4])} ...` failed: {' | '.join(tail)}")
    if not made.exists():
        raise InstallFailed(f"the install left no {made}")
    stamp.write_text(digest + "\n")


def image_venv(requirements: Path) -> Path:
    """The ``bin`` of a venv holding exactly what a function's image installs from
    ``requirements`` (its Dockerfile's step: a venv without pip, then ``uv pip install
    --require-hashes --no-deps --compile-bytecode``), under ``.cache/bench/images``
    (git-ignored), made on first use and again when the file changes. The project's venv
    also holds the dev tools, which change what some libraries import (httpx imports its
    command line, rich and pygments, whenever they are installed; redis-py its
    OpenTelemetry metrics), so a process started from it is not the deployed one.
    """
    venv = IMAGE_VENVS / requirements.parent.name
    bin_dir = venv / "bin"
    uv = Path(sys.executable).parent / "uv"
    steps = [
        [sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)],
        [str(uv), "pip", "install", "--quiet", "--python", str(bin_dir / "python"),
         "--require-hashes", "--no-deps", "--compile-bytecode", "-r", str(requirements)],
    ]  # fmt: skip
    stamped_venv(venv, requirements, steps, made=bin_dir / "python")
    return bin_dir


@dataclass
class Server:
    """A real ``functions-framework`` process and the moment it was spawned."""

    spec: discovery.FunctionSpec
    process: subprocess.Popen[bytes]
    log: Path
    spawned: float

    @property
    def port(self) -> int:
        return self.spec.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.spec.port}"

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
    """The environment of one run: servers, options, database, Redis prefix, admin, identity.

    ``spawn`` starts a process the benchmark stops itself; ``shared`` starts a process once per
    run (same target and environment answer the same process), stopped by ``close``.
    """

    def __init__(
        self, options: Options, *, database_url: str, redis_url: str, workdir: Path
    ) -> None:
        self.options = options
        self.workdir = workdir
        self.database_url = database_url
        self.redis_url = redis_url
        self.prefix = f"bench-{secrets.token_hex(5)}:"
        self.admin_email = "bench-admin@example.com"
        self.admin_password = secrets.token_urlsafe(18)
        self.identity = Identity()
        self.base_env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": self.prefix,
            **PROFILE,
            "ADMIN_EMAIL": self.admin_email,
            "ADMIN_PASSWORD": self.admin_password,
            "JWKS_URL": self.identity.jwks_url,
        }
        self.specs = {f.target: f for s in discovery.discover(ROOT) for f in s.functions}
        for target in ("hello", "upload_sink", "one_query", "one_script", "stack_floor"):
            self.specs[target] = discovery.FunctionSpec(target, target, "http", 0, HELLO)
        self.servers: list[Server] = []
        self.shared_servers: dict[tuple[str, ...], Server] = {}
        self.admin_id = str(uuid.uuid4())

    @property
    def admin(self) -> dict[str, str]:
        return self.identity.headers(self.admin_id, role="admin")

    def spawn(self, target: str, *, bin_dir: Path | None = None, **env: str) -> Server:
        """Start ``target`` from the project's venv, or from the venv of ``bin_dir``."""
        spec = dataclasses.replace(self.specs[target], port=local.free_port())
        log = self.workdir / f"{spec.name}-{spec.port}.log"
        with log.open("wb") as sink:
            spawned = time.perf_counter()
            process = local.start_function(
                spec, {**self.base_env, **env}, log=sink, bin_dir=bin_dir
            )
        server = Server(spec, process, log, spawned)
        self.servers.append(server)
        return server

    def shared(self, *wanted: str | tuple[str, dict[str, str]]) -> list[Server]:
        """Started-and-ready processes for each target (or ``(target, env)``), reused across
        benchmarks; new ones start in parallel."""
        keys = []
        fresh = []
        for item in wanted:
            target, env = (item, {}) if isinstance(item, str) else item
            key = (target, *sorted(f"{k}={v}" for k, v in env.items()))
            keys.append(key)
            if key not in self.shared_servers:
                server = self.spawn(target, **env)
                self.servers.remove(server)
                self.shared_servers[key] = server
                fresh.append(server)
        for server in fresh:
            wait_ok(server, "GET", "/health/startup")
        return [self.shared_servers[key] for key in keys]

    def stop(self, server: Server) -> None:
        local.stop([server.process], timeout=20)
        self.servers.remove(server)

    def close(self) -> None:
        everything = [*self.servers, *self.shared_servers.values()]
        local.stop([s.process for s in everything], timeout=20)
        self.servers.clear()
        self.shared_servers.clear()
        self.identity.close()

    def token_form(self) -> bytes:
        from urllib.parse import urlencode

        form = {"grant_type": "password", "username": self.admin_email}
        return urlencode({**form, "password": self.admin_password}).encode()

    def load(
        self, target: Target, duration: float, connections: int | None = None
    ) -> dict[str, float]:
        """One load round from a separate process, off CPU 0 (where ``pinned`` puts servers)."""
        return loadgen.run(
            target,
            duration=duration,
            connections=connections or self.options.connections,
            cpus=list(range(1, os.cpu_count() or 1)),
            use_wrk=self.options.wrk,
        )


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
            loadgen.request_bytes(
                method, path, headers={**(headers or {}), "Connection": "close"}, body=body
            )
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, payload = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


def wait_ok(
    server: Server, method: str, path: str, *, accept: tuple[int, ...] = (), **options: Any
) -> tuple[float, bytes]:
    """Retry until ``method path`` answers 2xx (or a status in ``accept``); returns ms since
    the spawn and the body.

    Raises:
        RuntimeError: the process exited, another 4xx came back, or 60 s passed.
    """
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.spec.name} exited: {server.output()[-2000:]}")
        with contextlib.suppress(OSError):
            status, payload = http(server.port, method, path, **options)
            if status < 300 or status in accept:
                return (time.perf_counter() - server.spawned) * 1000, payload
            if status < 500:
                raise RuntimeError(f"{method} {path} on {server.spec.name}: {status} {payload!r}")
        time.sleep(0.005)
    raise RuntimeError(f"{method} {path} on {server.spec.name}: no 2xx in 60 s")


_client: list[httpx.Client] = []


def client() -> httpx.Client:
    """One keep-alive client for the whole run (a new client per call costs ~15 ms)."""
    if not _client:
        _client.append(httpx.Client(timeout=120))
    return _client[0]


def call(
    method: str,
    url: str,
    *,
    expect: tuple[int, ...] = (200, 201),
    timeout: float = 120,
    **kwargs: Any,
) -> Any:
    """A request on a shared keep-alive httpx client; its JSON answer.

    Raises:
        RuntimeError: an unexpected status.
    """
    response = client().request(method, url, timeout=timeout, **kwargs)
    if response.status_code not in expect:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:2000]}")
    return response.json() if response.content else None


def timed(
    method: str, url: str, *, expect: tuple[int, ...] = (200, 201), **kwargs: Any
) -> tuple[float, Any]:
    """ms of one request on a fresh connection, and its JSON answer."""
    started = time.perf_counter()
    answer = call(method, url, expect=expect, **kwargs)
    return (time.perf_counter() - started) * 1000, answer


def interleave(runs: int, *measures: Callable[[], Any]) -> list[list[Any]]:
    """Run the measures A B A B ... ``runs`` times; one list of outcomes per measure."""
    outcomes: list[list[Any]] = [[] for _ in measures]
    for _ in range(runs):
        for outcome, measure in zip(outcomes, measures, strict=True):
            outcome.append(measure())
    return outcomes


def compare(
    name: str, metrics: list[tuple[str, str]], hello: list[Any], subjects: dict[str, list[Any]]
) -> list[Result]:
    """Results for each metric (index i of every outcome) of each subject against hello."""
    return [
        Result(name, metric, unit, subject, [v[i] for v in values], "hello", [h[i] for h in hello])
        for i, (metric, unit) in enumerate(metrics)
        for subject, values in subjects.items()
    ]


@contextlib.contextmanager
def pinned(*servers: Server) -> Iterator[None]:
    """Give the servers CPU 0 and leave the others to the load generator, then free them."""
    cpus = os.cpu_count() or 1
    if cpus > 1:
        for server in servers:
            for process in server.tree():
                process.cpu_affinity([0])
    try:
        yield
    finally:
        if cpus > 1:
            for server in servers:
                for process in server.tree():
                    with contextlib.suppress(psutil.Error):
                        process.cpu_affinity(list(range(cpus)))


def load_rounds(
    bench: Bench,
    targets: list[Target],
    *,
    duration: float,
    connections: int | None = None,
    servers: list[Server] | None = None,
) -> list[list[dict[str, float]]]:
    """Warm each target (when warming), then interleave ``rounds`` load rounds of each.

    With ``servers`` (one per target), each round also gets ``cpu_us``: the CPU time
    (user + system) the server's process tree spent per request answered. Requests per
    second fall when the load generator or a neighbour takes the CPU; the CPU a request
    costs the server does not, so its ratio to hello's holds on a busy machine too.
    """
    if bench.options.warmup:
        for target in targets:
            bench.load(target, min(1.0, duration), connections)

    def measure(target: Target, server: Server | None) -> dict[str, float]:
        if server is None:
            return bench.load(target, duration, connections)
        before = _cpu_seconds(server)
        outcome = bench.load(target, duration, connections)
        spent = _cpu_seconds(server) - before
        return {**outcome, "cpu_us": spent / max(1, int(outcome["requests"])) * 1e6}

    paired = list(zip(targets, servers or [None] * len(targets), strict=True))
    measures = [lambda t=t, s=s: measure(t, s) for t, s in paired]
    return interleave(bench.options.rounds, *measures)


def _cpu_seconds(server: Server) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in server.tree())


def load_results(
    benchmark_name: str,
    metric: str,
    subject: Target,
    values: list[dict[str, float]],
    baseline: Target,
    base: list[dict[str, float]],
) -> list[Result]:
    """req/s, p50 and p99 of ``subject`` beside ``baseline`` (errors of both in the notes)."""
    errors = {
        "errors": [v["errors"] for v in values],
        "baseline_errors": [b["errors"] for b in base],
    }
    return [
        Result(
            benchmark_name,
            f"{metric} {key}",
            unit,
            subject.subject,
            [v[key] for v in values],
            baseline.subject,
            [b[key] for b in base],
            higher_is_better=key == "rps",
            notes=dict(errors),
        )
        for key, unit in (
            ("rps", "req/s"),
            ("p50_ms", "ms"),
            ("p99_ms", "ms"),
            ("cpu_us", "us CPU/request"),
        )
        if all(key in v for v in (*values, *base))
    ]


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
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def table(results: list[Result]) -> str:
    rows = [("benchmark", "metric", "subject", "median", "baseline", "median", "ratio", "n")]
    for r in results:
        rows.append(
            (
                r.benchmark,
                r.metric,
                r.subject,
                f"{r.subject_median:,.1f} {r.unit}",
                r.baseline,
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
