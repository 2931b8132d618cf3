"""A real code review, end to end, through every function as a real process behind the
gateway: register, log in, upload an archive with known problems, snapshot, analyze with
the offline ``local`` reviewer and with a fake OpenAI provider, read findings at their
lines, export SARIF, give feedback, re-run from cache at zero tokens; then A/B-test two
reviewer versions on feedback, promote the winner, and see the next analysis use it."""

from __future__ import annotations

import io
import json
import random
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import pytest_asyncio

from tests.e2e import _platform
from tests.fakes.openai_api import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif-2.1.0.json").read_text())

# A small repository with known problems, and where they are.
REPOSITORY = {
    "app/db.py": (
        "import subprocess\n"
        "\n"
        "\n"
        "def run(command):\n"
        "    return subprocess.call(command, shell=True)\n"
        "\n"
        "\n"
        "def connect():\n"
        '    password = "hunter2-but-longer"\n'
        "    return password\n"
    ),
    # Request data reaches a shell in a helper ~1,600 lines above the route: the worker
    # cuts the file into several chunks and the taint engine still follows the flow.
    "app/views.py": (
        "import subprocess\n"
        "from flask import Flask, request\n"
        "\n"
        "app = Flask(__name__)\n"
        "\n"
        "\n"
        "def run(command):\n"
        "    return subprocess.call(command, shell=True)\n"
        + "".join(f"\n\ndef helper_{n}(value):\n    return value + {n}\n" for n in range(400))
        + "\n\n@app.route('/ping')\ndef ping():\n"
        "    host = request.args.get('host', '')\n"
        "    return run('ping -c 1 ' + host)\n"
    ),
    # Python 3.12-3.14 syntax, which the platform's 3.11 cannot parse: bandit's checks run
    # through ruff, and the file is fully reviewed.
    "app/modern.py": (
        "type Pair[T] = tuple[T, T]\n"
        "\n"
        "\n"
        "def token[T](value: T) -> str:\n"
        '    password = "correct-horse-battery"\n'
        '    return f"{"token"}:{value}:{password}"\n'
    ),
    "web/app.js": "function run(input) {\n  return eval(input);\n}\n",
    "README.md": "# demo\n",
}
VIEWS_SOURCE_LINE = (
    REPOSITORY["app/views.py"].splitlines().index("    host = request.args.get('host', '')") + 1
)
# app/db.py's shell=True runs a parameter no input reaches: by default not a finding.
STATIC_EXPECTED = {
    ("app/views.py", 8, "taint:command-injection"),
    ("app/modern.py", 5, "bandit:B105"),
    ("web/app.js", 2, "js-eval"),
}
AI_EXPECTED = {("app/db.py", 9, "hardcoded-password"), ("web/app.js", 2, "eval-call")}
MODEL = "gpt-4o-mini"


@pytest.fixture(scope="module")
def platform(
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    _openai_server: FakeOpenAI,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[_platform.Platform]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{redis_prefix}e2e:",
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
        "DEFAULT_EXPERIMENT": f"e2e-{uuid.uuid4().hex[:8]}",
        "FAKE_OPENAI_API_KEY": _openai_server.api_key,
    }
    running, front = _platform.start(env, tmp_path_factory.mktemp("platform"))
    yield running
    _platform.stop(running, front)


@pytest_asyncio.fixture
async def http(platform: _platform.Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.url, timeout=60) as client:
        yield client


async def _login(http: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    answer = await http.post(
        "/token", data={"grant_type": "password", "username": email, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _new_user(http: httpx.AsyncClient) -> dict[str, str]:
    email, password = f"dev-{uuid.uuid4().hex[:8]}@example.com", "a long passphrase 42"
    created = await http.post("/users", json={"email": email, "password": password})
    assert created.status_code == 202, created.text
    return await _login(http, email, password)


def _archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in REPOSITORY.items():
            archive.writestr(path, text)
    return buffer.getvalue()


async def _project_with_snapshot(http: httpx.AsyncClient, user: dict[str, str]) -> tuple[str, str]:
    project = await http.post("/projects", json={"name": "demo"}, headers=user)
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    uploaded = await http.post(
        f"/projects/{project_id}/archive",
        content=_archive(),
        headers={**user, "Content-Type": "application/zip"},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["added"] == len(REPOSITORY), uploaded.json()
    snapshot = await http.post(f"/projects/{project_id}/snapshots", headers=user)
    assert snapshot.status_code in (200, 201), snapshot.text
    return project_id, snapshot.json()["id"]


async def _analyze(
    http: httpx.AsyncClient, user: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    requested = await http.post(
        "/analyses", json=body, headers={**user, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert requested.status_code == 202, requested.text
    analysis_id = requested.json()["id"]

    async def finished() -> dict[str, Any] | None:
        current = (await http.get(f"/analyses/{analysis_id}", headers=user)).json()
        return current if current["status"] in ("completed", "failed", "cancelled") else None

    done: dict[str, Any] = await _platform.wait_until(finished, timeout=90)
    assert done["status"] == "completed", done
    return done


async def _findings(http: httpx.AsyncClient, user: dict[str, str], analysis_id: str) -> list[Any]:
    answer = await http.get(
        f"/analyses/{analysis_id}/findings", params={"limit": 200}, headers=user
    )
    assert answer.status_code == 200, answer.text
    items: list[Any] = answer.json()["items"]
    return items


def _located(findings: list[Any]) -> set[tuple[str, int, str]]:
    return {(f["path"], f["line"], f["rule"]) for f in findings}


def _has(findings: list[Any], expected: set[tuple[str, int, str]]) -> bool:
    found = _located(findings)
    return all(
        any(p == fp and ln == fl and r in fr for fp, fl, fr in found) for p, ln, r in expected
    )


async def _admin(http: httpx.AsyncClient, platform: _platform.Platform) -> dict[str, str]:
    return await _login(http, platform.admin_email, platform.admin_password)


async def _version(
    http: httpx.AsyncClient, admin: dict[str, str], experiment_id: str, config: dict[str, Any]
) -> str:
    answer = await http.post(
        f"/experiments/{experiment_id}/versions", json={"config": config}, headers=admin
    )
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["id"])


async def test_a_review_runs_end_to_end_with_the_local_and_an_openai_reviewer(
    platform: _platform.Platform, http: httpx.AsyncClient, _openai_server: FakeOpenAI
) -> None:
    fake = _openai_server
    user = await _new_user(http)
    admin = await _admin(http, platform)
    project_id, snapshot_id = await _project_with_snapshot(http, user)

    local_run = await _analyze(http, user, {"project_id": project_id, "snapshot_id": snapshot_id})
    local_findings = await _findings(http, user, local_run["id"])
    assert _has(local_findings, STATIC_EXPECTED), _located(local_findings)
    assert all(f["source"] == "static" for f in local_findings), local_findings
    assert all(f["end_line"] >= f["line"] for f in local_findings), local_findings
    assert local_run["usage"]["input_tokens"] == 0 and local_run["coverage"], local_run
    assert not any(f["path"] == "app/db.py" and f["line"] == 5 for f in local_findings)
    files = {entry["path"]: entry for entry in local_run["coverage"]["files"]}
    assert files["app/modern.py"]["status"] == "reviewed", files["app/modern.py"]
    assert "bandit:ruff" in local_run["coverage"]["analyzers"], local_run["coverage"]
    [injection] = [f for f in local_findings if f["rule"] == "taint:command-injection"]
    assert (injection["cwe"], injection["owasp"]) == ("CWE-78", "A03:2021-Injection")
    assert [s["line"] for s in injection["trace"]][:: len(injection["trace"]) - 1] == [
        VIEWS_SOURCE_LINE,
        8,
    ], injection["trace"]
    local_sarif = (await http.get(f"/analyses/{local_run['id']}/sarif", headers=user)).json()
    jsonschema.validate(local_sarif, SARIF_SCHEMA)
    assert [t["id"] for t in local_sarif["runs"][0]["taxonomies"][0]["taxa"]] == ["78", "259"]
    [flagged] = [
        r for r in local_sarif["runs"][0]["results"] if r["ruleId"] == "taint:command-injection"
    ]
    flow = flagged["codeFlows"][0]["threadFlows"][0]["locations"]
    assert flow[0]["location"]["physicalLocation"]["region"]["startLine"] == VIEWS_SOURCE_LINE
    assert flow[-1]["location"]["physicalLocation"]["region"]["startLine"] == 8

    provider = await http.post(
        "/providers",
        json={
            "name": f"fake-openai-{uuid.uuid4().hex[:6]}",
            "kind": "openai",
            "base_url": fake.base_url,
            "api_key_secret": "env://FAKE_OPENAI_API_KEY",
            "models": [
                {
                    "name": MODEL,
                    "input_usd_per_mtok": "2.5",
                    "output_usd_per_mtok": "10",
                    "context_window": 128000,
                }
            ],
        },
        headers=admin,
    )
    assert provider.status_code == 201, provider.text
    resolved = (await http.get("/resolve", headers=admin)).json()
    ai_version = await _version(
        http,
        admin,
        resolved["experiment_id"],
        {
            "routing": {"candidates": [{"provider": provider.json()["name"], "model": MODEL}]},
            "analyzers": [],
        },
    )
    body = {
        "project_id": project_id,
        "snapshot_id": snapshot_id,
        "config": {"version_id": ai_version},
    }
    calls_before = len(fake.calls("/v1/chat/completions"))
    ai_run = await _analyze(http, user, body)
    ai_findings = await _findings(http, user, ai_run["id"])
    assert _has(ai_findings, AI_EXPECTED), _located(ai_findings)
    assert all(f["source"] == "ai" and f["config_version_id"] == ai_version for f in ai_findings)
    assert ai_run["config_version_id"] == ai_version, ai_run
    assert ai_run["usage"]["input_tokens"] > 0 and float(ai_run["usage"]["cost_usd"]) > 0, ai_run
    assert len(fake.calls("/v1/chat/completions")) > calls_before

    sarif = await http.get(f"/analyses/{ai_run['id']}/sarif", headers=user)
    log = sarif.json()
    jsonschema.validate(log, SARIF_SCHEMA)
    assert len(log["runs"][0]["results"]) == len(ai_findings)
    assert all(r["partialFingerprints"] for r in log["runs"][0]["results"])

    dismissed = next(f for f in ai_findings if f["rule"] == "hardcoded-password")
    feedback = await http.post(
        f"/findings/{dismissed['id']}/feedback", json={"verdict": "false_positive"}, headers=user
    )
    assert feedback.status_code == 200, feedback.text

    calls_before = len(fake.calls("/v1/chat/completions"))
    rerun = await _analyze(http, user, body)
    assert rerun["usage"]["input_tokens"] == 0 and rerun["usage"]["output_tokens"] == 0, rerun
    assert len(fake.calls("/v1/chat/completions")) == calls_before, "every chunk came from cache"
    again = {f["fingerprint"]: f for f in await _findings(http, user, rerun["id"])}
    assert dismissed["fingerprint"] not in again or again[dismissed["fingerprint"]]["suppressed"]
    assert again and all(f["repeated"] for f in again.values()), again

    compared = await http.post(
        "/comparisons",
        json={"base_analysis_id": ai_run["id"], "head_analysis_id": rerun["id"]},
        headers=user,
    )
    assert compared.status_code == 200, compared.text
    assert compared.json()["new"] == [], compared.json()


async def test_an_ab_test_on_feedback_promotes_the_winner_and_the_next_analysis_uses_it(
    platform: _platform.Platform, http: httpx.AsyncClient
) -> None:
    user = await _new_user(http)
    admin = await _admin(http, platform)
    experiment_id = (await http.get("/resolve", headers=admin)).json()["experiment_id"]
    control = await _version(http, admin, experiment_id, {"severity_threshold": "low"})
    candidate = await _version(http, admin, experiment_id, {"severity_threshold": "info"})
    created = await http.post(
        "/ab-tests",
        json={
            "name": f"threshold-{uuid.uuid4().hex[:6]}",
            "experiment_id": experiment_id,
            "variants": [
                {"name": "control", "version_id": control, "weight": 1},
                {"name": "candidate", "version_id": candidate, "weight": 1},
            ],
            "primary_metric": "acceptance_rate",
            "min_samples": 30,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    test_id = created.json()["id"]
    assert (await http.post(f"/ab-tests/{test_id}/start", headers=admin)).status_code == 200

    # A real analysis of a project in the running test uses its variant and is tagged.
    project_id, snapshot_id = await _project_with_snapshot(http, user)
    tagged = await _analyze(http, user, {"project_id": project_id, "snapshot_id": snapshot_id})
    assert tagged["ab_test_id"] == test_id, tagged
    assert (
        tagged["config_version_id"]
        == {"control": control, "candidate": candidate}[tagged["variant"]]
    )

    # Its completion event reached ab-tests through the Broker, at the cluster-local
    # address; the same route is not reachable through the public gateway.
    async def counted() -> dict[str, Any] | None:
        results = (await http.get(f"/ab-tests/{test_id}/results", headers=admin)).json()
        mine = next(v for v in results["variants"] if v["name"] == tagged["variant"])
        return mine if mine["counts"]["analyses"] == 1 else None

    await _platform.wait_until(counted, timeout=30)
    outside = await http.post(
        "/ab-tests/events",
        json={
            "specversion": "1.0",
            "id": "x",
            "source": "/evil",
            "type": "dev.acr.finding.feedback",
        },
        headers={"content-type": "application/cloudevents+json"},
    )
    assert outside.status_code == 404, outside.text

    # Simulated reviewers: the candidate's findings are accepted more often (60% vs 35%).
    rates, rng = {"control": 0.35, "candidate": 0.6}, random.Random(7)
    for unit in range(240):
        found = await http.get(
            f"/ab-tests/{test_id}/assign", params={"unit": f"project-{unit}"}, headers=admin
        )
        variant = found.json()["variant"]
        accepted = sum(rng.random() < rates[variant] for _ in range(4))
        posted = await http.post(
            f"/ab-tests/{test_id}/outcomes",
            json={
                "unit": f"project-{unit}",
                "variant": variant,
                "metrics": {"accepted": accepted, "dismissed": 4 - accepted},
            },
            headers=admin,
        )
        assert posted.status_code == 201, posted.text
    results = (await http.get(f"/ab-tests/{test_id}/results", headers=admin)).json()
    assert (results["decision"], results["winner"]) == ("winner", "candidate"), results

    assert (await http.post(f"/ab-tests/{test_id}/stop", headers=admin)).status_code == 200
    promoted = await http.post(f"/ab-tests/{test_id}/promote", json={}, headers=admin)
    assert promoted.status_code == 200, promoted.text
    history = await http.get(
        f"/experiments/{experiment_id}/aliases/production/history", headers=admin
    )
    latest = history.json()["items"][0]
    assert latest["to_version_id"] == candidate and "won" in latest["reason"], latest

    after = await _analyze(http, user, {"project_id": project_id, "snapshot_id": snapshot_id})
    assert after["config_version_id"] == candidate, after
    assert after["ab_test_id"] is None, "a stopped test assigns nobody"
