"""`make ci-local` (cloudbuild/scripts/ci-local.sh) reproduces cloudbuild/ci.yaml step by
step: it has a rule for every step the pipeline has, runs them in the pipeline's order,
and says which it skipped."""

from __future__ import annotations

import os
import re
import subprocess

from tests.deploy import _repo
from tests.deploy._repo import CLOUDBUILD, ROOT

SCRIPT = CLOUDBUILD / "scripts" / "ci-local.sh"


def _ci_steps() -> list[str]:
    return [s["id"] for s in _repo.load_one(CLOUDBUILD / "ci.yaml")["steps"]]


def test_every_ci_step_has_a_local_rule() -> None:
    text = SCRIPT.read_text()
    rules = set()
    for pattern in re.findall(r"^    ([a-z|\- ]+)\)", text, re.M):
        rules |= {p.strip() for p in pattern.split("|")}
    missing = set(_ci_steps()) - rules
    assert not missing, f"ci-local.sh has no rule for ci.yaml steps {sorted(missing)}."


def _run(database_url: str, redis_url: str, *steps: str, **env: str) -> str:
    done = subprocess.run(
        [str(SCRIPT), *steps],
        env={
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "TEST_DATABASE_URL": database_url,
            "TEST_REDIS_URL": redis_url,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_steps_run_in_the_pipeline_order_on_the_local_servers(
    database_url: str, redis_url: str
) -> None:
    out = _run(database_url, redis_url, "wait-databases", "start-redis", "start-postgres")
    ran = re.findall(r"^== ci.yaml step (\S+)$", out, re.M)
    assert (
        ran
        == [s for s in _ci_steps() if s in ran]
        == [s for s in _ci_steps() if s in {"start-postgres", "start-redis", "wait-databases"}]
    )
    assert "the local PostgreSQL" in out and "PostgreSQL and Redis answer" in out
    assert "ci-local: 3 ci.yaml steps passed, 0 skipped" in out


def test_a_skipped_step_is_reported_as_skipped(database_url: str, redis_url: str) -> None:
    out = _run(database_url, redis_url, "start-postgres", "lint", CI_LOCAL_SKIP="lint")
    assert "skipped (CI_LOCAL_SKIP)" in out
    assert "ci-local: 1 ci.yaml steps passed, 1 skipped" in out


def test_a_server_that_does_not_answer_fails_its_step(database_url: str) -> None:
    done = subprocess.run(
        [str(SCRIPT), "start-redis"],
        env={
            "PATH": os.environ["PATH"],
            "TEST_DATABASE_URL": database_url,
            "TEST_REDIS_URL": "redis://127.0.0.1:9/0",
        },
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode != 0
    assert "steps passed" not in done.stdout
