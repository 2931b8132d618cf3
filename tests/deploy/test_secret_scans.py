"""The secret scans of the pipelines can pass on a clean tree and still catch a new secret.

detect-secrets (ci.yaml, `make security`) reads .secrets.baseline; gitleaks (security.yaml)
reads .gitleaks.toml. Both must list the same fixture files, and .gitleaks.toml says why
each one holds no secret, so a fixture is explained once and neither scanner lets
through a file the other would stop."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.deploy._repo import ROOT

SCRIPT = ROOT / "cloudbuild" / "scripts" / "secret-scan.sh"
HOOK = Path(sys.executable).parent / "detect-secrets-hook"


def _baseline() -> dict[str, list[dict[str, object]]]:
    results: dict[str, list[dict[str, object]]] = json.loads(
        (ROOT / ".secrets.baseline").read_text()
    )["results"]
    return results


def _allowlisted_paths() -> list[str]:
    config = tomllib.loads((ROOT / ".gitleaks.toml").read_text())
    paths: list[str] = config["allowlist"]["paths"]
    return paths


def test_gitleaks_keeps_its_default_rules() -> None:
    config = tomllib.loads((ROOT / ".gitleaks.toml").read_text())
    assert config["extend"]["useDefault"] is True, "The allowlist adds to the rules, not less."
    assert "regexes" not in config["allowlist"], "Fixtures are named by file, not by pattern."


def test_the_baseline_and_the_gitleaks_allowlist_name_the_same_files() -> None:
    baseline = set(_baseline())
    allowed = set()
    for pattern in _allowlisted_paths():
        matches = {f for f in [*baseline, ".secrets.baseline"] if re.fullmatch(pattern, f)}
        assert len(matches) == 1, f"{pattern} should name exactly one fixture file: {matches}."
        allowed |= matches
    assert allowed - {".secrets.baseline"} == baseline, (
        f"Only in the baseline: {sorted(baseline - allowed)}; "
        f"only in .gitleaks.toml: {sorted(allowed - baseline - {'.secrets.baseline'})}."
    )


def test_each_allowlisted_file_is_explained() -> None:
    lines = (ROOT / ".gitleaks.toml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("paths = ["))
    explained = False
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if stripped == "]":
            break
        if stripped.startswith("#"):
            explained = True
            continue
        assert explained, f"{stripped} should follow a comment saying why it is allowed."


def test_every_baseline_result_is_audited_as_not_a_secret() -> None:
    for filename, results in _baseline().items():
        for result in results:
            assert result.get("is_secret") is False, f"{filename}:{result['line_number']}"


def test_the_secret_scan_passes_on_this_tree() -> None:
    done = subprocess.run(
        [str(SCRIPT)],
        env={"PATH": "/usr/bin:/bin", "DETECT_SECRETS_HOOK": str(HOOK)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no secret outside .secrets.baseline" in done.stdout


def _scratch_repo(tmp_path: Path) -> Path:
    """A git repository with the scan script, one fixture and its baseline."""
    repo = tmp_path / "repo"
    (repo / "cloudbuild" / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "cloudbuild" / "scripts" / SCRIPT.name)
    (repo / "fixture.py").write_text('AWS_ACCESS_KEY_ID = "AKIAZ7QW3RTY5UIOPA2B"\n')
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    scan = subprocess.run(
        [str(HOOK.with_name("detect-secrets")), "scan", "fixture.py"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    (repo / ".secrets.baseline").write_text(scan.stdout)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "fixture"], check=True)
    return repo


def _scan(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo / "cloudbuild" / "scripts" / SCRIPT.name)],
        env={"PATH": "/usr/bin:/bin", "DETECT_SECRETS_HOOK": str(HOOK)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_listed_fixture_that_moved_lines_passes_without_dirtying_the_tree(
    tmp_path: Path,
) -> None:
    repo = _scratch_repo(tmp_path)
    (repo / "fixture.py").write_text('"""Moved."""\n\nAWS_ACCESS_KEY_ID = "AKIAZ7QW3RTY5UIOPA2B"\n')
    done = _scan(repo)
    assert done.returncode == 0, done.stdout + done.stderr
    status = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", ".secrets.baseline"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == "", "The gate should not rewrite the baseline."


def test_a_secret_the_baseline_does_not_list_fails(tmp_path: Path) -> None:
    repo = _scratch_repo(tmp_path)
    (repo / "new.py").write_text('GITHUB = "ghp_Zz9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8"\n')
    subprocess.run(["git", "-C", str(repo), "add", "new.py"], check=True)
    done = _scan(repo)
    assert done.returncode != 0, done.stdout
    assert "new.py" in done.stdout + done.stderr


def test_security_yaml_scans_history_with_the_allowlist_and_nothing_without_it() -> None:
    from tests.deploy._repo import CLOUDBUILD, load_one

    steps = {s["id"]: s for s in load_one(CLOUDBUILD / "security.yaml")["steps"]}
    script = steps["gitleaks"]["args"][-1]
    assert script.count("--config=.gitleaks.toml") == 2, "Both the git and dir scans."
    scanners = next(a for a in steps["trivy-fs"]["args"] if a.startswith("--scanners="))
    assert "secret" not in scanners, "A secret scanner without the fixture list would fail."
