"""load runs locust against the whole platform (``make load``) and the soak (``make soak``).

One command does what an operator would: it starts a fake OpenAI upstream (the fake of
``tests/fakes/openai_api.py`` without its request log, in a process of its own), starts
the platform exactly as ``make run`` does (``python -m localdev.local``: every function
under functions-framework, the gateway on :8000; PostgreSQL and Redis from
``DATABASE_URL``/``REDIS_URL``, else embedded ones this script starts and stops), logs in
as the bootstrap admin and registers the fake as an ``openai`` provider (its key an
``env://LOAD_OPENAI_API_KEY`` reference the platform's environment carries, as a real
deployment's would), runs ``tests/bench/locustfile.py`` headless, and stops everything.

No limit is raised for the load: every locust user is its own account and stays within
the per-user limits (one analysis in flight of 5, one project of 100, no failed logins),
as real users do, so the platform runs with its defaults.

``make load``: 100 users, spawn rate 10, 5 minutes (the seed's dockerization guide runs
locust this way), each user thinking 5-15 s between tasks as a person reading findings
does (``--wait``; the soak's 10 users think 2-6 s); the per-endpoint table (requests,
failures, p50/p95/p99) goes to ``.local/load/report.md``; the command fails on any failure.

``make soak``: a steady, moderate load (default 10 users, 35 minutes) while every minute
it samples, per function (the functions-framework process and its children): RSS and open
sockets; for the platform: PostgreSQL connections (``pg_stat_activity`` of its database),
Redis clients (``CLIENT LIST``) and Redis keys without a TTL; and each function's asyncio
tasks, which each process logs every ``RUNTIME_STATS_SECONDS`` (set for the platform it
starts; read from the functions' logs, ``.local/logs``). After the warm-up (default 5
minutes) it fails when a function's RSS grows more than 5% (median of the last three
samples against the median of the first three after warm-up), or when connections,
sockets, tasks or TTL-less keys stay above their highest value of the first three samples
after warm-up in all of the last three. The samples and the verdict go to
``.local/soak/report.md`` (and ``soak.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = "http://127.0.0.1:8000"
FAKE_MODEL = "gpt-4o-mini"
RSS_GROWTH_LIMIT = 0.05


# ---------------------------------------------------------------- the fake upstream


def serve_fake(port_file: str, key: str) -> None:  # pragma: no cover - a subprocess
    """Serve the fake OpenAI API until SIGTERM; write its port to ``port_file``."""
    from tests.fakes.ai_server import Step
    from tests.fakes.openai_api import FakeOpenAI

    class Unrecorded(FakeOpenAI):
        """The fake without its request log, which would grow for as long as a soak runs."""

        async def begin(self, request: Any) -> tuple[Any, Step]:
            raw = await request.body()
            return (json.loads(raw) if raw else None), Step()

    fake = Unrecorded(key).start()
    Path(port_file).write_text(str(fake.port))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    fake.stop()


# ---------------------------------------------------------------- the platform


@dataclass
class Platform:
    """The processes one run started, and how to reach what it measures."""

    database_url: str
    redis_url: str
    process: subprocess.Popen[bytes] | None = None
    fake: subprocess.Popen[bytes] | None = None
    fake_port: int = 0
    embedded: list[Any] = field(default_factory=list)
    # each function's log (``make run`` writes .local/logs/<function>.log), from where this run
    # started: their processes log their runtime stats there
    logs_read: dict[Path, int] = field(default_factory=dict)
    tasks_by_pid: dict[int, int] = field(default_factory=dict)


def start(work: Path, key: str) -> Platform:
    """The fake upstream, the servers (embedded unless given) and ``localdev.local``."""
    from localdev import local

    if _answers(f"{GATEWAY}/health/startup"):
        raise SystemExit(f"something already answers on {GATEWAY}: stop it (make run?) first")
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    embedded: list[Any] = []
    if not database_url:
        server_url, handle = local.embedded_postgres(ROOT / ".local" / "postgres")
        embedded.append(handle)
        database_url = local.ensure_database(server_url, "acr")
    if not redis_url:
        redis_url, handle = local.embedded_redis(ROOT / ".local" / "redis")
        embedded.append(handle)
    platform = Platform(database_url, redis_url, embedded=embedded)
    port_file = work / "fake.port"
    port_file.unlink(missing_ok=True)
    platform.fake = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "tests.bench.load", "fake", str(port_file), key],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline or platform.fake.poll() is not None:
            raise RuntimeError("the fake OpenAI upstream did not start")
        time.sleep(0.1)
    platform.fake_port = int(port_file.read_text())
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOAD_OPENAI_API_KEY": key,
        "LOCAL_START_SECONDS": os.environ.get("LOCAL_START_SECONDS", "300"),
        "RUNTIME_STATS_SECONDS": str(RUNTIME_STATS_SECONDS),
        "PYTHONPATH": str(ROOT),
    }
    platform.logs_read = {path: path.stat().st_size for path in LOGS.glob("*.log")}
    log = (work / "platform.log").open("ab")
    platform.process = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "localdev.local"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 360
    while not _answers(f"{GATEWAY}/health/startup"):
        if platform.process.poll() is not None or time.monotonic() > deadline:
            stop(platform)
            raise RuntimeError(f"the platform did not start: see {work / 'platform.log'}")
        time.sleep(0.5)
    return platform


def stop(platform: Platform) -> None:
    for process in (platform.process, platform.fake):
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT if process is platform.process else signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    from localdev import local

    for handle in reversed(platform.embedded):
        local.stop_embedded(handle)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def register_fake_provider(platform: Platform) -> tuple[str, str, dict[str, str]]:
    """Log in as the bootstrap admin and register the fake; ``(model, provider id, admin)``."""
    creds = json.loads((ROOT / ".local" / "admin.json").read_text())
    if os.environ.get("ADMIN_EMAIL") and os.environ.get("ADMIN_PASSWORD"):
        creds = {k: os.environ[k] for k in ("ADMIN_EMAIL", "ADMIN_PASSWORD")}
    form = {
        "grant_type": "password",
        "username": creds["ADMIN_EMAIL"],
        "password": creds["ADMIN_PASSWORD"],
    }
    token = httpx.post(f"{GATEWAY}/token", data=form, timeout=30).raise_for_status().json()
    admin = {"Authorization": f"Bearer {token['access_token']}"}
    name = f"load-{uuid.uuid4().hex[:8]}"
    body = {
        "name": name,
        "kind": "openai",
        "base_url": f"http://127.0.0.1:{platform.fake_port}/v1",
        "api_key_secret": "env://LOAD_OPENAI_API_KEY",
        "models": [
            {
                "name": FAKE_MODEL,
                "input_usd_per_mtok": "0.15",
                "output_usd_per_mtok": "0.6",
                "context_window": 128000,
            }
        ],
    }
    created = httpx.post(f"{GATEWAY}/providers", json=body, headers=admin, timeout=30)
    created.raise_for_status()
    return f"{name}/{FAKE_MODEL}", str(created.json()["id"]), admin


def remove_provider(provider_id: str, admin: dict[str, str]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.delete(f"{GATEWAY}/providers/{provider_id}", headers=admin, timeout=30)


# ---------------------------------------------------------------- locust


def run_locust(
    work: Path, *, users: int, spawn_rate: float, run_time: str, model: str, env: dict[str, str]
) -> int:
    """locust headless against the gateway; its exit code (1 when any request failed)."""
    command = [
        str(Path(sys.executable).parent / "locust"),
        *("-f", str(ROOT / "tests" / "bench" / "locustfile.py"), "--headless"),
        *("--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", run_time),
        *("--host", GATEWAY, "--csv", str(work / "locust"), "--only-summary"),
        *("--stop-timeout", "60", "--loglevel", "WARNING"),
    ]
    child_env = {**os.environ, **env, "LOAD_CHAT_MODEL": model, "PYTHONPATH": str(ROOT)}
    with (work / "locust.log").open("ab") as log:
        return subprocess.call(command, cwd=ROOT, env=child_env, stdout=log, stderr=log)  # noqa: S603


def endpoint_table(stats_csv: Path) -> tuple[list[dict[str, str]], str]:
    """locust's per-endpoint statistics and a markdown table of them (p50/p95/p99 in ms)."""
    with stats_csv.open() as f:
        rows = list(csv.DictReader(f))
    lines = [
        "| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        name = row["Name"] if row["Type"] not in ("", "None") else "**all**"
        label = f"{row['Type']} {name}" if row["Type"] not in ("", "None") else name
        lines.append(
            f"| {label} | {row['Request Count']} | {row['Failure Count']} | "
            f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | {row['99%']} | "
            f"{float(row['Max Response Time']):.0f} |"
        )
    return rows, "\n".join(lines)


# ---------------------------------------------------------------- the soak's samples


def function_processes(platform: Platform) -> dict[str, list[Any]]:
    """Each function's name -> its functions-framework process and that one's children."""
    import psutil

    assert platform.process is not None
    found: dict[str, list[Any]] = {}
    for child in psutil.Process(platform.process.pid).children():
        with contextlib.suppress(psutil.Error):
            target = [a for a in child.cmdline() if a.startswith("--target=")]
            source = [a for a in child.cmdline() if a.startswith("--source=")]
            if target and source:
                service = Path(source[0].split("=", 1)[1]).parent.name
                name = f"{service}.{target[0].split('=', 1)[1]}"
                found[name] = [child, *child.children(recursive=True)]
    return found


def cpu_seconds(platform: Platform) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each function's processes and the gateway
    (``localdev.local`` itself): where the platform's time goes under the load."""
    import psutil

    assert platform.process is not None
    used: dict[str, float] = {}
    for name, processes in function_processes(platform).items():
        total = 0.0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        used[name] = total
    with contextlib.suppress(psutil.Error):
        times = psutil.Process(platform.process.pid).cpu_times()
        used["gateway"] = times.user + times.system
    return used


# Each function logs its asyncio task count this often (shared/lifecycle.py) for the samples,
# in its log file of ``make run``.
RUNTIME_STATS_SECONDS = 20
LOGS = ROOT / ".local" / "logs"
_RUNTIME_STATS = re.compile(rb"Runtime stats: pid=(\d+) asyncio_tasks=(\d+)")


def runtime_stats(text: bytes) -> dict[int, int]:
    """pid -> asyncio tasks, the last figure each process logged in ``text`` (the line is the
    same in the text and the JSON log format)."""
    return {int(pid): int(tasks) for pid, tasks in _RUNTIME_STATS.findall(text)}


def _read_runtime_stats(platform: Platform) -> None:
    for path in sorted(LOGS.glob("*.log")):
        done = platform.logs_read.get(path, 0)
        with path.open("rb") as log:
            log.seek(done)
            text = log.read()
        complete = text.rfind(b"\n") + 1  # a line still being written waits for the next read
        platform.logs_read[path] = done + complete
        platform.tasks_by_pid.update(runtime_stats(text[:complete]))


def sample(platform: Platform) -> dict[str, Any]:
    """One minute's figures: per-function RSS (MiB), sockets and asyncio tasks (as each
    process last logged them); the servers' counts."""
    import psutil

    _read_runtime_stats(platform)
    rss: dict[str, float] = {}
    sockets: dict[str, int] = {}
    tasks: dict[str, int] = {}
    for name, processes in function_processes(platform).items():
        total, count = 0, 0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
                count += len(process.net_connections(kind="all"))
        rss[name] = round(total / 2**20, 1)
        sockets[name] = count
        logged = [platform.tasks_by_pid[p.pid] for p in processes if p.pid in platform.tasks_by_pid]
        if logged:
            tasks[name] = sum(logged)
    return {
        "t": time.time(),
        "rss_mib": rss,
        "sockets": sockets,
        "asyncio_tasks": tasks,
        "pg_connections": asyncio.run(_pg_connections(platform.database_url)),
        **_redis_figures(platform.redis_url),
    }


async def _pg_connections(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "select count(*) from pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


def _redis_figures(url: str) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url)
    try:
        clients = len(client.client_list()) - 1  # not this one
        keys, without_ttl = 0, 0
        batch: list[bytes] = []

        def count(names: list[bytes]) -> int:
            pipe = client.pipeline(transaction=False)
            for key in names:
                pipe.ttl(key)
            return sum(1 for ttl in pipe.execute() if ttl == -1)

        for key in client.scan_iter(count=1000):
            keys += 1
            batch.append(key)
            if len(batch) == 1000:
                without_ttl += count(batch)
                batch = []
        without_ttl += count(batch) if batch else 0
        return {"redis_clients": clients, "redis_keys": keys, "redis_keys_without_ttl": without_ttl}
    finally:
        client.close()


def verdict(samples: list[dict[str, Any]], warmup_minutes: int) -> list[str]:
    """Why the soak fails (empty: it passes), from samples taken once a minute.

    After the first ``warmup_minutes`` samples: a function's RSS fails when the median of
    its last three samples is more than 5% above the median of its first three; a count
    (PostgreSQL connections, Redis clients, Redis keys without TTL, a function's sockets)
    fails when even the lowest of its last three samples is above the highest of its first
    three: a pool that opens a connection more at a burst and keeps it is a high-water
    mark, not a leak; a leak lifts every later sample.
    """
    steady = samples[warmup_minutes:]
    if len(steady) < 6:
        return [f"only {len(steady)} samples after the warm-up: at least 6 are needed"]
    problems = []
    first, last = steady[:3], steady[-3:]
    for name in sorted(steady[0]["rss_mib"]):
        before = statistics.median(s["rss_mib"].get(name, 0.0) for s in first)
        after = statistics.median(s["rss_mib"].get(name, 0.0) for s in last)
        if before and after > before * (1 + RSS_GROWTH_LIMIT):
            problems.append(
                f"{name}: RSS grew {100 * (after / before - 1):.1f}% "
                f"({before:.1f} -> {after:.1f} MiB)"
            )
    counts = {
        "PostgreSQL connections": lambda s: s["pg_connections"],
        "Redis clients": lambda s: s["redis_clients"],
        "Redis keys without TTL": lambda s: s["redis_keys_without_ttl"],
    }
    for name in sorted(steady[0]["sockets"]):
        counts[f"{name} sockets"] = lambda s, n=name: s["sockets"].get(n, 0)
    for name in sorted(steady[0].get("asyncio_tasks", {})):
        counts[f"{name} asyncio tasks"] = lambda s, n=name: s.get("asyncio_tasks", {}).get(n, 0)
    for label, value in counts.items():
        ceiling, floor = max(value(s) for s in first), min(value(s) for s in last)
        if floor > ceiling:
            problems.append(f"{label} grew: at most {ceiling} at first, at least {floor} at last")
    return problems


def soak_report(samples: list[dict[str, Any]], warmup_minutes: int, problems: list[str]) -> str:
    names = sorted(samples[-1]["rss_mib"]) if samples else []
    header = "| minute | " + " | ".join(names) + " | PG conns | Redis clients | no-TTL keys |"
    lines = [
        "RSS (MiB) per function, one sample a minute "
        f"(warm-up: the first {warmup_minutes} samples)",
        "",
        header,
        "|" + "---|" * (len(names) + 4),
    ]
    for minute, s in enumerate(samples, start=1):
        cells = [f"{s['rss_mib'].get(n, 0):.1f}" for n in names]
        lines.append(
            f"| {minute} | " + " | ".join(cells) + f" | {s['pg_connections']} | "
            f"{s['redis_clients']} | {s['redis_keys_without_ttl']} |"
        )
    lines += ["", "Verdict: " + ("PASS" if not problems else "FAIL"), *(f"- {p}" for p in problems)]
    return "\n".join(lines)


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fake = sub.add_parser("fake", help="(internal) serve the fake OpenAI upstream")
    fake.add_argument("port_file")
    fake.add_argument("key")
    for name in ("load", "soak"):
        mode = sub.add_parser(name)
        mode.add_argument("--users", type=int, default=100 if name == "load" else 10)
        mode.add_argument("--spawn-rate", type=float, default=10 if name == "load" else 2)
        mode.add_argument("--minutes", type=float, default=5 if name == "load" else 35)
        mode.add_argument("--warmup-minutes", type=int, default=5)
        mode.add_argument(
            "--wait",
            default="5,15" if name == "load" else "2,6",
            help="each user's think time between tasks, min,max seconds",
        )
    again = sub.add_parser("verdict", help="the verdict of a soak's saved samples")
    again.add_argument("samples", type=Path)
    again.add_argument("--warmup-minutes", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "verdict":
        kept = json.loads(args.samples.read_text())
        problems = verdict(kept, args.warmup_minutes)
        print(soak_report(kept, args.warmup_minutes, problems))
        return 1 if problems else 0
    if args.command == "fake":
        serve_fake(args.port_file, args.key)
        return 0
    work = ROOT / ".local" / args.command
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("locust*"):
        old.unlink()
    wait_min, wait_max = args.wait.split(",")
    env = {"LOAD_WAIT_MIN": wait_min, "LOAD_WAIT_MAX": wait_max}
    key = "sk-load-" + secrets.token_urlsafe(16)
    platform = start(work, key)
    samples: list[dict[str, Any]] = []
    try:
        model, provider_id, admin = register_fake_provider(platform)
        run_time = f"{int(args.minutes * 60)}s"
        print(f"{args.command}: {args.users} users for {run_time} against {GATEWAY}", flush=True)
        if args.command == "soak":
            done = threading.Event()

            def sampler() -> None:
                while not done.wait(60.0):
                    samples.append(sample(platform))
                    print(f"sample {len(samples)}: {json.dumps(samples[-1])}", flush=True)

            thread = threading.Thread(target=sampler, daemon=True)
            thread.start()
        started = time.time()
        cpu_before = cpu_seconds(platform)
        code = run_locust(
            work,
            users=args.users,
            spawn_rate=args.spawn_rate,
            run_time=run_time,
            model=model,
            env=env,
        )
        cpu_after = cpu_seconds(platform)
        if args.command == "soak":
            done.set()
            thread.join()
        remove_provider(provider_id, admin)
    finally:
        stop(platform)
    rows, table = endpoint_table(work / "locust_stats.csv")
    failures = sum(int(r["Failure Count"]) for r in rows if r["Name"] == "Aggregated")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    report = [
        f"# {args.command}: {args.users} users, {run_time}, {stamp}",
        "",
        f"Command: `python -m tests.bench.load {' '.join(argv or sys.argv[1:])}`",
        "",
        table,
        "",
        "CPU seconds used during the run (user + system): "
        + ", ".join(
            f"{name} {cpu_after[name] - cpu_before.get(name, 0.0):.0f}"
            for name in sorted(cpu_after, key=lambda n: cpu_before.get(n, 0.0) - cpu_after[n])
        ),
    ]
    problems: list[str] = []
    if args.command == "soak":
        problems = verdict(samples, args.warmup_minutes)
        report += ["", soak_report(samples, args.warmup_minutes, problems)]
        (work / "soak.json").write_text(json.dumps(samples, indent=1))
    text = "\n".join(report) + "\n"
    (work / "report.md").write_text(text)
    print(text)
    if failures or code != 0:
        print(f"FAIL: {failures} failed request(s), locust exit code {code}; see {work}/locust*")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
