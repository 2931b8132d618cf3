"""Progressive, reversible releases: the order of cloudbuild/deploy.yaml's gates and traffic
steps, and what cloudbuild/scripts/release.sh would do to the cluster, read from its dry
run (kubectl and gcloud are traps that record any call)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

from tests.deploy import _repo
from tests.deploy._repo import CLOUDBUILD, NAMESPACE, ROOT

RELEASE = CLOUDBUILD / "scripts" / "release.sh"
SERVICES = sorted(p.stem for p in _repo.knative_services())
TRAP = '#!/bin/sh\necho "$0 $*" >> "{log}"\nexit 97\n'


def _dry(tmp_path: Path, *args: str, **env: str) -> tuple[list[list[str]], str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    log.write_text("")
    for tool in ("kubectl", "gcloud", "kn"):
        (bin_dir / tool).write_text(TRAP.format(log=log))
        (bin_dir / tool).chmod(0o755)
    done = subprocess.run(
        [str(RELEASE), *args],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "DRY_RUN": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert log.read_text() == "", f"The dry run called: {log.read_text()}"
    commands = [
        shlex.split(line[2:], comments=True)
        for line in done.stdout.splitlines()
        if line.startswith("+ ")
    ]
    return commands, done.stdout


def _traffic(commands: list[list[str]]) -> dict[str, list[list[dict[str, Any]]]]:
    """Every traffic patch, per Knative Service, in order."""
    patches: dict[str, list[list[dict[str, Any]]]] = {}
    for c in commands:
        if c[:5] == ["kubectl", "-n", NAMESPACE, "patch", "ksvc"]:
            body = json.loads(c[c.index("-p") + 1])
            patches.setdefault(c[5], []).append(body["spec"]["traffic"])
    return patches


def _valid(traffic: list[dict[str, Any]]) -> None:
    """Knative's own rules: shares add up to 100, tags unique, no implicit latest share."""
    assert sum(t["percent"] for t in traffic) == 100, traffic
    tags = [t["tag"] for t in traffic if "tag" in t]
    assert len(tags) == len(set(tags)), traffic


def test_a_candidate_gets_no_traffic_until_it_is_promoted(tmp_path: Path) -> None:
    commands, _ = _dry(tmp_path, "candidate", "/workspace/release.yaml")
    apply = commands.index(["kubectl", "apply", "-f", "/workspace/release.yaml"])
    patches = _traffic(commands[:apply])
    assert sorted(patches) == SERVICES, "Every Service is pinned before the release applies."
    for name, (traffic,) in patches.items():
        _valid(traffic)
        pinned = [t for t in traffic if t["percent"] == 100]
        assert pinned == [{"revisionName": f"<{name}-current>", "percent": 100, "tag": "current"}]
        assert {"latestRevision": True, "percent": 0, "tag": "candidate"} in traffic
    assert not _traffic(commands[apply:]), "Nothing routes users to the release."


def test_promotion_moves_traffic_and_keeps_the_old_revision_tagged(tmp_path: Path) -> None:
    commands, _ = _dry(tmp_path, "promote")
    for name, (traffic,) in _traffic(commands).items():
        _valid(traffic)
        assert traffic == [
            {"revisionName": f"<{name}-new>", "percent": 100, "tag": "current"},
            {"revisionName": f"<{name}-stable>", "percent": 0, "tag": "previous"},
        ]
        assert all("latestRevision" not in t for t in traffic), "Pinned by name only."
    annotated = {c[5]: c[-1] for c in commands if c[3:5] == ["annotate", "ksvc"]}
    assert annotated == {n: f"ai-codereview.dev/previous-revision=<{n}-stable>" for n in SERVICES}


def test_a_canary_share_goes_first_when_asked(tmp_path: Path) -> None:
    commands, _ = _dry(tmp_path, "promote", CANARY_PERCENT="10", CANARY_SECONDS="60")
    for name, (canary, full) in _traffic(commands).items():
        _valid(canary)
        assert {"revisionName": f"<{name}-new>", "percent": 10, "tag": "candidate"} in canary
        assert full[0] == {"revisionName": f"<{name}-new>", "percent": 100, "tag": "current"}
    assert ["sleep", "60"] in commands


def test_abort_returns_every_service_to_its_pinned_revision(tmp_path: Path) -> None:
    commands, _ = _dry(tmp_path, "abort")
    patches = _traffic(commands)
    assert sorted(patches) == SERVICES
    for name, (traffic,) in patches.items():
        assert traffic == [{"revisionName": f"<{name}-stable>", "percent": 100, "tag": "current"}]


def test_make_rollback_pins_every_service_to_its_previous_revision(tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "rollback", "ENV=staging", "PROJECT_ID=acr-demo-1"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DRY_RUN": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [ln[2:] for ln in done.stdout.splitlines() if ln.startswith("+ ")]
    assert lines[0].startswith("gcloud container clusters get-credentials ai-codereview-staging")
    commands = [shlex.split(line) for line in lines]
    patches = _traffic(commands)
    assert sorted(patches) == SERVICES
    for name, (traffic,) in patches.items():
        _valid(traffic)
        assert traffic[0] == {
            "revisionName": f"<{name}-previous>",
            "percent": 100,
            "tag": "current",
        }
        assert traffic[1]["revisionName"] == f"<{name}-current>" and traffic[1]["percent"] == 0


def test_rollback_needs_an_environment() -> None:
    done = subprocess.run(
        ["make", "-s", "rollback"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DRY_RUN": "1"},
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "ENV" in done.stdout + done.stderr


def test_the_smoke_test_calls_the_tagged_candidates(tmp_path: Path) -> None:
    image = "europe-west1-docker.pkg.dev/p/ai-codereview/auth-service:abc1234"
    _, output = _dry(tmp_path, "smoke", "candidate", image)
    assert f"smoke={image}" in output
    for name in SERVICES:
        assert f"http://candidate-{name}.{NAMESPACE}.svc.cluster.local" in output, name
    assert "ANALYSES_URL=http://candidate-analyses." in output
    _, output = _dry(tmp_path, "smoke", "current", image)
    assert "candidate-" not in output and "ANALYSES_URL=http://analyses." in output
    job = _repo.load_one(ROOT / "knative" / "jobs" / "smoke-test.yaml")
    container = _repo.container(job)
    assert container["name"] == "smoke" and container["command"] == ["python", "/smoke/smoke.py"]
    assert set(_repo.env_values(container)) >= {"ANALYSES_URL", "HEALTH_URLS", "ADMIN_PASSWORD"}


def _steps() -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in _repo.load_one(CLOUDBUILD / "deploy.yaml")["steps"]}


def _before(steps: dict[str, dict[str, Any]], step: str) -> set[str]:
    """Every step that must finish before ``step`` starts (waitFor, transitively)."""
    seen: set[str] = set()
    pending = list(steps[step].get("waitFor", []))
    while pending:
        current = pending.pop()
        if current != "-" and current not in seen:
            seen.add(current)
            pending.extend(steps[current].get("waitFor", []))
    return seen


def test_every_gate_passes_before_anything_reaches_the_cluster() -> None:
    steps = _steps()
    gates = steps["gates"]["args"][-1]
    assert re.search(r"for config in ci security", gates), "ci.yaml and security.yaml gate."
    assert "cloudbuild/integration.yaml" in str(steps["integration"]["args"])
    for step in ("apply-platform", "migrate", "candidate", "promote"):
        assert {"gates", "integration", "build-images"} <= _before(steps, step), step
    ci = _repo.load_one(CLOUDBUILD / "ci.yaml")
    ci_ids = {s["id"] for s in ci["steps"]}
    assert {"secret-scan", "lint", "typecheck", "unit-tests", "bandit", "pip-audit"} <= ci_ids


def test_a_failed_check_returns_traffic_and_fails_the_build() -> None:
    steps = _steps()
    for step, recovery in [
        ("candidate", "release.sh abort"),
        ("wait-ready", "release.sh abort"),
        ("smoke-candidate", "release.sh abort"),
        ("verify", "release.sh rollback"),
    ]:
        script = steps[step]["args"][-1]
        assert re.search(
            rf"\|\|\s*\{{\s*cloudbuild/scripts/{re.escape(recovery)}; exit 1; \}}", script
        ), step
        assert not steps[step].get("allowFailure"), f"{step} must fail the build."
    assert "release.sh smoke current" in steps["verify"]["args"][-1]


def test_slack_hears_of_success_with_the_build_link_and_of_every_failure() -> None:
    notify = _steps()["notify"]["args"][-1]
    assert "console.cloud.google.com/cloud-build/builds" in notify and "$BUILD_ID" in notify
    notifier = _repo.load_one(CLOUDBUILD / "notifier" / "slack.yaml")
    filter_ = notifier["spec"]["notification"]["filter"]
    for status in ("FAILURE", "TIMEOUT", "INTERNAL_ERROR", "CANCELLED"):
        assert f"Build.Status.{status}" in filter_, status
    assert "SUCCESS" not in filter_, "Success is posted once, by the build itself."
    secret = notifier["spec"]["secrets"][0]["value"]
    assert secret == "projects/PROJECT_ID/secrets/slack-deploy-webhook/versions/latest"
