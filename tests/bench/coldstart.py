"""coldstart: every function's cold start as users feel it, beside hello (issue 12 goal 1).

For each of the twelve function targets (``localdev.discovery``), a fresh
``functions-framework`` process is spawned under the production settings
(``ENVIRONMENT=production`` and JSON logs; the database URL, the Redis URL, the event
signing key, auth's signing key, the quota signing key and the platform service account's
secret given as Secret Manager references, resolved against the in-process fake Secret
Manager of the tests, with the first admin and the platform client configured as
``knative/base`` configures auth; ``MIGRATE_ON_START=false`` as in
``knative/base/config.yaml``, the migrations applied before as the release Job does) and
timed:

* spawn -> the first ``200`` of ``GET /health/startup`` (what Knative's startup probe
  waits for before the activator lets the held request through), then
* spawn -> the answer to the function's first *real* request, sent right after: an
  authenticated call the function exists for (``POST /token``, ``GET /users/me``,
  ``GET /projects``, ``POST /review`` with the local reviewer, a signed CloudEvent, ...);
* RSS and PSS of the process tree (gunicorn master + uvicorn worker) once that request
  is answered.

hello (``tests/bench/hello``) is started the same way and answers every path, so its first
``200`` is both figures. Beside the twelve, ``stack_floor`` (also ``tests/bench/hello``) is
the floor of a first authenticated read with the platform's libraries: httpx, joserfc,
asyncpg, redis-py and pydantic, each imported and used once and nothing else. Each function
is shown against hello (the goal's ratio) and against that floor (what is the platform's
own). Subjects and hello run interleaved; the table shows medians.

Every process starts from a venv holding exactly its image's requirements (``harness.
image_venv``; hello from the shared library's, project-service's), as deployed: the
project's venv also holds the dev tools, and with them httpx imports its command line
(rich, pygments) and redis-py its OpenTelemetry metrics, ~40 ms and several MiB that no
image pays. ``--coldstart-venv dev`` starts them from the project's venv instead.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey

from shared import events, migrations
from tests.bench import analysis, providers
from tests.bench.harness import (
    ROOT,
    Bench,
    Result,
    benchmark,
    call,
    image_venv,
    interleave,
    wait_ok,
)
from tests.bench.projects import new_project
from tests.fakes.secret_manager import FakeSecretManager

SM_PROJECT = "acr-bench"
EVENT_KEY = uuid.uuid4().hex  # made per run
PLATFORM_CLIENT_ID = "bench-platform"
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
    accept: tuple[int, ...] = ()
    check: Callable[[Any], bool] = lambda answer: True


@contextmanager
def secret_manager(bench: Bench) -> Iterator[dict[str, str]]:
    """The fake Secret Manager holding the URLs and the event key; yields the env naming
    them by reference, as a deployment's manifests do."""
    values = {
        "database-url": bench.database_url,
        "redis-url": bench.redis_url,
        "event-signing-key": EVENT_KEY,
        "auth-signing-keys": ECKey.generate_key("P-256").as_pem(private=True).decode(),
        "quota-signing-key": secrets.token_urlsafe(32),
        "platform-client-secret": secrets.token_urlsafe(32),
    }
    fake = FakeSecretManager(
        {
            f"projects/{SM_PROJECT}/secrets/{name}/versions/latest": value
            for name, value in values.items()
        }
    ).start()
    try:
        yield {
            "GOOGLE_CLOUD_PROJECT": SM_PROJECT,
            "SECRET_MANAGER_EMULATOR_HOST": fake.address,
            "DATABASE_URL": "sm://database-url",
            "REDIS_URL": "sm://redis-url",
            "EVENT_SIGNING_KEY": "sm://event-signing-key",
            "AUTH_SIGNING_KEYS": "sm://auth-signing-keys",
            "QUOTA_SIGNING_KEY": "sm://quota-signing-key",
            "PLATFORM_CLIENT_ID": PLATFORM_CLIENT_ID,
            "PLATFORM_CLIENT_SECRET": "sm://platform-client-secret",  # pragma: allowlist secret
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


class World:
    """What the first requests need, started or made on first use only (so a run of a few
    targets starts only their backends): the long-running functions they call, a project,
    a quota rule, an admin's access token from auth-tokens."""

    def __init__(self, bench: Bench, references: dict[str, str]) -> None:
        self.bench = bench
        self.references = references
        self.owner = bench.identity.headers()

    @cached_property
    def urls(self) -> dict[str, str]:
        servers = analysis.backends(self.bench)
        env = {
            "PROJECTS_URL": servers["projects"].url,
            "PROJECT_FILES_URL": servers["project_files"].url,
            "VERSIONS_URL": servers["versions"].url,
        }
        (analyses,) = self.bench.shared(("analyses", env))
        return {**{k: s.url for k, s in servers.items()}, "analyses": analyses.url}

    @cached_property
    def services(self) -> dict[str, str]:
        """The env naming every function a subject may call, and a platform token."""
        return {
            **{f"{name.upper()}_URL": url for name, url in self.urls.items()},
            "SERVICE_TOKEN": self.bench.identity.service_token(),
        }

    @cached_property
    def project(self) -> str:
        (projects,) = self.bench.shared("projects")
        return new_project(self.bench, projects.url, self.owner)

    @cached_property
    def quota(self) -> dict[str, str]:
        return providers.quota_world(self.bench, self.urls["providers"], self.urls["quotas"])

    @cached_property
    def tokens(self) -> str:
        """auth-tokens signing with the subjects' key (auth-users verifies with it)."""
        (tokens,) = self.bench.shared(("auth_tokens", self.references))
        return tokens.url

    @cached_property
    def admin_bearer(self) -> dict[str, str]:
        login = call("POST", f"{self.tokens}/token", content=self.bench.token_form(), headers=FORM)
        return {"Authorization": f"Bearer {login['access_token']}"}


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
AS_JSON = {"Content-Type": "application/json"}


def _worker_probe(world: World) -> Probe:
    event: dict[str, tuple[dict[str, str], bytes]] = {}

    def headers() -> dict[str, str]:
        event["now"] = worker_event()
        return event["now"][0]

    return Probe(
        "analysis_worker",
        "signed CloudEvent POST /",
        "POST",
        "/",
        headers=headers,
        body=lambda: event["now"][1],
        check=lambda a: a.get("status") == "unknown",
    )


def _review(world: World) -> bytes:
    chunk = {"id": "c1", "path": "app/run.py", "language": "python", "content": CODE}
    return json.dumps({"project_id": world.project, "chunks": [chunk]}).encode()


def _comparison() -> bytes:
    ids = {"base_analysis_id": str(uuid.uuid4()), "head_analysis_id": str(uuid.uuid4())}
    return json.dumps(ids).encode()


PROBES: dict[str, Callable[[World], Probe]] = {
    "auth_tokens": lambda w: Probe(
        "auth_tokens",
        "POST /token",
        "POST",
        "/token",
        headers=lambda: FORM,
        body=w.bench.token_form,
        check=lambda a: bool(a.get("access_token")),
    ),
    "auth_users": lambda w: Probe(
        "auth_users",
        "GET /users/me",
        "GET",
        "/users/me",
        env={"JWKS_URL": f"{w.tokens}/.well-known/jwks.json"},
        headers=lambda: w.admin_bearer,
        check=lambda a: a.get("email") == w.bench.admin_email,
    ),
    "projects": lambda w: Probe(
        "projects",
        "GET /projects",
        "GET",
        "/projects",
        headers=lambda: w.owner,
        check=lambda a, project=w.project: project in {p["id"] for p in a["items"]},
    ),
    "project_files": lambda w: Probe(
        "project_files",
        "GET /projects/{id}/files",
        "GET",
        f"/projects/{w.project}/files",
        env=w.services,
        headers=lambda: w.owner,
        check=lambda a: a["items"] == [],
    ),
    "analyses": lambda w: Probe(
        "analyses",
        "GET /analyses?project_id=",
        "GET",
        f"/analyses?project_id={w.project}",
        env=w.services,
        headers=lambda: w.owner,
        check=lambda a: a["items"] == [],
    ),
    "analysis_worker": _worker_probe,
    "orchestrator": lambda w: Probe(
        "orchestrator",
        "POST /review (local reviewer)",
        "POST",
        "/review",
        env=w.services,
        headers=lambda: {**w.owner, **AS_JSON},
        body=lambda: _review(w),
        check=lambda a: (
            a["usage"]["provider"] == "local" and "bandit" in a["chunks"][0]["analyzers"]
        ),
    ),
    "versions": lambda w: Probe(
        "versions",
        "GET /resolve",
        "GET",
        "/resolve",
        headers=lambda: w.owner,
        check=lambda a: bool(a["version"]["id"]),
    ),
    "ab_tests": lambda w: Probe(
        "ab_tests",
        "GET /ab-tests",
        "GET",
        "/ab-tests",
        env=w.services,
        headers=lambda: w.owner,
        check=lambda a: "items" in a,
    ),
    # Two analyses to compare would need a whole review first; unknown ones still take the
    # full path (token, body, analyses asked over HTTP) to its 404 problem.
    "comparisons": lambda w: Probe(
        "comparisons",
        "POST /comparisons (unknown analyses: 404)",
        "POST",
        "/comparisons",
        env=w.services,
        headers=lambda: {**w.owner, **AS_JSON},
        body=_comparison,
        accept=(404,),
        check=lambda a: a.get("status") == 404,
    ),
    "providers": lambda w: Probe(
        "providers",
        "GET /providers",
        "GET",
        "/providers",
        headers=lambda: w.bench.admin,
        check=lambda a: "items" in a,
    ),
    # not a function: the floor of any first authenticated read with the platform's
    # libraries (tests/bench/hello), beside hello in the same run
    "stack_floor": lambda w: Probe(
        "stack_floor",
        "GET / (JWKS, JWT, query, Redis, model)",
        "GET",
        "/",
        env={
            "DATABASE_URL": w.bench.database_url,
            "REDIS_URL": w.bench.redis_url,
            "JWKS_URL": w.bench.identity.jwks_url,
        },
        headers=lambda: w.owner,
        check=lambda a: a.get("email") == "floor@example.com",
    ),
    "quotas": lambda w: Probe(
        "quotas",
        "POST /quotas/reserve",
        "POST",
        "/quotas/reserve",
        env={"PROJECTS_URL": w.urls["projects"]},
        headers=lambda: {"Authorization": w.quota["authorization"], **AS_JSON},
        body=lambda: w.quota["reserve"].encode(),
        check=lambda a: str(a.get("reservation_id", "")).startswith("r1."),
    ),
}


BASELINES = ("hello", "stack_floor")
"""tests/bench/hello's targets, started from the shared library's venv."""


def bin_dir(bench: Bench, target: str) -> Path | None:
    """Where ``target``'s process starts from: the venv of its image's requirements (the
    baselines: the shared library's, project-service's), or the project's venv
    (``--coldstart-venv dev``)."""
    if bench.options.coldstart_venv == "dev":
        return None
    source = bench.specs["projects" if target in BASELINES else target].source
    return image_venv(source.parent / "requirements.txt")


def first_answer(
    bench: Bench, probe: Probe, env: dict[str, str]
) -> tuple[float, float, float, float]:
    """One cold start of ``probe.target``: ms to /health/startup, ms to the first real
    answer, and RSS / PSS (MiB) of the tree after it."""
    server = bench.spawn(probe.target, bin_dir=bin_dir(bench, probe.target), **{**env, **probe.env})
    try:
        ready = wait_ok(server, "GET", "/health/startup")[0]
        answered, payload = wait_ok(
            server,
            probe.method,
            probe.path,
            headers=probe.headers(),
            body=probe.body(),
            accept=probe.accept,
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
    server = bench.spawn("hello", bin_dir=bin_dir(bench, "hello"), **env)
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
    with secret_manager(bench) as references:
        # as knative/base/config.yaml: a Job applies the migrations, not every cold start
        env = {**references, "ENVIRONMENT": "production", "MIGRATE_ON_START": "false"}
        world = World(bench, references)
        chosen = [make(world) for target, make in PROBES.items() if not wanted or target in wanted]
        services = sorted({bench.specs[probe.target].source.parent for probe in chosen})
        asyncio.run(migrations.migrate(bench.database_url, services))  # the Job's part
        for probe in chosen:  # make the world (projects, tokens) and venvs outside the timing
            probe.headers()
            probe.body()
            bin_dir(bench, probe.target)
        bin_dir(bench, "hello")
        if bench.options.warmup:  # page cache; the first admin and the platform account made
            hello_answer(bench, env)
            for probe in chosen:
                first_answer(bench, probe, env)
        measures = [lambda p=p: first_answer(bench, p, env) for p in chosen]
        hello, *subjects = interleave(
            bench.options.runs, lambda: hello_answer(bench, env), *measures
        )
    measured = dict(zip((p.target for p in chosen), subjects, strict=True))
    floor = measured.get("stack_floor")
    results = []
    for i, (metric, unit) in enumerate(METRICS):
        for probe, values in zip(chosen, subjects, strict=True):
            name = probe.target.replace("_", "-")
            label = metric if i != 1 else f"{metric} ({probe.label})"
            results.append(
                Result(
                    "coldstart",
                    label,
                    unit,
                    name,
                    [v[i] for v in values],
                    "hello",
                    [h[i] for h in hello],
                )
            )
            if floor is not None and probe.target != "stack_floor":
                # what the function costs beyond the libraries it uses (tests/bench/hello)
                results.append(
                    Result(
                        "coldstart",
                        f"{metric} vs the libraries' floor",
                        unit,
                        name,
                        [v[i] for v in values],
                        "stack-floor",
                        [f[i] for f in floor],
                    )
                )
    return results


# ---------------------------------------------------------------- the JSON log sink


_SINK = """
import io, logging, re, sys, time

def rss():  # current resident set, KiB
    return int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1))


import pydantic, starlette, httpx  # what every function has imported before its logs
started, before = time.perf_counter(), rss()
{setup}
log = logging.getLogger("bench")
log.propagate = False
log.addHandler(handler)
log.warning("hello %s", "world")
print((time.perf_counter() - started) * 1000)
print((rss() - before) / 1024)
"""
SINKS = {
    "google-cloud-logging StructuredLogHandler": (
        "from google.cloud.logging.handlers import StructuredLogHandler\n"
        "handler = StructuredLogHandler(stream=io.StringIO(), labels={'service': 's'})"
    ),
    "shared.logs.CloudLoggingFormatter": (
        "from shared import logs\n"
        "handler = logging.StreamHandler(io.StringIO())\n"
        "handler.setFormatter(logs.CloudLoggingFormatter(labels={'service': 's'}))"
    ),
}


def sink_cost(setup: str) -> tuple[float, float]:
    """ms and MiB of RSS a fresh interpreter spends importing and setting up the sink
    and writing one line (the same entry either way: tests/shared/test_logs.py)."""
    code = _SINK.format(setup=setup)
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    ms, mib = done.stdout.split()
    return float(ms), float(mib)


@benchmark("json_logs", "JSON log sink: google-cloud-logging's handler vs ours, import + 1 line")
def json_logs(bench: Bench) -> list[Result]:
    library, ours = interleave(
        bench.options.runs, *(lambda s=s: sink_cost(s) for s in SINKS.values())
    )
    names = list(SINKS)
    return [
        Result(
            "json_logs",
            metric,
            unit,
            names[1],
            [o[i] for o in ours],
            names[0],
            [lib[i] for lib in library],
        )
        for i, (metric, unit) in enumerate(
            [("import + set-up + one line", "ms"), ("added RSS", "MiB")]
        )
    ]
