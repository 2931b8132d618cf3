"""run measures the functions side by side with baselines (``make bench``).

Every benchmark runs its subject and its baseline interleaved (A B A B) in one run and
reports medians and the ratio subject/baseline. The families, one module each:

* ``coldstart``: each of the twelve functions, spawn -> ``/health/startup`` and -> the
  answer to its first real request, RSS and PSS, under production settings, beside hello;
* ``json_logs``: the JSON log sink, google-cloud-logging's handler beside ours (import,
  set-up and one line in a fresh interpreter: ms and RSS);
* ``auth``: cold start, RSS, keep-alive throughput and ``-X importtime`` of auth-tokens and
  auth-users beside a hello-world function;
* ``providers``: quotas reserve + commit round trips beside raw Redis ``EVALSHA`` and hello;
* ``projects``: archive uploads (MB/s) beside an upload sink; snapshots of 1,000 files;
* ``analysis``: a 10,000-line analysis through every process, first run and cached re-run;
  the orchestrator's added latency over calling the (fake) OpenAI API directly;
* ``litellm``: ``POST /v1/chat/completions`` of our gateway beside LiteLLM's proxy (its own
  pinned venv under ``.cache/bench/litellm``), both in front of the same fake OpenAI;
* ``comparison``: ``/resolve`` and A/B assignment under load beside hello; results of a
  test with a million outcome events beside reading the test;
* ``taint``: the local reviewer's taint engine on the labelled corpus (TPR/FPR per category)
  beside bandit alone and Ruff's ``S`` rules, findings per 1,000 lines of clean code, and
  a 1,000-file project's review time, each against the reviewer before the engine.

Load comes from ``tests/bench/loadgen.py`` in its own process (servers on CPU 0, the
generator on the others). ``python -m tests.bench.run --only quotas,archive``; ``--list``.
PostgreSQL and Redis come from ``DATABASE_URL``/``REDIS_URL`` (or ``TEST_*``), else
embedded; a database ``acr_bench_<hex>`` and a Redis prefix are made and removed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.bench import (
    analysis,
    auth,
    coldstart,
    comparison,
    litellm,
    projects,
    providers,
    taint,
)
from tests.bench.harness import (
    BENCHMARKS,
    PROFILE,
    RESULTS,
    Options,
    Result,
    details,
    machine,
    open_bench,
    platform_urls,
    table,
)

FAMILIES = (
    coldstart,
    auth,
    providers,
    projects,
    analysis,
    litellm,
    comparison,
    taint,
)  # importing registers them
ORDER = (
    *(
        "coldstart",
        "json_logs",
        "cold_start",
        "rss",
        "login_memory",
        "throughput",
        "imports",
        "quotas",
        "archive",
        "snapshot",
    ),
    *("analysis", "local_review", "orchestrator", "litellm"),
    *("resolve", "assign", "ab_results", "taint"),
)
BENCHMARKS.update({name: BENCHMARKS.pop(name) for name in ORDER if name in BENCHMARKS})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.run", description=(__doc__ or "").split("\n")[0]
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
        "--duration", type=float, default=defaults.duration, help="seconds per auth load round"
    )
    parser.add_argument(
        "--service-duration",
        type=float,
        default=defaults.service_duration,
        help="seconds per load round of the other services",
    )
    parser.add_argument("--connections", type=int, default=defaults.connections)
    parser.add_argument(
        "--gateway-connections",
        type=int,
        default=defaults.gateway_connections,
        help="connections of the litellm part's throughput rounds",
    )
    parser.add_argument("--archive-mb", type=float, default=defaults.archive_mb)
    parser.add_argument("--analysis-lines", type=int, default=defaults.analysis_lines)
    parser.add_argument(
        "--analysis-runs",
        type=int,
        default=defaults.analysis_runs,
        help="analyses of fresh repositories in a row (the first on a cold orchestrator)",
    )
    parser.add_argument("--ab-events", type=int, default=defaults.ab_events)
    parser.add_argument(
        "--taint-files", type=int, default=defaults.taint_files, help="files of the timed project"
    )
    parser.add_argument(
        "--coldstart-targets",
        default=defaults.coldstart_targets,
        help="comma-separated function targets of coldstart (default: all twelve)",
    )
    parser.add_argument(
        "--coldstart-venv",
        choices=("image", "dev"),
        default=defaults.coldstart_venv,
        help="coldstart's processes run from venvs holding each image's requirements"
        " (image) or from the project's venv (dev)",
    )
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--wrk", action="store_true", help="use wrk for plain GETs when installed")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
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
                began = time.perf_counter()
                print(f"running {name}: {BENCHMARKS[name].summary}", flush=True)
                results.extend(BENCHMARKS[name].run(bench))
                print(f"  {name}: {time.perf_counter() - began:.0f} s", flush=True)
    return results, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        print("\n".join(f"{b.name:<22} {b.summary}" for b in BENCHMARKS.values()))
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    options = dataclasses.replace(
        Options(),
        runs=args.runs,
        rss_runs=args.rss_runs,
        rounds=args.rounds,
        duration=args.duration,
        service_duration=args.service_duration,
        connections=args.connections,
        gateway_connections=args.gateway_connections,
        archive_mb=args.archive_mb,
        analysis_lines=args.analysis_lines,
        analysis_runs=args.analysis_runs,
        ab_events=args.ab_events,
        taint_files=args.taint_files,
        coldstart_targets=args.coldstart_targets,
        coldstart_venv=args.coldstart_venv,
        warmup=not args.no_warmup,
        wrk=args.wrk,
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
