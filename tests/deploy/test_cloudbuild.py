"""Tests that cloudbuild/ holds one explained, parameterized config per stage."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import _repo
from tests.deploy._repo import CLOUDBUILD, ROOT

STAGES = ("ci", "security", "build", "integration", "deploy")
CONFIGS = sorted(CLOUDBUILD.glob("*.yaml"))
TRIGGERS = sorted((CLOUDBUILD / "triggers").glob("*.yaml"))
# $_NAME or ${_NAME}, not preceded by another $ (that is an escaped shell $).
USER_SUBSTITUTION = re.compile(r"(?<!\$)\$\{?(_[A-Z0-9_]+)")


def _ids(path: Path) -> str:
    return path.stem


def _config(name: str) -> dict[str, Any]:
    return _repo.load_one(CLOUDBUILD / f"{name}.yaml")


def _scripts(config: dict[str, Any]) -> str:
    return "\n".join(
        " ".join(str(a) for a in [s.get("entrypoint", ""), *s.get("args", [])])
        for s in config["steps"]
    )


def test_there_is_one_config_per_pipeline_stage() -> None:
    names = {p.stem for p in CONFIGS}
    assert set(STAGES) <= names, f"cloudbuild/ should hold {STAGES}, has {sorted(names)}."


@pytest.mark.parametrize("path", CONFIGS, ids=_ids)
def test_each_config_opens_with_purpose_and_a_submit_line(path: Path) -> None:
    header = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = "\n".join(header)
    assert len(header) >= 3, f"{path.name} should open with a comment explaining it."
    assert "Prerequisites" in text, f"{path.name} header should state its prerequisites."
    assert f"gcloud builds submit --config=cloudbuild/{path.name}" in text, (
        f"{path.name} header should show how to submit it."
    )
    assert "--substitutions=" in text, f"{path.name} header should show its substitutions."


@pytest.mark.parametrize("path", CONFIGS, ids=_ids)
def test_every_step_has_a_unique_id(path: Path) -> None:
    steps = _repo.load_one(path)["steps"]
    ids = [s.get("id") for s in steps]
    assert all(ids), f"{path.name}: every step needs an id, steps {ids}."
    assert len(ids) == len(set(ids)), f"{path.name}: step ids repeat: {ids}."


@pytest.mark.parametrize("path", CONFIGS, ids=_ids)
def test_every_user_substitution_used_has_a_default(path: Path) -> None:
    config = _repo.load_one(path)
    declared = set(config.get("substitutions", {}))
    body = {k: v for k, v in config.items() if k != "substitutions"}
    used = set(USER_SUBSTITUTION.findall(str(body)))
    used |= set(USER_SUBSTITUTION.findall(str(config.get("substitutions", {}))))
    assert used <= declared, f"{path.name} uses undeclared substitutions {used - declared}."


def test_build_makes_scans_pushes_describes_and_signs_one_service() -> None:
    config = _config("build")
    assert "_SERVICE" in config["substitutions"], "build.yaml is parameterized by _SERVICE."
    scripts = _scripts(config)
    assert "functions/$${service//-/_}/Dockerfile" in scripts, "Builds the service's Dockerfile."
    assert re.search(r"docker build[\s\S]*\n\s*\.\s*$", scripts, re.M), "Context is the root."
    image = "${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/${_SERVICE}:${_TAG}"
    assert image in scripts and image in config["images"], f"Should push {image}."
    assert "--severity=${_SEVERITY}" in scripts and "--exit-code=1" in scripts, "Trivy gates."
    assert config["substitutions"]["_SEVERITY"] == "HIGH,CRITICAL", "Fails on HIGH,CRITICAL."
    names = [s["name"] for s in config["steps"]]
    assert "${_SYFT_IMAGE}" in names, "Should generate an SBOM with syft."
    assert "sign" in [s["args"][0] for s in config["steps"] if s["name"] == "${_COSIGN_IMAGE}"]
    assert "--key=${_COSIGN_KEY}" in scripts, "Should sign with the KMS key _COSIGN_KEY."
    order = [s["id"] for s in config["steps"]]
    assert order.index("scan-image") < order.index("push") < order.index("sign"), (
        f"Scan before push, push before sign: {order}."
    )


def test_deploy_releases_every_dockerized_service() -> None:
    config = _config("deploy")
    services = config["substitutions"]["_SERVICES"].split()
    for folder in _repo.dockerized_folders():
        assert _repo.image_name(folder) in services, (
            f"deploy.yaml _SERVICES should include {_repo.image_name(folder)}."
        )
    for service in services:
        dockerfile = ROOT / "functions" / service.replace("-", "_") / "Dockerfile"
        assert dockerfile.exists(), f"_SERVICES names {service}, which has no {dockerfile}."


def test_deploy_migrates_before_rolling_out_then_checks_and_notifies() -> None:
    config = _config("deploy")
    assert "_ENV" in config["substitutions"], "deploy.yaml is parameterized by _ENV."
    order = [s["id"] for s in config["steps"]]
    for earlier, later in [
        ("build-images", "migrate"),
        ("migrate", "candidate"),
        ("candidate", "wait-ready"),
        ("wait-ready", "smoke-candidate"),
        ("smoke-candidate", "promote"),
        ("promote", "verify"),
        ("verify", "notify"),
    ]:
        assert order.index(earlier) < order.index(later), f"{earlier} before {later}: {order}."
    scripts = _scripts(config)
    assert "cloudbuild/build.yaml" in scripts, "Images are built by build.yaml."
    assert 'cloudbuild/scripts/render.sh "${_ENV}"' in scripts, "Renders the _ENV overlay."
    assert "knative/jobs/$$job.yaml" in scripts, "Runs the migration Jobs."
    assert "release.sh wait" in scripts, "Waits for every ksvc to be Ready."
    assert "release.sh smoke candidate" in scripts, "Checks the candidates before traffic."
    for step in config["steps"]:
        if "kubectl" in str(step.get("args")) or "release.sh" in str(step.get("args")):
            if step["id"] == "render":
                continue
            env = step.get("env", [])
            assert "CLOUDSDK_CONTAINER_CLUSTER=${_CLUSTER}" in env, f"{step['id']}: cluster."
            assert "CLOUDSDK_COMPUTE_REGION=${_REGION}" in env, f"{step['id']}: region."


def test_deploy_notification_webhook_comes_from_secret_manager() -> None:
    config = _config("deploy")
    secrets = {s["env"]: s["versionName"] for s in config["availableSecrets"]["secretManager"]}
    assert "SLACK_WEBHOOK_URL" in secrets, "The Slack webhook should come from Secret Manager."
    notify = next(s for s in config["steps"] if s["id"] == "notify")
    assert notify.get("secretEnv") == ["SLACK_WEBHOOK_URL"], "notify should read the webhook."
    assert "$$SLACK_WEBHOOK_URL" in str(notify["args"]), "Use $$ for the shell variable."


def test_ci_tests_against_real_postgres_and_redis() -> None:
    config = _config("ci")
    steps = {s["id"]: s for s in config["steps"]}
    env = " ".join(steps["unit-tests"].get("env", []))
    assert "TEST_DATABASE_URL=postgresql://postgres@postgres:5432/" in env, "Real Postgres."
    assert "TEST_REDIS_URL=redis://redis:6379/" in env, "Real Redis."
    assert "--cov" in str(steps["unit-tests"]["args"]), "Unit tests should measure coverage."
    for step_id in ("lint", "typecheck", "bandit", "pip-audit", "secret-scan"):
        assert step_id in steps, f"ci.yaml should run {step_id}."


@pytest.mark.parametrize("path", TRIGGERS, ids=_ids)
def test_each_trigger_runs_an_existing_config(path: Path) -> None:
    trigger = _repo.load_one(path)
    assert trigger.get("name"), f"{path.name} needs a name."
    assert (ROOT / trigger["filename"]).exists(), f"{path.name} runs missing {trigger['filename']}."
    assert {"owner", "name"} <= set(trigger["github"]), f"{path.name} should name its repo."


@pytest.mark.parametrize(
    ("trigger", "branch", "environment"),
    [("develop", "^develop$", "staging"), ("main", "^main$", "production")],
)
def test_branches_deploy_to_their_environment(trigger: str, branch: str, environment: str) -> None:
    config = _repo.load_one(CLOUDBUILD / "triggers" / f"{trigger}.yaml")
    assert config["github"]["push"]["branch"] == branch, f"{trigger} should fire on {branch}."
    assert config["filename"] == "cloudbuild/deploy.yaml", f"{trigger} should deploy."
    assert config["substitutions"]["_ENV"] == environment, f"{trigger} should set _ENV."
    assert (ROOT / "knative" / "overlays" / environment).is_dir(), f"No {environment} overlay."


def test_pull_requests_run_ci() -> None:
    config = _repo.load_one(CLOUDBUILD / "triggers" / "pr.yaml")
    assert "pullRequest" in config["github"], "pr.yaml should fire on pull requests."
    assert config["filename"] == "cloudbuild/ci.yaml", "Pull requests should run ci.yaml."
