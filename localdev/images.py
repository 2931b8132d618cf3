"""images builds the seven service images and runs containers of them, with whatever engine
this machine has.

* ``docker`` when a Docker engine answers (``docker info`` succeeds);
* else ``../shared/tools/image-build`` beside the repository (buildah, no daemon), when
  present (``IMAGE_BUILD`` names another path);
* else nothing: :func:`engine` raises :class:`NoEngine` saying why, and ``make images``
  fails with that sentence.

Images are tagged ``acr/<service>:<tag>``, the tag being ``IMAGE_TAG`` or the git short
sha. Containers run with the host's network (each function on its own ``PORT``), as the
container suite (tests/containers/) and ``make run IMAGES=1`` use them; the environment of
each is its Knative manifest's (:func:`manifest_env`) plus the local wiring.

Usage: ``python -m localdev.images build|check|sizes [service ...]``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from localdev.discovery import ROOT, ServiceSpec, discover

IMAGE_BUILD = Path(os.environ.get("IMAGE_BUILD", ROOT.parent / "shared" / "tools" / "image-build"))
KNATIVE_BASE = ROOT / "knative" / "base"


class NoEngine(RuntimeError):
    """Neither a Docker engine nor image-build is available."""


def tag() -> str:
    """``IMAGE_TAG``, else the git short sha of HEAD."""
    given = os.environ.get("IMAGE_TAG")
    if given:
        return given
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, fixed argv
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def image(service: ServiceSpec, image_tag: str | None = None) -> str:
    return f"acr/{service.name}:{image_tag or tag()}"


def _run(*argv: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [str(a) for a in argv], check=kwargs.pop("check", True), text=True, **kwargs
    )


class Engine(Protocol):
    name: str

    def build(self, dockerfile: Path, image: str) -> None: ...
    def has(self, image: str) -> bool: ...
    def run(self, image: str, name: str, env: dict[str, str]) -> None: ...
    def stop(self, name: str) -> str: ...
    def log(self, name: str) -> str: ...
    def exists(self, image: str, patterns: list[str]) -> list[str]: ...
    def added_mb(self, image: str) -> float: ...


@dataclass
class ImageBuild:
    """``../shared/tools/image-build``: buildah on a stand-in python:3.11-slim base."""

    tool: Path
    name: str = "image-build"

    def build(self, dockerfile: Path, image: str) -> None:
        _run(self.tool, "build", dockerfile, image, ROOT)

    def has(self, image: str) -> bool:
        return (
            _run(self.tool, "exists", image, "/", check=False, capture_output=True).returncode == 0
        )

    def run(self, image: str, name: str, env: dict[str, str]) -> None:
        pairs = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        _run(self.tool, "run", image, name, *pairs, capture_output=True)

    def stop(self, name: str) -> str:
        """How the container's main process ended: ``exited with status N`` or ``killed``."""
        return _run(self.tool, "stop", name, capture_output=True).stdout.strip()

    def log(self, name: str) -> str:
        path = Path(f"/tmp/image-build-{name}.log")  # noqa: S108 - where image-build writes it
        return path.read_text(errors="replace") if path.exists() else ""

    def exists(self, image: str, patterns: list[str]) -> list[str]:
        out = _run(self.tool, "exists", image, *patterns, capture_output=True).stdout
        return [line for line in out.splitlines() if line.strip()]

    def added_mb(self, image: str) -> float:
        out = _run(self.tool, "size", image, capture_output=True).stdout
        match = re.search(r"([\d.]+) MB\s+added on top of the base", out)
        if not match:
            raise RuntimeError(f"image-build size printed no total: {out!r}")
        return float(match[1])


@dataclass
class Docker:
    """A Docker engine (``docker info`` answers)."""

    name: str = "docker"

    def build(self, dockerfile: Path, image: str) -> None:
        _run("docker", "build", "-f", dockerfile, "-t", image, ROOT)

    def has(self, image: str) -> bool:
        found = _run("docker", "image", "inspect", image, check=False, capture_output=True)
        return found.returncode == 0

    def run(self, image: str, name: str, env: dict[str, str]) -> None:
        _run("docker", "rm", "-f", name, check=False, capture_output=True)
        pairs = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        _run("docker", "run", "-d", "--name", name, "--network", "host", *pairs, image,
             capture_output=True)  # fmt: skip

    def stop(self, name: str) -> str:
        _run("docker", "stop", "-t", "40", name, capture_output=True)
        state = _run("docker", "inspect", "-f", "{{json .State}}", name, capture_output=True)
        _run("docker", "rm", name, capture_output=True)
        return f"exited with status {json.loads(state.stdout)['ExitCode']}"

    def log(self, name: str) -> str:
        found = _run("docker", "logs", name, check=False, capture_output=True)
        return found.stdout + found.stderr

    def exists(self, image: str, patterns: list[str]) -> list[str]:
        container = _run("docker", "create", image, capture_output=True).stdout.strip()
        try:
            export = subprocess.Popen(  # noqa: S603 - fixed argv
                ["docker", "export", container],  # noqa: S607
                stdout=subprocess.PIPE,
            )
            assert export.stdout is not None
            with tarfile.open(fileobj=export.stdout, mode="r|") as archive:
                paths = ["/" + m.name.strip("./").rstrip("/") for m in archive]
            export.wait()
        finally:
            _run("docker", "rm", container, capture_output=True)
        regexes = [re.compile(_glob(p)) for p in patterns]
        return sorted(p for p in paths if any(r.fullmatch(p) for r in regexes))

    def added_mb(self, image: str) -> float:
        """The image's size minus its base's (every Dockerfile has the same base)."""

        def size(ref: str) -> int:
            out = _run("docker", "image", "inspect", "-f", "{{.Size}}", ref, capture_output=True)
            return int(out.stdout)

        base = _first_from(ROOT / "functions" / "auth_service" / "Dockerfile")
        return (size(image) - size(base)) / 1e6


def _first_from(dockerfile: Path) -> str:
    for line in dockerfile.read_text().splitlines():
        if line.startswith("FROM "):
            return line.split()[1]
    raise ValueError(f"{dockerfile} has no FROM")


def _glob(pattern: str) -> str:
    """A shell glob as a regex: ``*`` and ``?`` stay within one path segment."""
    out = []
    for char in pattern:
        out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
    return "".join(out)


def engine() -> Engine:
    """The engine this machine has (module docstring).

    Raises:
        NoEngine: neither is available; the message says what was tried.
    """
    docker = shutil.which("docker")
    if docker and _run(docker, "info", check=False, capture_output=True).returncode == 0:
        return Docker()
    if IMAGE_BUILD.is_file() and os.access(IMAGE_BUILD, os.X_OK):
        return ImageBuild(IMAGE_BUILD)
    why = "no docker command" if not docker else "`docker info` fails (no engine answers)"
    raise NoEngine(f"cannot build images: {why}, and {IMAGE_BUILD} is not there.")


# ---------------------------------------------------------------- environments


def manifest_env(function: str) -> dict[str, str]:
    """The environment knative/base/<function>.yaml gives its container: literal ``env``
    values and every ConfigMap of its ``envFrom`` (literal values win, as in Kubernetes).
    Secret references are left out: the caller supplies local secrets
    (:func:`secret_keys` lists them)."""
    container = _container(function)
    configmaps = _configmaps()
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]])
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = str(entry["value"])
    return env


def secret_keys(function: str) -> list[str]:
    """Variables the manifest takes from Secrets (``secretKeyRef``)."""
    return [
        e["name"]
        for e in _container(function).get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    ]


def _container(function: str) -> dict[str, Any]:
    with (KNATIVE_BASE / f"{function}.yaml").open() as f:
        manifest = yaml.safe_load(f)
    container: dict[str, Any] = manifest["spec"]["template"]["spec"]["containers"][0]
    return container


def _configmaps() -> dict[str, dict[str, str]]:
    found = {}
    for path in sorted(KNATIVE_BASE.glob("*.yaml")):
        with path.open() as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get("kind") == "ConfigMap":
                    data = doc.get("data") or {}
                    found[doc["metadata"]["name"]] = {k: str(v) for k, v in data.items()}
    return found


# ---------------------------------------------------------------- command line


def build(services: list[ServiceSpec], chosen: Engine) -> None:
    same = tag()  # once: a commit made during the builds must not split the set
    for service in services:
        name = image(service, same)
        print(f"== {name} ({chosen.name})", flush=True)
        chosen.build(ROOT / "functions" / service.package / "Dockerfile", name)


def main(argv: list[str]) -> int:
    command, *names = argv or ["build"]
    services = [s for s in discover() if not names or s.name in names or s.package in names]
    try:
        chosen = engine()
    except NoEngine as e:
        print(f"make images: {e}", file=sys.stderr)
        return 1
    if command == "build":
        build(services, chosen)
        return 0
    missing = [image(s) for s in services if not chosen.has(image(s))]
    if command == "check":
        for name in missing:
            print(f"{name} is not built: run `make images` first", file=sys.stderr)
        return 1 if missing else 0
    if command == "sizes":
        if missing:
            print(f"not built: {', '.join(missing)}", file=sys.stderr)
            return 1
        print(f"| service | added MB ({chosen.name}) |\n|---|---|")
        for service in services:
            print(f"| {service.name} | {chosen.added_mb(image(service)):.1f} |")
        return 0
    print(f"unknown command {command!r}: build, check or sizes", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
