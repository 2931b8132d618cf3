"""ai-orchestrator and analysis-service benchmarks: a whole analysis through every process
(first run beside its cached re-run), and the orchestrator's added latency per call over
calling the (fake) OpenAI API directly."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from shared import events
from tests.bench import corpus
from tests.bench.harness import (
    Bench,
    Result,
    Server,
    benchmark,
    call,
    interleave,
    load_results,
    load_rounds,
)
from tests.bench.loadgen import Step, Target
from tests.bench.projects import new_project, post_seconds

REQUESTED = "dev.acr.analysis.requested"


@contextmanager
def broker(worker_url: str) -> Iterator[str]:
    """The Broker's part: takes every event (202) and delivers ``analysis.requested`` to the
    worker in the background, as the Trigger would; yields the sink URL."""

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower().startswith("ce-") or k.lower() == "content-type"
            }
            headers["host"] = events.cluster_local_host("analysis-worker")  # as a Trigger
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            if self.headers.get("ce-type") == REQUESTED:
                threading.Thread(
                    target=httpx.post,
                    args=(worker_url,),
                    kwargs={"content": body, "headers": headers, "timeout": 900},
                    daemon=True,
                ).start()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def backends(bench: Bench) -> dict[str, Server]:
    """versions, providers, quotas, projects, project-files: shared by the run."""
    (projects,) = bench.shared("projects")
    # quotas asks projects whether a member may reserve in a project (issue 9)
    quotas = ("quotas", {"PROJECTS_URL": projects.url})
    names = ("versions", "providers", "quotas", "project_files")
    servers = bench.shared("versions", "providers", quotas, "project_files")
    return {**dict(zip(names, servers, strict=True)), "projects": projects}


def orchestrator(bench: Bench, urls: dict[str, Server], **env: str) -> Server:
    (server,) = bench.shared(
        (
            "orchestrator",
            {
                "PROVIDERS_URL": urls["providers"].url,
                "QUOTAS_URL": urls["quotas"].url,
                "VERSIONS_URL": urls["versions"].url,
                "PROJECTS_URL": urls["projects"].url,  # /review checks the caller's access
                "SERVICE_TOKEN": bench.identity.service_token(),
                **env,
            },
        )
    )
    return server


def run_analysis(
    api: Server, owner: dict[str, str], project: str, snapshot: str
) -> tuple[float, dict[str, Any]]:
    """Seconds from POST /analyses to ``completed``, and the finished analysis."""
    started = time.perf_counter()
    created = call(
        "POST",
        f"{api.url}/analyses",
        json={"project_id": project, "snapshot_id": snapshot},
        headers=owner,
        expect=(202,),
    )
    deadline = started + 900
    while time.perf_counter() < deadline:
        answer = call("GET", f"{api.url}/analyses/{created['id']}", headers=owner)
        if answer["status"] in ("completed", "failed", "cancelled"):
            seconds = time.perf_counter() - started
            if answer["status"] != "completed":
                raise RuntimeError(f"analysis {answer['status']}: {answer.get('error')}")
            return seconds, answer
        time.sleep(0.05)
    raise RuntimeError(f"analysis {created['id']} did not finish in 900 s")


@benchmark(
    "analysis",
    "POST /analyses -> completed of a 10,000-line repository (lines/s), first run vs cached re-run",
)
def analysis(bench: Bench) -> list[Result]:
    urls = backends(bench)
    orchestrator_server = orchestrator(bench, urls)
    (ab_tests,) = bench.shared(("ab_tests", {"VERSIONS_URL": urls["versions"].url}))
    env = {
        "PROJECTS_URL": urls["projects"].url,
        "PROJECT_FILES_URL": urls["project_files"].url,
        "VERSIONS_URL": urls["versions"].url,
        "AB_TESTS_URL": ab_tests.url,
        "ORCHESTRATOR_URL": orchestrator_server.url,
        "SERVICE_TOKEN": bench.identity.service_token(),
        # events are signed (shared/events.py): the API signs analysis.requested, the worker
        # checks it
        "EVENT_SIGNING_KEY": secrets.token_urlsafe(32),
    }
    worker = bench.spawn("analysis_worker", **env)
    owner = bench.identity.headers()
    lines = bench.options.analysis_lines
    firsts: list[float] = []
    seconds: list[float] = []
    notes: dict[str, Any] = {}
    try:
        with broker(worker.url) as sink:
            api = bench.spawn("analyses", **env, K_SINK=sink)
            for server in (worker, api):
                from tests.bench.harness import wait_ok

                wait_ok(server, "GET", "/health/startup")
            for run in range(bench.options.analysis_runs):
                files = corpus.salted(
                    corpus.repository(total_lines=lines, problems=0.15, seed=3),
                    f"{run}-{uuid.uuid4().hex}",
                )
                total = sum(text.count("\n") for text in files.values())
                project = new_project(bench, urls["projects"].url, owner)
                post_seconds(
                    urls["project_files"].port,
                    f"/projects/{project}/archive",
                    corpus.tar_gz(files),
                    {**owner, "Content-Type": "application/gzip"},
                )
                snapshot = call(
                    "POST",
                    f"{urls['project_files'].url}/projects/{project}/snapshots",
                    headers=owner,
                    expect=(201,),
                )["id"]
                first, done = run_analysis(api, owner, project, snapshot)
                again, cached = run_analysis(api, owner, project, snapshot)
                firsts.append(total / first)
                seconds.append(total / again)
                notes = {
                    "analysis": {
                        "lines": total,
                        "files": len(files),
                        "first_s": round(first, 2),
                        "rerun_s": round(again, 2),
                        "first_s_each_run": [round(total / f, 2) for f in firsts],
                        "findings": done["summary"],
                        "rerun_findings_total": cached["summary"]["total"],
                        "rerun_usage": cached["usage"],
                    }
                }
    finally:
        for server in list(bench.servers):
            if server.spec.target in ("analyses", "analysis_worker"):
                bench.stop(server)
    return [
        Result(
            "analysis",
            f"analysis throughput ({notes['analysis']['lines']:,} lines)",
            "lines/s",
            "first analysis",
            firsts,
            "same analysis re-run (cached)",
            seconds,
            higher_is_better=True,
            notes=notes,
        ),
    ]


# ---------------------------------------------------------------- orchestrator overhead


CODE = "def load(data):\n    result = eval(data)\n    password = 'hunter2'\n    return result\n"
FAKE_KEY = "sk-test-fake-openai"


@benchmark("orchestrator", "POST /review of one chunk via the fake OpenAI vs the same call direct")
def orchestrator_overhead(bench: Bench) -> list[Result]:
    from tests.fakes.openai_api import FakeOpenAI

    fake = FakeOpenAI(FAKE_KEY)
    fake.start()
    try:
        return _overhead(bench, fake)
    finally:
        fake.stop()


def _overhead(bench: Bench, fake: Any) -> list[Result]:
    urls = backends(bench)
    admin = bench.admin
    name = f"openai-{uuid.uuid4().hex[:8]}"
    call(
        "POST",
        f"{urls['providers'].url}/providers",
        headers=admin,
        expect=(201,),
        json={
            "name": name,
            "kind": "openai",
            "base_url": fake.base_url,
            "api_key_secret": "env://FAKE_OPENAI_API_KEY",
            "models": [
                {
                    "name": "gpt-4o-mini",
                    "input_usd_per_mtok": "0.15",
                    "output_usd_per_mtok": "0.6",
                    "context_window": 128000,
                }
            ],
        },
    )
    experiment = call(
        "POST",
        f"{urls['versions'].url}/experiments",
        headers=admin,
        expect=(201,),
        json={"name": f"exp-{uuid.uuid4().hex[:10]}"},
    )["id"]
    routing = {"candidates": [{"provider": name, "model": "gpt-4o-mini"}]}
    version = call(
        "POST",
        f"{urls['versions'].url}/experiments/{experiment}/versions",
        headers=admin,
        expect=(201,),
        json={"config": {"routing": routing}},
    )["id"]
    server = orchestrator(bench, urls, FAKE_OPENAI_API_KEY=FAKE_KEY)
    member = bench.identity.headers()
    body = {
        "project_id": new_project(bench, urls["projects"].url, member),
        "chunks": [
            {
                "id": "c1",
                "path": "app/loader.py",
                "content": "# request {uuid}\n" + CODE,
                "start_line": 10,
            }
        ],
        "config": {"version_id": version},
    }
    template = json.dumps(body)
    warm = call(
        "POST",
        f"{server.url}/review",
        headers=member,
        content=template.replace("{uuid}", uuid.uuid4().hex),
    )
    if warm["usage"]["provider"] != name or not warm["findings"]:
        raise RuntimeError(f"/review answered {warm}")
    sent = fake.calls("/v1/chat/completions")[-1].body  # what the provider client sends
    headers = {**member, "Content-Type": "application/json"}
    review = Target(
        "orchestrator POST /review", server.port, (Step("POST", "/review", headers, template),)
    )
    direct = Target(
        "fake OpenAI direct",
        fake.port,
        (
            Step(
                "POST",
                "/v1/chat/completions",
                {"Authorization": f"Bearer {FAKE_KEY}", "Content-Type": "application/json"},
                json.dumps(sent),
            ),
        ),
    )
    connections = bench.options.review_connections
    values, base = load_rounds(
        bench, [review, direct], duration=bench.options.service_duration, connections=connections
    )
    fake.reset()
    results = load_results(
        "orchestrator",
        f"POST /review (1 chunk, uncached, {connections} conns) vs direct",
        review,
        values,
        direct,
        base,
    )
    added = [v["p50_ms"] - b["p50_ms"] for v, b in zip(values, base, strict=True)]
    results[0].notes["added_p50_ms"] = {"per_round": [round(a, 2) for a in added]}
    return results


@benchmark(
    "local_review",
    "the local reviewer on one chunk deep in a file vs at its top; ruff's binary vs python -m "
    "ruff; detect-secrets through secret_scan vs its own scan_file",
)
def local_review(bench: Bench) -> list[Result]:
    """In-process: ``LocalProvider.review`` of the same 250-line chunk numbered from line 1
    and from line 8,001 (a chunk's cost must not grow with its place in the file), and one
    ruff run on it as the reviewer starts it beside ``python -m ruff``."""
    import asyncio
    import subprocess
    import sys

    from functions.ai_orchestrator import chunking, prompts
    from functions.ai_orchestrator.providers import local

    files = corpus.repository(total_lines=1_000, problems=0.15, seed=5)
    text = next(t for path, t in files.items() if path.endswith(".py") and t.count("\n") >= 200)
    lines = text.splitlines()[:250]
    top = chunking.from_hunks("bench.py", [(1, lines)], budget=10**6)[0]
    deep = chunking.from_hunks("bench.py", [(8_001, lines)], budget=10**6)[0]
    provider = local.LocalProvider()

    def review_ms(chunk: Any) -> float:
        started = time.perf_counter()
        asyncio.run(provider.review(chunk, prompts.DEFAULT))
        return (time.perf_counter() - started) * 1000

    arguments = ["check", "--no-cache", "--isolated", "--quiet", "--output-format=json"]
    arguments += ["--select", local.RUFF_SELECT, "--stdin-filename", "bench.py", "-"]
    source = ("\n" * 8_000 + "\n".join(lines) + "\n").encode()

    def ruff_ms(command: tuple[str, ...]) -> float:
        started = time.perf_counter()
        subprocess.run([*command, *arguments], input=source, capture_output=True, check=False)  # noqa: S603
        return (time.perf_counter() - started) * 1000

    review_ms(top)  # imports, bandit's plugins, detect-secrets' settings
    runs = max(10, bench.options.runs * 2)
    deep_ms, top_ms, binary_ms, module_ms = [], [], [], []
    for _ in range(runs):
        deep_ms.append(review_ms(deep))
        top_ms.append(review_ms(top))
        binary_ms.append(ruff_ms(local._ruff_command()))
        module_ms.append(ruff_ms((sys.executable, "-m", "ruff")))
    notes = {"chunk_lines": len(lines), "runs": runs, "ruff": " ".join(local._ruff_command())}
    return [
        Result(
            "local_review",
            "local review of a 250-line chunk",
            "ms",
            "chunk at line 8,001",
            deep_ms,
            "same chunk at line 1",
            top_ms,
            notes=notes,
        ),
        Result(
            "local_review",
            "one ruff run on that chunk",
            "ms",
            "ruff binary (as the reviewer runs it)",
            binary_ms,
            "python -m ruff",
            module_ms,
            notes=notes,
        ),
        _secret_scan(bench),
    ]


def _secret_scan(bench: Bench) -> Result:
    """detect-secrets over the generated 10,000-line repository (one file each), through
    ``secret_scan.Scanner`` and through the library's own ``scan_file``, interleaved."""
    import tempfile
    from pathlib import Path

    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    from functions.ai_orchestrator.providers import secret_scan

    files = corpus.repository(total_lines=10_000, problems=0.3, seed=1)
    with tempfile.TemporaryDirectory() as folder, default_settings():
        paths = []
        for index, (name, text) in enumerate(sorted(files.items())):
            path = Path(folder) / f"{index}-{Path(name).name}"
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        scanner = secret_scan.Scanner()

        def ours() -> float:
            started = time.perf_counter()
            for path in paths:
                scanner.scan_file(path)
            return (time.perf_counter() - started) * 1000

        def library() -> float:
            started = time.perf_counter()
            for path in paths:
                list(scan_file(path))
            return (time.perf_counter() - started) * 1000

        ours_ms, library_ms = interleave(max(3, bench.options.runs), ours, library)
    return Result(
        "local_review",
        f"detect-secrets over {sum(t.count(chr(10)) for t in files.values()):,} lines",
        "ms",
        "secret_scan.Scanner",
        ours_ms,
        "detect_secrets scan_file",
        library_ms,
        notes={"files": len(files)},
    )
