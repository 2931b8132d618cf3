"""The version number has one source: shared/__init__.py's ``__version__``."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import shared

ROOT = Path(__file__).resolve().parents[2]
# What hatchling's version source reads (its default pattern, simplified).
HATCH_PATTERN = re.compile(r'^__version__ = "(?P<version>[^"]+)"$', re.MULTILINE)


def test_pyproject_takes_the_version_from_shared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert "version" not in project["project"], "pyproject.toml must not repeat the version"
    assert "version" in project["project"]["dynamic"]
    source = project["tool"]["hatch"]["version"]["path"]
    found = HATCH_PATTERN.search((ROOT / source).read_text())
    assert found is not None and found["version"] == shared.__version__


def test_no_other_file_defines_a_version() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.toml", "*.cfg", "*.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    defining = [
        name
        for name in tracked
        if not name.startswith("tests/")
        and re.search(r'^\s*(__version__|version)\s*[:=]\s*"\d', (ROOT / name).read_text(), re.M)
    ]
    assert defining == ["shared/__init__.py"]
