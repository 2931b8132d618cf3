"""The runtime library and the development tools stay apart, and neither has an import cycle.

shared/ is copied into every image; localdev/ (the runner, the gateway, the local Broker)
is copied into none, so shared/ must never import it. A cycle (a module importing one that
imports it back, even under TYPE_CHECKING) makes import order matter; there is none.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "localdev")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The first-party modules a file imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    modules = set(files)
    return {name: _imports(path, modules) - {name} for name, path in files.items()}


def test_shared_imports_nothing_from_localdev_or_tests() -> None:
    offenders = {
        module: sorted(i for i in imported if not i.startswith("shared"))
        for module, imported in _graph().items()
        if module.startswith("shared")
    }
    assert {m: i for m, i in offenders.items() if i} == {}


def test_localdev_is_not_a_package_any_service_imports() -> None:
    for path in (ROOT / "functions").rglob("*.py"):
        text = path.read_text()
        assert "localdev" not in text, f"{path.relative_to(ROOT)} imports the development tools"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package: str) -> None:
    graph = _graph()
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for imported in sorted(graph.get(module, ())):
            if imported in path:
                cycles.append(path[path.index(imported) :] + [imported])
            elif imported not in done:
                visit(imported, [*path, imported])
        done.add(module)

    done: set[str] = set()
    for module in sorted(m for m in graph if m.startswith(package)):
        if module not in done:
            visit(module, [module])
    assert cycles == []
