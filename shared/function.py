"""function turns a router of handlers into a functions-framework ASGI target.

The target (:class:`Function`) answers the health paths itself (functions-framework routes
every path to it), routes the request (``shared.routing``), authenticates its caller before
the body is read (``shared.auth``), reads and validates the body (``shared.inputs``),
renders the result and every error (``shared.responses``), propagates the request id and
trace, writes one access-log line per request, serves ``GET /openapi.json``, and takes
part in SIGTERM draining.

Handlers import what they use from the module that defines it; the names re-exported
below keep this module the one import of a function's ``main.py`` and of older handlers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pydantic_core
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from shared import (
    __version__,
    coldstart,
    config,
    events,
    health,
    idempotency,
    lifecycle,
    logs,
    openapi,
    server,
)
from shared.cache import Cache
from shared.errors import NotFound, ProblemError, Unavailable
from shared.inputs import parse_json as parse_json
from shared.inputs import parse_uuid as parse_uuid
from shared.inputs import path_uuid as path_uuid
from shared.inputs import query_uuid as query_uuid
from shared.inputs import read_body, require_json
from shared.inputs import unstorable_text as unstorable_text
from shared.inputs import validate as validate
from shared.responses import error_response
from shared.responses import render as render
from shared.routing import Endpoint as Endpoint
from shared.routing import Route as Route
from shared.routing import Router as Router

logger = logging.getLogger("shared.function")

StartupHook = Callable[[], Awaitable[None]]
CLIENT_CLOSED_REQUEST = 499
"""The access log's status for a request whose client left before its body was read."""
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class Function:
    """A deployable function: a router plus health, lifecycle and error rendering.

    Args:
        name: The Knative Service name (``auth-tokens``).
        router: The function's routes.
        settings: The pydantic settings class, loaded (and so validated) right away.
        checks: Readiness checks by component name (``database``, ``redis``).
        startup: Hooks run once before the first request (migrations, bootstrap).
        shutdown: Callbacks closing pools after draining.
        cache: Where ``Idempotency-Key`` answers are kept (routes with ``idempotent``).
        authenticate: Checks the caller of every route that is not ``public`` before its
            body is read (and of a ``public`` route with ``optional_auth`` that carries a
            bearer token); ``Verifier.authenticate``, which keeps the principal in the
            request for ``shared.auth.principal``.
    """

    def __init__(
        self,
        name: str,
        router: Router,
        *,
        settings: type[config.BaseConfig],
        checks: dict[str, health.Check] | None = None,
        startup: Sequence[StartupHook] = (),
        shutdown: Sequence[lifecycle.ShutdownCallback] = (),
        cache: Cache | None = None,
        authenticate: Callable[[Request], Awaitable[Any]] | None = None,
    ) -> None:
        self.name = name
        self._authenticate = authenticate
        self.router = router
        self.settings = config.load(settings)
        self.health = health.Health(
            service=self.settings.service_name, version=__version__, checks=dict(checks or {})
        )
        self._startup_hooks = list(startup)
        self._shutdown = list(shutdown)
        self.cache = cache
        self._started = False
        self._startup_lock: asyncio.Lock | None = None
        self._startup_error: str | None = None
        self._lifecycle: lifecycle.Lifecycle | None = None
        self._openapi: bytes | None = None
        self._max_body = self.settings.max_body_bytes
        self._cluster_domain = self.settings.cluster_domain
        logs.setup(
            service=self.settings.service_name,
            level=self.settings.log_level,
            fmt=self.settings.log_format,
        )
        server.keep_connections_alive()

    @property
    def checks(self) -> dict[str, health.Check]:
        return self.health.checks

    def _join_lifecycle(self) -> lifecycle.Lifecycle:
        """The process's lifecycle, joined once (SIGTERM hook, drain time, pools to close)."""
        state = lifecycle.state
        if self._lifecycle is not state:
            state.install()
            state.drain_timeout = self.settings.shutdown_timeout_seconds
            for callback in self._shutdown:
                state.on_shutdown(callback)
            self._lifecycle = state
        return state

    async def __call__(self, request: Request) -> Response:
        state = self._join_lifecycle()
        if coldstart.stage == "cold":
            coldstart.warming()
        request_id = _request_id(request)
        rid_token = logs.request_id_var.set(request_id)
        trace_token = logs.trace_var.set(logs.parse_trace(request.headers))
        started = time.perf_counter()
        try:
            with state.track():
                try:
                    response = await self._respond(request)
                except asyncio.CancelledError:
                    if not state.draining:
                        raise
                    # cut by the drain timeout: tell the client to retry elsewhere
                    response = error_response(
                        Unavailable("self", retry_after=1, detail="Cut short by shutdown."),
                        instance=request.url.path,
                    )
            response.headers["X-Request-ID"] = request_id
            if state.draining:
                response.headers["Connection"] = "close"
            _access_log(request, response, started)
            if coldstart.stage == "warming" and request.scope["path"] not in health.HEALTH_PATHS:
                coldstart.warm()  # the first real answer is out
            return response
        finally:
            logs.trace_var.reset(trace_token)
            logs.request_id_var.reset(rid_token)

    async def _respond(self, request: Request) -> Response:
        path = request.scope.get("path") or request.url.path  # decoded, as routed
        route: Route | None = None
        try:
            if request.method in ("GET", "HEAD") and path in health.HEALTH_PATHS:
                return await self._health(path)
            if lifecycle.state.draining:
                raise Unavailable("self", retry_after=1, detail="The function is shutting down.")
            if request.method == "GET" and path == "/openapi.json":
                return Response(self._openapi_document(), media_type="application/json")
            route, params = self.router.match(request.method, path)
            if route.internal and not events.is_cluster_local(
                request.headers.get("host", ""), domain=self._cluster_domain
            ):
                raise NotFound(f"No route for '{path}'.")  # as if absent: nothing to probe
            await self.ensure_started()
            if self._authenticate is not None and _needs_authentication(route, request):
                await self._authenticate(request)  # 401 before any body is read or judged
            request.scope["path_params"] = params
            return await self._invoke(route, request)
        except ProblemError as e:
            error_format = route.error_format if route is not None else "problem"
            return error_response(e, instance=path, error_format=error_format)
        except ClientDisconnect:
            # the client went away mid-body: nobody reads an answer, and it is no error of
            # ours; the access line records 499 (nginx's "client closed request")
            logger.info("Client disconnected before sending the whole body of %s", path)
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        except Exception:
            logger.exception("Unhandled error on %s %s", request.method, path)
            error_format = route.error_format if route is not None else "problem"
            return error_response(
                ProblemError("An unexpected error occurred."),
                instance=path,
                error_format=error_format,
            )

    async def _invoke(self, route: Route, request: Request) -> Response:
        limit = route.max_body() if callable(route.max_body) else route.max_body
        body = await read_body(request, limit=limit or self._max_body)

        async def handle() -> Response:
            if route.body is not None:
                require_json(request)
                result = await route.endpoint(request, parse_json(body, route.body))
            else:
                result = await route.endpoint(request)
            return render(result, status=route.status)

        if route.idempotent and self.cache is not None:
            return await idempotency.run(self.cache, request, body, handle)
        return await handle()

    async def ensure_started(self) -> None:
        """Run the startup hooks once; a failure is retried by the next request."""
        if self._started:
            return
        if self._startup_lock is None:
            self._startup_lock = asyncio.Lock()
        async with self._startup_lock:
            if self._started:
                return
            try:
                for hook in self._startup_hooks:
                    await hook()
            except ProblemError as e:
                self._startup_error = e.detail
                raise
            except Exception as e:
                self._startup_error = logs.redact(f"{type(e).__name__}: {e}")[:300]
                logger.exception("Startup failed")
                raise Unavailable("startup", detail=f"Startup failed: {self._startup_error}") from e
            self._started = True
            self._startup_error = None
            if self.settings.runtime_stats_seconds:
                lifecycle.state.report_runtime(self.settings.runtime_stats_seconds)

    async def _start_for_health(self) -> str | None:
        """None once started; else what the probe may be told (why is in the log only)."""
        try:
            await self.ensure_started()
        except ProblemError:
            return "Startup has not completed; retry later."
        return None

    async def _health(self, path: str) -> Response:
        state = lifecycle.state
        code, document = await self.health.answer(
            path,
            started_at=state.started_at,
            draining=lambda: state.draining,
            start=self._start_for_health,
        )
        headers = {"Cache-Control": "no-store"}
        if code == 503:
            headers["Retry-After"] = "1"
        return Response(
            pydantic_core.to_json(document),
            status_code=code,
            media_type="application/json",
            headers=headers,
        )

    def _openapi_document(self) -> bytes:
        if self._openapi is None:
            self._openapi = pydantic_core.to_json(
                openapi.document(self.name, self.router.routes, version=__version__)
            )
        return self._openapi


def _needs_authentication(route: Route, request: Request) -> bool:
    """Every route but a ``public`` one; a ``public`` one with ``optional_auth`` when the
    request carries credentials (then they must be a valid bearer token, else a 401)."""
    if not route.public:
        return True
    return route.optional_auth and "authorization" in request.headers


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def _access_log(request: Request, response: Response, started: float) -> None:
    latency = time.perf_counter() - started
    scope = request.scope
    client = scope.get("client")
    path = scope.get("path") or request.url.path
    logs.access(
        request.method,
        path,
        response.status_code,
        latency,
        {
            "requestMethod": request.method,
            "requestUrl": path,
            "status": response.status_code,
            "responseSize": response.headers.get("content-length", "0"),
            "userAgent": request.headers.get("user-agent", ""),
            "remoteIp": client[0] if client else None,
            "latency": f"{latency:.6f}s",
            "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
        },
    )
