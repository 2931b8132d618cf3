"""dockerfiles renders every service's Dockerfile from one template.

Each service still has its own ``functions/<service>/Dockerfile`` (Cloud Build, ``docker
build -f`` and hadolint read them as files, and a build tool without build arguments can
build them), but all seven are ``localdev/service.Dockerfile.tmpl`` with the service's
names filled in, so they cannot drift apart. ``make dockerfiles`` writes them;
tests/deploy/test_dockerfiles.py fails when one differs from its rendering.

Usage: ``python -m localdev.dockerfiles`` (write) or ``--check`` (exit 1 on a difference).
"""

from __future__ import annotations

import sys
from pathlib import Path

from localdev.discovery import ROOT, ServiceSpec, discover

TEMPLATE = Path(__file__).with_name("service.Dockerfile.tmpl")


def render(service: ServiceSpec) -> str:
    """The Dockerfile of one service."""
    targets = [f.target for f in service.functions]
    manifests = [f"{f.name}.yaml" for f in service.functions]
    values = {
        "@SERVICE@": service.name,
        "@FOLDER@": service.package,
        "@FUNCTIONS@": "functions" if len(targets) > 1 else "function",
        "@TARGETS@": " and ".join(targets),
        "@MANIFESTS@": "knative/base/" + ", ".join(manifests),
        "@FIRST_TARGET@": targets[0],
        "@LAST_TARGET@": targets[-1],
    }
    text = TEMPLATE.read_text()
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def path_of(service: ServiceSpec, root: Path = ROOT) -> Path:
    return root / "functions" / service.package / "Dockerfile"


def stale(root: Path = ROOT) -> list[Path]:
    """Dockerfiles that differ from their rendering (or are missing)."""
    return [
        path_of(s, root)
        for s in discover(root)
        if not path_of(s, root).exists() or path_of(s, root).read_text() != render(s)
    ]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        for path in stale():
            print(f"{path.relative_to(ROOT)} differs from localdev/service.Dockerfile.tmpl")
        return 1 if stale() else 0
    for service in discover():
        path_of(service).write_text(render(service))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
