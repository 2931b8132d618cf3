"""The install path of a fresh clone: the stock pip of `python3.11 -m venv` (23.2) installs
only the hashed installer pin; every other requirement goes through that installer.

pip 23 resolves an extra such as pytest-cov's `coverage[toml]` against the index and then
refuses it under --require-hashes, so no file it reads may need an extra resolved."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pydantic

import shared.function
from tests.deploy._repo import ROOT

BOOTSTRAP = ROOT / "requirements-bootstrap.txt"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[a-z0-9,_-]+\])?==[0-9][^ \\]*")


def _requirements(path: str) -> list[str]:
    """The requirement lines of a hashed requirements file (continuations joined)."""
    text = (ROOT / path).read_text().replace("\\\n", " ")
    return [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]


def test_the_bootstrap_file_pins_one_hashed_installer_with_no_extras() -> None:
    lines = _requirements("requirements-bootstrap.txt")
    assert len(lines) == 1, f"The stock pip should install exactly one package, got {lines}."
    (line,) = lines
    assert PIN.match(line), f"'{line}' should be pinned with ==."
    assert "[" not in line.split()[0], "An extra would make pip 23 consult the index."
    assert "--hash=sha256:" in line, "The installer itself should be hash-checked."


def test_make_install_gives_pip_only_the_bootstrap_file() -> None:
    recipe = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    stock = [ln for ln in recipe.splitlines() if re.search(r"-m pip install|/pip install", ln)]
    assert stock, "make install should bootstrap the installer with the venv's own pip."
    for ln in stock:
        assert ln.strip().endswith("-r requirements-bootstrap.txt") and "--no-deps" in ln, (
            f"Only the bootstrap file may reach the stock pip: {ln.strip()}"
        )
    assert re.search(r"uv pip install .*--require-hashes\s+-r requirements-dev\.txt", recipe), (
        "The dev requirements should be installed by the bootstrapped uv, hash-checked."
    )


def test_every_hashed_file_is_pinned_exactly() -> None:
    files = [
        "requirements-dev.txt",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "functions").glob("*/requirements.txt")),
    ]
    for path in files:
        for line in _requirements(path):
            if line.startswith("-"):
                continue
            assert PIN.match(line) and "--hash=sha256:" in line, f"{path}: '{line[:60]}'"


def test_make_install_leaves_bytecode_for_the_venv_and_the_project() -> None:
    """Where PYTHONDONTWRITEBYTECODE is set (this machine's CI), Python never writes bytecode;
    without it at install every process compiles every module it imports (~1 s a start)."""
    for module in (pydantic, shared.function):
        assert module.__file__
        compiled = importlib.util.cache_from_source(module.__file__)
        assert Path(compiled).is_file(), f"{module.__name__} has no bytecode: {compiled}"
