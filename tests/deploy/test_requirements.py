"""Each image installs only what its code imports, derived from the code itself.

The distributions a service needs are found from its modules' import statements (AST,
every import, lazy ones included) plus those of shared/ (the runtime library every image
copies), mapped to distributions with importlib.metadata. Its requirements.in must name
exactly those: nothing imported may be left to chance as someone else's dependency, and
nothing may ride along that no code imports, except the server itself (below).
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest

from tests.deploy._repo import FUNCTIONS, ROOT, dockerized_folders

SHARED_IN = ROOT / "shared" / "requirements.in"
# Installed for the server every image runs, not imported by any module of ours.
SERVER = {
    "functions-framework": "the image's CMD, which loads the function target",
    "uvloop": "uvicorn's event loop when installed",
    "httptools": "uvicorn's HTTP parser when installed",
}
FIRST_PARTY = {"shared", "functions", "localdev", "tests"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path: Path) -> dict[str, str]:
    """Names and versions a .in file lists itself (``-r`` includes not followed)."""
    found = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*(\S+)", line)
        assert match, f"{path.relative_to(ROOT)}: '{line}' should be pinned as name==version."
        found[_canonical(match[1])] = match[2]
    return found


def imported_modules(paths: list[Path]) -> set[str]:
    """Dotted names of every third-party module the files import."""
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {
        name
        for name in found
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] not in FIRST_PARTY
    }


@cache
def _owners() -> dict[str, list[str]]:
    return metadata.packages_distributions()


@cache
def _paths_of(distribution: str) -> frozenset[str]:
    """Module paths (``google/cloud/logging``) a distribution's files provide."""
    paths = set()
    for file in metadata.distribution(distribution).files or ():
        parts = file.parts
        for end in range(1, len(parts) + 1):
            paths.add("/".join(parts[:end]).removesuffix(".py"))
    return frozenset(paths)


def distribution_of(module: str) -> str:
    """The distribution that provides ``module`` (``a.b.C`` may name a class in ``a.b``).

    ``packages_distributions`` answers for a top-level name that one distribution owns; a
    namespace package (``google``: a dozen distributions) is resolved by which
    distribution's files hold the module's own path.
    """
    owners = sorted({_canonical(o) for o in _owners().get(module.split(".")[0], [])})
    if len(owners) == 1:
        return owners[0]
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        path = "/".join(parts[:end])
        holders = [d for d in owners if path in _paths_of(d)]
        if len(holders) == 1:
            return holders[0]
    raise AssertionError(f"No single installed distribution provides '{module}'.")


def needed(paths: list[Path]) -> set[str]:
    return {distribution_of(m) for m in imported_modules(paths)}


def _python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_shared_requirements_are_what_shared_imports_plus_the_server() -> None:
    declared = set(requirements(SHARED_IN))
    imported = needed(_python_files(ROOT / "shared"))
    assert sorted(imported - declared) == [], "imported by shared/ but not in its .in"
    assert sorted(declared - imported - set(SERVER)) == [], "in shared's .in, imported by none"
    assert set(SERVER) <= declared


@pytest.mark.parametrize("folder", dockerized_folders())
def test_service_requirements_are_what_its_code_imports(folder: str) -> None:
    path = FUNCTIONS / folder / "requirements.in"
    text = path.read_text()
    assert re.search(r"^-r \.\./\.\./shared/requirements\.in$", text, re.M), (
        "Every image runs shared/: its .in should include shared's."
    )
    shared = set(requirements(SHARED_IN))
    own = set(requirements(path))
    imported = needed(_python_files(FUNCTIONS / folder)) - shared
    assert sorted(imported - own) == [], f"imported by {folder} but not in its .in"
    assert sorted(own - imported) == [], f"in {folder}'s .in, imported by none of its modules"


@pytest.mark.parametrize("folder", dockerized_folders())
def test_compiled_requirements_pin_what_the_in_files_pin(folder: str) -> None:
    compiled = (FUNCTIONS / folder / "requirements.txt").read_text()
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", compiled, re.M))
    pins = {_canonical(k): v for k, v in pins.items()}
    wanted = requirements(SHARED_IN) | requirements(FUNCTIONS / folder / "requirements.in")
    assert {k: pins.get(k) for k in wanted} == wanted, "run `make requirements`"
    assert "--hash=sha256:" in compiled


def test_distribution_mapping_resolves_namespace_packages() -> None:
    assert distribution_of("google.cloud.secretmanager") == "google-cloud-secret-manager"
    assert distribution_of("google.cloud.logging.handlers.StructuredLogHandler") == (
        "google-cloud-logging"
    )
    assert distribution_of("google.api_core.exceptions") == "google-api-core"
    assert distribution_of("argon2") == "argon2-cffi"
    assert distribution_of("yaml") == "pyyaml"


def test_imports_anywhere_in_a_module_count(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom argon2 import PasswordHasher\n\n\ndef f():\n    import redis\n"
    )
    assert needed([module]) == {"argon2-cffi", "redis"}
