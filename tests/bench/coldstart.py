"""coldstart: every function's cold start as users feel it, beside hello (issue 12 goal 1).

For each of the twelve function targets (``localdev.discovery``), a fresh
``functions-framework`` process is spawned under the production settings (JSON logs, the
database URL, the Redis URL and the event signing key given as Secret Manager references,
resolved against the in-process fake Secret Manager of the tests) and timed:

* spawn -> the first ``200`` of ``GET /health/startup`` (what Knative's startup probe
  waits for before the activator lets the held request through), then
* spawn -> the answer to the function's first *real* request, sent right after: an
  authenticated call the function exists for (``POST /token``, ``GET /users/me``,
  ``GET /projects``, ``POST /review`` with the local reviewer, a signed CloudEvent, ...);
* RSS and PSS of the process tree (gunicorn master + uvicorn worker) once that request
  is answered.

hello (``tests/bench/hello``) is started the same way and answers every path, so its first
``200`` is both figures. Subjects and hello run interleaved; the table shows medians.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from shared import events
from tests.bench import analysis, providers
from tests.bench.harness import Bench, Result, benchmark, call, interleave, wait_ok
from tests.bench.projects import new_project
from tests.fakes.secret_manager import FakeSecretManager

SECRETS_PROJECT = "acr-bench"
EVENT_KEY = "bench-event-signing-key-" + uuid.uuid4().hex
CODE = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"


@dataclass
class Probe:
    """A function's first real request: env of its process, and the request to send."""

    target: str
    label: str
    method: str
    path: str
    env: dict[str, str] = field(default_factory=dict)
    headers: Callable[[], dict[str, str]] = dict
    body: Callable[[], bytes] = bytes
    check: Callable[[Any], bool] = lambda answer: True


@contextmanager
def secret_manager(bench: Bench) -> Iterator[dict[str, str]]:
    """The fake Secret Manager holding the URLs and the event key; yields the env naming
    them by reference, as a deployment's manifests do."""
    values = {
        "database-url": bench.database_url,
        "redis-url": bench.redis_url,
        "event-signing-key": EVENT_KEY,
    }
    fake = FakeSecretManager(
        {
            f"projects/{SECRETS_PROJECT}/secrets/{name}/versions/latest": value
            for name, value in values.items()
        }
    ).start()
    try:
        yield {
            "GOOGLE_CLOUD_PROJECT": SECRETS_PROJECT,
            "SECRET_MANAGER_EMULATOR_HOST": fake.address,
            "DATABASE_URL": "sm://database-url",
            "REDIS_URL": "sm://redis-url",
            "EVENT_SIGNING_KEY": "sm://event-signing-key",
        }
    finally:
        fake.stop()


def worker_event() -> tuple[dict[str, str], bytes]:
    """A signed ``analysis.requested`` CloudEvent (binary mode) for an analysis no one
    queued: verified, checked against replays and the job table, then acknowledged."""
    data = {"analysis_id": str(uuid.uuid4())}
    attributes = events.signed(
        {"id": uuid.uuid4().hex, "type": analysis.REQUESTED, "source": "/bench/coldstart"},
        data,
        EVENT_KEY.encode(),
    )
    headers = {f"ce-{k}": str(v) for k, v in attributes.items()}
    headers.update(
        {
            "ce-specversion": "1.0",
            "Content-Type": "application/json",
            "Host": events.cluster_local_host("analysis-worker"),
        }
    )
    return headers, json.dumps(data).encode()


def probes(bench: Bench) -> list[Probe]:
    """The twelve first requests, and the long-running processes they lean on."""
    urls = analysis.backends(bench)
    tokens, analyses = bench.shared(
        "auth_tokens",
        (
            "analyses",
            {
                "PROJECTS_URL": urls["projects"].url,
                "PROJECT_FILES_URL": urls["project_files"].url,
                "VERSIONS_URL": urls["versions"].url,
            },
        ),
    )
    owner = bench.identity.headers()
    project = new_project(bench, urls["projects"].url, owner)
    world = providers.quota_world(bench, urls["providers"].url, urls["quotas"].url)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    login = call("POST", f"{tokens.url}/token", content=bench.token_form(), headers=form)
    admin_bearer = {"Authorization": f"Bearer {login['access_token']}"}
    as_json = {"Content-Type": "application/json"}
    review = {
        "project_id": project,
        "chunks": [{"id": "c1", "path": "app/run.py", "language": "python", "content": CODE}],
    }
    services = {
        "PROJECTS_URL": urls["projects"].url,
        "PROJECT_FILES_URL": urls["project_files"].url,
        "VERSIONS_URL": urls["versions"].url,
        "PROVIDERS_URL": urls["providers"].url,
        "QUOTAS_URL": urls["quotas"].url,
        "ANALYSES_URL": analyses.url,
        "SERVICE_TOKEN": bench.identity.service_token(),
    }
    event: dict[str, tuple[dict[str, str], bytes]] = {}

    def next_event_headers() -> dict[str, str]:
        event["now"] = worker_event()
        return event["now"][0]

    return [
        Probe(
            "auth_tokens",
            "POST /token",
            "POST",
            "/token",
            headers=lambda: form,
            body=bench.token_form,
            check=lambda a: bool(a.get("access_token")),
        ),
        Probe(
            "auth_users",
            "GET /users/me",
            "GET",
            "/users/me",
            env={"JWKS_URL": f"{tokens.url}/.well-known/jwks.json"},
            headers=lambda: admin_bearer,
            check=lambda a: a.get("email") == bench.admin_email,
        ),
        Probe(
            "projects",
            "GET /projects",
            "GET",
            "/projects",
            headers=lambda: owner,
            check=lambda a: project in {p["id"] for p in a["items"]},
        ),
        Probe(
            "project_files",
            "GET /projects/{id}/files",
            "GET",
            f"/projects/{project}/files",
            env=services,
            headers=lambda: owner,
            check=lambda a: a["items"] == [],
        ),
        Probe(
            "analyses",
            "GET /analyses?project_id=",
            "GET",
            f"/analyses?project_id={project}",
            env=services,
            headers=lambda: owner,
            check=lambda a: a["items"] == [],
        ),
        Probe(
            "analysis_worker",
            "signed CloudEvent POST /",
            "POST",
            "/",
            env=services,
            headers=next_event_headers,
            body=lambda: event["now"][1],
            check=lambda a: (
                a.get("status") in ("ignored", "skipped", "unknown", "acked") or "analysis_id" in a
            ),
        ),
        Probe(
            "orchestrator",
            "POST /review (local reviewer)",
            "POST",
            "/review",
            env=services,
            headers=lambda: {**owner, **as_json},
            body=lambda: json.dumps(review).encode(),
            check=lambda a: (
                a["usage"]["provider"] == "local" and "bandit" in a["chunks"][0]["analyzers"]
            ),
        ),
        Probe(
            "versions",
            "GET /resolve",
            "GET",
            "/resolve",
            headers=lambda: owner,
            check=lambda a: bool(a["version"]["id"]),
        ),
        Probe(
            "ab_tests",
            "GET /ab-tests",
            "GET",
            "/ab-tests",
            env=services,
            headers=lambda: owner,
            check=lambda a: "items" in a,
        ),
        Probe(
            "comparisons",
            "POST /comparisons (unknown analyses: 404)",
            "POST",
            "/comparisons",
            env=services,
            headers=lambda: {**owner, **as_json},
            body=lambda: json.dumps(
                {"base_analysis_id": str(uuid.uuid4()), "head_analysis_id": str(uuid.uuid4())}
            ).encode(),
            check=lambda a: a.get("status") == 404,
        ),
        Probe(
            "providers",
            "GET /providers",
            "GET",
            "/providers",
            headers=lambda: bench.admin,
            check=lambda a: len(a["items"]) >= 1,
        ),
        Probe(
            "quotas",
            "POST /quotas/reserve",
            "POST",
            "/quotas/reserve",
            env={"PROJECTS_URL": urls["projects"].url},
            headers=lambda: {"Authorization": world["authorization"], **as_json},
            body=lambda: world["reserve"].encode(),
            check=lambda a: str(a.get("reservation_id", "")).startswith("r1."),
        ),
    ]


def first_answer(
    bench: Bench, probe: Probe, env: dict[str, str]
) -> tuple[float, float, float, float]:
    """One cold start of ``probe.target``: ms to /health/startup, ms to the first real
    answer, and RSS / PSS (MiB) of the tree after it."""
    server = bench.spawn(probe.target, **env, **probe.env)
    try:
        ready = wait_ok(server, "GET", "/health/startup")[0]
        expect_404 = probe.target == "comparisons"
        answered, payload = wait_ok(
            server,
            probe.method,
            probe.path,
            headers=probe.headers(),
            body=probe.body(),
            accept=(404,) if expect_404 else (),
        )
        answer = json.loads(payload) if payload else {}
        if not probe.check(answer):
            raise RuntimeError(f"{probe.target} {probe.label} answered {str(answer)[:2000]}")
        time.sleep(0.3)  # let the worker finish logging and freeing the request
        rss, pss = server.memory()
        return ready, answered, rss, pss
    finally:
        bench.stop(server)


def hello_answer(bench: Bench, env: dict[str, str]) -> tuple[float, float, float, float]:
    server = bench.spawn("hello", **env)
    try:
        first = wait_ok(server, "GET", "/health/startup")[0]
        time.sleep(0.3)
        rss, pss = server.memory()
        return first, first, rss, pss
    finally:
        bench.stop(server)


METRICS = [
    ("spawn -> 200 /health/startup", "ms"),
    ("spawn -> first real answer", "ms"),
    ("RSS of the tree", "MiB"),
    ("PSS of the tree", "MiB"),
]


@benchmark("coldstart", "each function: spawn -> /health/startup, -> first real answer, RSS/PSS")
def coldstart(bench: Bench) -> list[Result]:
    wanted = {t.strip() for t in bench.options.coldstart_targets.split(",") if t.strip()}
    with secret_manager(bench) as env:
        chosen = [p for p in probes(bench) if not wanted or p.target in wanted]
        if bench.options.warmup:  # page cache, migrations, bootstrap admin, dev signing key
            hello_answer(bench, env)
            for probe in chosen:
                first_answer(bench, probe, env)
        measures = [lambda p=p: first_answer(bench, p, env) for p in chosen]
        hello, *subjects = interleave(
            bench.options.runs, lambda: hello_answer(bench, env), *measures
        )
    results = []
    for i, (metric, unit) in enumerate(METRICS):
        for probe, values in zip(chosen, subjects, strict=True):
            name = probe.target.replace("_", "-")
            results.append(
                Result(
                    "coldstart",
                    metric if i != 1 else f"{metric} ({probe.label})",
                    unit,
                    name,
                    [v[i] for v in values],
                    "hello",
                    [h[i] for h in hello],
                )
            )
    return results
