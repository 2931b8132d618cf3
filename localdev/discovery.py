"""discovery: the platform's services and function targets, found in ``functions/`` itself.

The one discovery of function targets: the local runner, the gateway, the container suite
and the deploy tests all read it. It parses each ``functions/*/main.py`` (an ``async def``
under functions-framework's ``aio.http`` or ``aio.cloud_event`` decorator is a target)
instead of importing it, so discovery needs none of the services' dependencies and runs no
module code. A service's seed port is the ``LOCAL_PORT`` constant of its package's
``__init__.py``, read by running that file alone (it holds only constants: no imports of the
service's modules or dependencies) in a namespace of its own, not ``sys.modules``.
"""

from __future__ import annotations

import ast
import runpy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# functions-framework's decorators of an ASGI target, and the signature type each means
_DECORATORS = {
    "functions_framework.aio.http": "http",
    "functions_framework.aio.cloud_event": "cloudevent",
}


@dataclass(frozen=True)
class FunctionSpec:
    service: str
    target: str
    kind: str
    port: int
    source: Path

    @property
    def name(self) -> str:
        return self.target.replace("_", "-")


@dataclass
class ServiceSpec:
    name: str
    package: str
    port: int
    functions: list[FunctionSpec] = field(default_factory=list)


def function_port(service_port: int, index: int) -> int:
    """Function ``index`` (0-based) of the service on ``80NN`` listens on ``80N(index+1)``
    shifted by one digit: auth-service 8001 -> 8011, 8012; provider-service 8007 -> 8071."""
    return 8000 + (service_port - 8000) * 10 + index + 1


def discover(root: Path = ROOT) -> list[ServiceSpec]:
    """Every service folder with a ``main.py``, its seed port and its function targets."""
    services = []
    for main in sorted(root.glob("functions/*/main.py")):
        package = main.parent.name
        port = _local_port(main.parent / "__init__.py")
        service = ServiceSpec(package.replace("_", "-"), package, port)
        for index, (target, kind) in enumerate(_targets(main)):
            service.functions.append(
                FunctionSpec(service.name, target, kind, function_port(port, index), main)
            )
        services.append(service)
    return sorted(services, key=lambda s: s.port)


def _local_port(init: Path) -> int:
    port = runpy.run_path(str(init)).get("LOCAL_PORT")
    if not isinstance(port, int) or isinstance(port, bool):
        raise RuntimeError(f"{init} does not define LOCAL_PORT as an int (found {port!r})")
    return port


def _targets(main: Path) -> Iterator[tuple[str, str]]:
    for node in ast.parse(main.read_text(), filename=str(main)).body:
        if not isinstance(node, ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            kind = _DECORATORS.get(_dotted(decorator))
            if kind:
                yield node.name, kind


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return ""


def service_urls(services: list[ServiceSpec]) -> dict[str, str]:
    """``<FUNCTION>_URL`` for every function (``PROJECTS_URL``, ``QUOTAS_URL``, ...), so
    functions find each other locally as they do through cluster DNS in Knative."""
    return {
        f"{f.target.upper()}_URL": f"http://127.0.0.1:{f.port}"
        for s in services
        for f in s.functions
    }
