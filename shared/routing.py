"""routing: a route table, its routes and their options, and matching a request to one.

The one router of the platform: shared.function serves a function's routes with it,
shared.openapi documents them, and the local gateway (localdev/gateway.py) finds the
function owning a path with it, from the routes the functions publish.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from starlette.convertors import Convertor
from starlette.routing import compile_path

from shared.errors import MethodNotAllowed, NotFound

Endpoint = Callable[..., Awaitable[Any]]


@dataclass
class Route:
    method: str
    path: str
    endpoint: Endpoint
    status: int = 200
    also: tuple[int, ...] = ()
    """Other success statuses the handler answers with the same body (200 for an existing
    resource beside 201 for a created one), for the OpenAPI document."""
    body: type[BaseModel] | None = None
    request_schema: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Media type -> JSON schema of a body the handler parses itself (an OAuth form, an
    OpenAI request): described in the OpenAPI document only, never parsed by the router."""
    response: Any = None
    max_body: int | Callable[[], int] | None = None
    """Body limit in bytes, or a callable returning it per request (a limit from settings)."""
    public: bool = False
    """No token needed; otherwise the function's ``authenticate`` runs before the body is
    read, so an anonymous or forged call is a 401 whatever its body. Handlers read the
    caller with ``shared.auth.principal(request)``."""
    optional_auth: bool = False
    """With ``public``: credentials, when sent, must be a valid bearer token all the same
    (else a 401), whose principal is handed on (``principal(request, required=False)``)."""
    internal: bool = False
    """Served only at the cluster-local address (event deliveries); elsewhere a 404."""
    path_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    """OpenAPI schemas of path parameters; ``id`` and ``*_id`` default to UUIDs (API.md)."""
    error_format: Literal["problem", "oauth", "openai"] = "problem"
    """How this route's errors are written (shared.responses renders them, the OpenAPI
    document lists them): RFC 9457 problems; RFC 6749 OAuth errors (``application/json``)
    for 400/401 beside problems; OpenAI's error object."""
    idempotent: bool = False
    summary: str = ""
    regex: re.Pattern[str] = field(init=False)
    path_format: str = field(init=False)
    convertors: dict[str, Convertor[Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.regex, self.path_format, self.convertors = compile_path(self.path)
        self.summary = self.summary or (inspect.getdoc(self.endpoint) or "").split("\n")[0]


class Router:
    """An ordered list of routes, filled with decorators."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._indexed = -1  # len(routes) when the index below was built (routes may be added)
        self._literal: dict[str, list[Route]] = {}
        self._templated: list[Route] = []

    def route(self, method: str, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        def register(endpoint: Endpoint) -> Endpoint:
            self.routes.append(Route(method, path, endpoint, **options))
            return endpoint

        return register

    def include(self, *routers: Router) -> Router:
        """Serve the routes of ``routers`` too, after this router's own, in their order.

        Returns:
            This router, so that ``Router().include(a, b)`` is one expression.
        """
        for router in routers:
            self.routes.extend(router.routes)
        return self

    def get(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("DELETE", path, **options)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, Any]]:
        """Find the route for ``method path``.

        Raises:
            NotFound: no route has this path.
            MethodNotAllowed: the path exists for other methods.
        """
        if self._indexed != len(self.routes):
            self._literal, self._templated = {}, []
            for route in self.routes:
                if route.convertors:
                    self._templated.append(route)
                else:
                    self._literal.setdefault(route.path, []).append(route)
            self._indexed = len(self.routes)
        # A literal path (/users/me) is its own resource: a template beside it (/users/{id})
        # neither serves its other methods nor adds them to its Allow.
        allowed: set[str] = set()
        for route in self._literal.get(path) or self._templated:
            found = route.regex.match(path)
            if not found:
                continue
            if route.method != method and not (method == "HEAD" and route.method == "GET"):
                allowed.add(route.method)
                continue
            params = {k: route.convertors[k].convert(v) for k, v in found.groupdict().items()}
            return route, params
        if allowed:
            raise MethodNotAllowed(sorted(allowed))
        raise NotFound(f"No route for '{path}'.")
