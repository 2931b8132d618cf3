"""_repo reads what the deploy artifacts promise: services, targets, YAML, Dockerfiles."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from localdev import discovery

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
KNATIVE = ROOT / "knative"
BASE = KNATIVE / "base"
JOBS = KNATIVE / "jobs"
CLOUDBUILD = ROOT / "cloudbuild"
NAMESPACE = "ai-codereview"
HEALTH_PATHS = {
    "startupProbe": "/health/startup",
    "readinessProbe": "/ready",
    "livenessProbe": "/health",
}
HARDENED_CONTAINER = {
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


@dataclass(frozen=True)
class Target:
    """One function target: its service folder and its Python name."""

    folder: str
    name: str

    @property
    def service(self) -> str:
        """The seed's service name, which is also the image name (auth-service)."""
        return image_name(self.folder)

    @property
    def knative_name(self) -> str:
        return self.name.replace("_", "-")


def image_name(folder: str) -> str:
    return folder.replace("_", "-")


def service_folders() -> list[str]:
    """Folders under functions/ that are services: they have a main.py or a Dockerfile."""
    return sorted(
        p.name
        for p in FUNCTIONS.iterdir()
        if p.is_dir() and ((p / "main.py").exists() or (p / "Dockerfile").exists())
    )


def dockerized_folders() -> list[str]:
    return [f for f in service_folders() if (FUNCTIONS / f / "Dockerfile").exists()]


def targets() -> list[Target]:
    """Every function target, as the local runner finds them (localdev.discovery)."""
    return [
        Target(service.package, spec.target)
        for service in discovery.discover(ROOT)
        for spec in service.functions
    ]


def targets_of(folder: str) -> list[str]:
    return [t.name for t in targets() if t.folder == folder]


@cache
def load_all(path: Path) -> tuple[Any, ...]:
    """Every YAML document of a file, empty ones dropped."""
    with path.open() as f:
        return tuple(doc for doc in yaml.safe_load_all(f) if doc is not None)


def load_one(path: Path) -> dict[str, Any]:
    docs = load_all(path)
    assert len(docs) == 1, f"{path.relative_to(ROOT)} should hold one document, has {len(docs)}."
    doc = docs[0]
    assert isinstance(doc, dict), f"{path.relative_to(ROOT)} should be a mapping."
    return doc


def knative_services() -> dict[Path, dict[str, Any]]:
    """Every serving.knative.dev Service under knative/base, by file."""
    return {
        path: doc
        for path in sorted(BASE.glob("*.yaml"))
        for doc in load_all(path)
        if doc.get("apiVersion", "").startswith("serving.knative.dev/")
        and doc.get("kind") == "Service"
    }


def objects(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    """Objects of one kind in a manifest file, by metadata.name."""
    return {d["metadata"]["name"]: d for d in load_all(path) if d.get("kind") == kind}


def container(manifest: dict[str, Any]) -> dict[str, Any]:
    spec = manifest["spec"]["template"]["spec"]
    containers = spec["containers"]
    assert len(containers) == 1, f"{manifest['metadata']['name']} should run one container."
    result: dict[str, Any] = containers[0]
    return result


def env_values(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    arguments: str


def dockerfile(path: Path) -> list[Instruction]:
    """Instructions of a Dockerfile: continuations joined, comments dropped."""
    result = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, arguments = " ".join(p for p in pending if p).partition(" ")
        result.append(Instruction(start, keyword.upper(), arguments.strip()))
        pending = []
    return result


def exec_form(arguments: str) -> list[str] | None:
    """The JSON array of an exec-form instruction, or None for shell form."""
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    """ENV of the final stage (key=value form)."""
    env: dict[str, str] = {}
    for ins in final_stage(instructions):
        if ins.keyword == "ENV":
            for match in re.finditer(r'([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)', ins.arguments):
                env[match[1]] = match[2].strip('"')
    return env


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    return instructions[starts[-1] :] if starts else instructions


def copy_sources(ins: Instruction) -> list[str]:
    """Context sources of a COPY (none for COPY --from)."""
    words = exec_form(ins.arguments) or ins.arguments.split()
    flags = [w for w in words if w.startswith("--")]
    if any(f.startswith("--from=") for f in flags):
        return []
    paths = [w for w in words if not w.startswith("--")]
    return paths[:-1]


class DockerIgnore:
    """.dockerignore matching as Docker's patternmatcher does it.

    Patterns are cleaned like Go's filepath.Clean and matched like
    filepath.Match, plus `**` for any number of directories; a pattern that
    matches a parent directory matches everything below it; the last matching
    pattern wins, and `!` marks an exception.
    """

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exception = line.startswith("!")
            pattern = _clean(line[1:].strip() if exception else line)
            if pattern:
                self.rules.append((exception, re.compile(_translate(pattern))))

    @classmethod
    def of_repo(cls) -> DockerIgnore:
        path = ROOT / ".dockerignore"
        return cls(path.read_text() if path.exists() else "")

    def excludes(self, relative: str) -> bool:
        candidates = list(_self_and_parents(_clean(relative)))
        excluded = False
        for exception, regex in self.rules:
            if any(regex.fullmatch(c) for c in candidates):
                excluded = not exception
        return excluded


def _clean(path: str) -> str:
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts:
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def _self_and_parents(path: str) -> Iterator[str]:
    parts = path.split("/")
    for end in range(len(parts), 0, -1):
        yield "/".join(parts[:end])


def _translate(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                negated = body.startswith("^")
                body = body[1:] if negated else body
                out.append(f"[{'^' if negated else ''}{body.replace(chr(92), chr(92) * 2)}]")
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def files_under(path: Path) -> list[str]:
    """Files below a path (or the path itself), relative to the repo root."""
    if path.is_file():
        return [path.relative_to(ROOT).as_posix()]
    return sorted(p.relative_to(ROOT).as_posix() for p in path.rglob("*") if p.is_file())
