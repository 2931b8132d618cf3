"""The OpenAI-compatible gateway beside LiteLLM's proxy, both in front of the same fake OpenAI.

LiteLLM (pinned with its dependencies and hashes in ``litellm-requirements.txt``) lives in a
venv of its own under ``.cache/bench/litellm`` (git-ignored), installed on first use and
again when the requirements file changes (a stamp holds its hash); the project's venv never
sees it. It runs as its README deploys it for a quick start: one worker, a master key, no
database, a config routing ``gpt-4o-mini`` to the fake. Ours runs as deployed for the chat
path: orchestrator, providers, quotas and projects as real processes, a member's token, a
project named by ``X-Project-ID`` (so the membership check runs), a user quota rule with
all three limits (every counter is checked and written) and the usage ledger.

Rounds are interleaved (ours, LiteLLM, ours, ...) at 1 connection (p50 latency) and at
``--gateway-connections`` (50) (throughput and p99). Each gateway's process tree is
pinned to CPU 0, the load generator to the others; the fake runs in this process. If
LiteLLM cannot be installed or started the part prints why and returns no rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localdev import discovery, local
from tests.bench.analysis import backends, orchestrator
from tests.bench.harness import (
    ROOT,
    Bench,
    InstallFailed,
    Result,
    Server,
    benchmark,
    call,
    http,
    load_results,
    load_rounds,
    pinned,
    stamped_venv,
)
from tests.bench.loadgen import Step, Target
from tests.bench.projects import new_project

REQUIREMENTS = Path(__file__).with_name("litellm-requirements.txt")
VENV = ROOT / ".cache" / "bench" / "litellm"
MODEL = "gpt-4o-mini"
FAKE_KEY = "sk-test-fake-openai"
BIG = 10**12  # a rule that never refuses: every counter is still checked and written


class Unavailable(Exception):
    """LiteLLM could not be installed or started (the message says why)."""


def ensure_installed(venv: Path | None = None, requirements: Path | None = None) -> Path:
    """The ``litellm`` executable of ``venv``, (re)installed when the requirements changed
    (defaults: ``VENV`` and ``REQUIREMENTS``, read at call time).

    Raises:
        Unavailable: the venv could not be made or pip refused the requirements.
    """
    venv = venv or VENV
    requirements = requirements or REQUIREMENTS
    executable = venv / "bin" / "litellm"
    python = venv / "bin" / "python"
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "-q", "--require-hashes", "-r", str(requirements)],
    ]
    try:
        stamped_venv(venv, requirements, steps, made=executable)
    except InstallFailed as e:
        raise Unavailable(str(e)) from None
    return executable


def litellm_config(fake_base_url: str, master_key: str) -> dict[str, Any]:
    """One model routed to the fake, a master key, no database (written as JSON: YAML 1.2)."""
    params = {"model": f"openai/{MODEL}", "api_base": fake_base_url, "api_key": FAKE_KEY}
    return {
        "model_list": [{"model_name": MODEL, "litellm_params": params}],
        "general_settings": {"master_key": master_key},
        "litellm_settings": {"telemetry": False},
    }


@contextlib.contextmanager
def running_litellm(
    bench: Bench, executable: Path, fake_base_url: str
) -> Iterator[tuple[Server, str]]:
    """LiteLLM's proxy on a free port, one worker, answering ``/health/liveliness``; and
    its master key.

    Raises:
        Unavailable: it exited or did not answer within 180 s.
    """
    master_key = f"sk-bench-{uuid.uuid4().hex}"
    config = bench.workdir / "litellm.json"
    config.write_text(json.dumps(litellm_config(fake_base_url, master_key)))
    port = local.free_port()
    log = bench.workdir / "litellm.log"
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price map at start
        "LITELLM_MASTER_KEY": master_key,
    }
    env.pop("DATABASE_URL", None)  # "no database": LiteLLM would use one if given
    command = [str(executable), "--config", str(config), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--num_workers", "1"]
    spec = discovery.FunctionSpec("litellm", "litellm", "http", port, config)
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink, cwd=bench.workdir)  # noqa: S603
    server = Server(spec, process, log, time.perf_counter())
    try:
        deadline = time.perf_counter() + 180
        while True:
            if process.poll() is not None:
                raise Unavailable(f"LiteLLM exited: {server.output()[-600:]}")
            with contextlib.suppress(OSError):
                if http(port, "GET", "/health/liveliness", timeout=5)[0] == 200:
                    break
            if time.perf_counter() > deadline:
                raise Unavailable("LiteLLM did not answer /health/liveliness within 180 s")
            time.sleep(0.2)
        yield server, master_key
    finally:
        local.stop([process], timeout=20)


def chat_body(model: str) -> str:
    """The same small completion for both (``{uuid}``: a new prompt per request)."""
    messages = [{"role": "user", "content": "Say hello to request {uuid}."}]
    return json.dumps({"model": model, "messages": messages, "max_tokens": 64})


def our_gateway(bench: Bench, fake_base_url: str) -> tuple[Server, list[Server], dict[str, str]]:
    """The orchestrator (and the functions its chat path calls) with a provider pointing at
    the fake, a user rule, and a member's project; the member's request headers."""
    urls = backends(bench)
    admin = bench.admin
    name = f"openai-{uuid.uuid4().hex[:8]}"
    model = {
        "name": MODEL,
        "input_usd_per_mtok": "0.15",
        "output_usd_per_mtok": "0.6",
        "context_window": 128000,
    }
    provider = {
        "name": name,
        "kind": "openai",
        "base_url": fake_base_url,
        "api_key_secret": "env://FAKE_OPENAI_API_KEY",
        "models": [model],
    }
    call("POST", f"{urls['providers'].url}/providers", headers=admin, expect=(201,), json=provider)
    user = str(uuid.uuid4())
    rule = {
        "requests_per_minute": 10_000_000,
        "tokens_per_day": BIG,
        "cost_usd_per_month": "1000000",
    }
    call("PUT", f"{urls['quotas'].url}/quotas/user/{user}", json=rule, headers=admin)
    member = bench.identity.headers(user)
    project = new_project(bench, urls["projects"].url, member)
    server = orchestrator(bench, urls, FAKE_OPENAI_API_KEY=FAKE_KEY)
    headers = {**member, "X-Project-ID": project, "Content-Type": "application/json"}
    headers["X-Bench-Model"] = f"{name}/{MODEL}"
    return server, [server, urls["quotas"], urls["projects"], urls["providers"]], headers


def check_answers(port: int, headers: dict[str, str], body: str, who: str) -> None:
    """One request before the rounds: a ``chat.completion`` with usage, or the part fails."""
    payload = body.replace("{uuid}", uuid.uuid4().hex).encode()
    status, answer = http(port, "POST", "/v1/chat/completions", headers=headers, body=payload)
    parsed = json.loads(answer or b"null") if status == 200 else None
    if not isinstance(parsed, dict) or parsed.get("object") != "chat.completion":
        raise RuntimeError(f"{who} answered {status}: {answer[:500]!r}")


@benchmark("litellm", "POST /v1/chat/completions: our gateway vs LiteLLM's proxy, same fake")
def litellm(bench: Bench) -> list[Result]:
    from tests.fakes.openai_api import FakeOpenAI

    try:
        executable = ensure_installed()
    except Unavailable as e:
        print(f"  litellm: not measured: {e}", flush=True)
        return []
    fake = FakeOpenAI(FAKE_KEY)
    fake.start()
    try:
        with running_litellm(bench, executable, fake.base_url) as (proxy, master_key):
            return _measure(bench, fake, proxy, master_key)
    except Unavailable as e:
        print(f"  litellm: not measured: {e}", flush=True)
        return []
    finally:
        fake.stop()


def _measure(bench: Bench, fake: Any, proxy: Server, master: str) -> list[Result]:
    server, ours_tree, headers = our_gateway(bench, fake.base_url)
    model = headers.pop("X-Bench-Model")
    ours_body = chat_body(model)
    theirs_headers = {"Authorization": f"Bearer {master}", "Content-Type": "application/json"}
    theirs_body = chat_body(MODEL)
    check_answers(server.port, headers, ours_body, "our gateway")
    check_answers(proxy.port, theirs_headers, theirs_body, "LiteLLM")
    path = "/v1/chat/completions"
    ours = Target("our gateway", server.port, (Step("POST", path, headers, ours_body),))
    theirs = Target("LiteLLM proxy", proxy.port, (Step("POST", path, theirs_headers, theirs_body),))
    duration = bench.options.service_duration
    many = bench.options.gateway_connections
    results = []
    with pinned(*ours_tree[:2], proxy):
        for connections in (1, many):
            values, base = load_rounds(
                bench, [ours, theirs], duration=duration, connections=connections
            )
            fake.reset()
            results += load_results(
                "litellm",
                f"chat completion, {connections} conn{'s' if connections > 1 else ''}, vs LiteLLM",
                ours,
                values,
                theirs,
                base,
            )
    return results
