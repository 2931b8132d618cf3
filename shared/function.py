"""function turns a router of handlers into a functions-framework ASGI target.

The target answers the health paths itself (functions-framework routes every path
to it), parses and limits bodies, renders every error as RFC 9457 problem details,
propagates the request id and trace, writes one access-log line per request,
serves ``GET /openapi.json``, and takes part in SIGTERM draining.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, overload

import pydantic_core
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from shared import __version__, config, events, health, idempotency, lifecycle, logs, openapi
from shared.cache import Cache
from shared.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)

# The route table lives in shared.routing, which shared.openapi reads too; handlers import
# Router from here, beside the Function that serves it.
from shared.routing import Endpoint as Endpoint
from shared.routing import Route as Route
from shared.routing import Router as Router

logger = logging.getLogger("shared.function")
access_logger = logging.getLogger("access")

StartupHook = Callable[[], Awaitable[None]]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
"""A UUID in its one canonical text form (any case): Python's ``uuid.UUID`` also takes
braces, ``urn:uuid:`` and no hyphens, so one id had five spellings in paths and caches."""


def parse_uuid(raw: str) -> uuid.UUID:
    """``raw`` as a UUID if written in the canonical hyphenated form.

    Raises:
        ValueError: it is not.
    """
    if not _UUID.fullmatch(raw):
        raise ValueError(f"'{raw[:40]}' is not a UUID in its hyphenated form")
    return uuid.UUID(raw)


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
        authenticate: Checks the caller of every route that is neither ``public`` nor
            ``own_auth`` before its body is read (``Verifier.authenticate``, whose cache
            makes the handler's own call free).
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
        self.checks = dict(checks or {})
        self._startup_hooks = list(startup)
        self._shutdown = list(shutdown)
        self.cache = cache
        self._started = False
        self._startup_lock: asyncio.Lock | None = None
        self._startup_error: str | None = None
        self._last_components: list[dict[str, Any]] = []
        self._openapi: bytes | None = None
        logs.setup(
            service=self.settings.service_name,
            level=self.settings.log_level,
            fmt=self.settings.log_format,
        )

    async def __call__(self, request: Request) -> Response:
        state = lifecycle.state
        state.install()
        state.drain_timeout = self.settings.shutdown_timeout_seconds
        for callback in self._shutdown:
            state.on_shutdown(callback)
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
                    response = problem_response(
                        Unavailable("self", retry_after=1, detail="Cut short by shutdown."),
                        instance=request.url.path,
                    )
            response.headers["X-Request-ID"] = request_id
            if state.draining:
                response.headers["Connection"] = "close"
            _access_log(request, response, started)
            return response
        finally:
            logs.trace_var.reset(trace_token)
            logs.request_id_var.reset(rid_token)

    async def _respond(self, request: Request) -> Response:
        path = request.scope.get("path") or request.url.path  # decoded, as routed
        try:
            if request.method in ("GET", "HEAD") and path in health.HEALTH_PATHS:
                return await self._health(path)
            if lifecycle.state.draining:
                raise Unavailable("self", retry_after=1, detail="The function is shutting down.")
            if request.method == "GET" and path == "/openapi.json":
                return Response(self._openapi_document(), media_type="application/json")
            route, params = self.router.match(request.method, path)
            if route.internal and not events.is_cluster_local(
                request.headers.get("host", ""), domain=self.settings.cluster_domain
            ):
                raise NotFound(f"No route for '{path}'.")  # as if absent: nothing to probe
            await self.ensure_started()
            if not (route.public or route.own_auth) and self._authenticate is not None:
                await self._authenticate(request)  # 401 before any body is read or judged
            request.scope["path_params"] = params
            return await self._invoke(route, request)
        except ProblemError as e:
            return problem_response(e, instance=path)
        except Exception:
            logger.exception("Unhandled error on %s %s", request.method, path)
            return problem_response(ProblemError("An unexpected error occurred."), instance=path)

    async def _invoke(self, route: Route, request: Request) -> Response:
        limit = route.max_body() if callable(route.max_body) else route.max_body
        body = await read_body(request, limit=limit or self.settings.max_body_bytes)

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

    async def _health(self, path: str) -> Response:
        state = lifecycle.state
        status, code, detail = "healthy", 200, None
        components = self._last_components
        if path == "/ready":
            components = await health.run_checks(self.checks, limit_s=2.0)
            self._last_components = components
            if any(c["status"] != "healthy" for c in components):
                status, code = "unhealthy", 503
        elif path == "/health/startup":
            try:
                await self.ensure_started()
            except ProblemError:
                status, code, detail = "starting", 503, "Startup has not completed; retry later."
        if state.draining:
            status, code, detail = "draining", 503, "The function is shutting down."
        document = health.body(
            service=self.settings.service_name,
            version=__version__,
            status=status,
            started_at=state.started_at,
            components=components,
            detail=detail,
        )
        headers = {"Cache-Control": "no-store"}
        if code == 503:
            headers["Retry-After"] = "1"
        return Response(
            json.dumps(document), status_code=code, media_type="application/json", headers=headers
        )

    def _openapi_document(self) -> bytes:
        if self._openapi is None:
            self._openapi = json.dumps(
                openapi.document(self.name, self.router.routes, version=__version__)
            ).encode()
        return self._openapi


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


async def read_body(request: Request, *, limit: int) -> bytes:
    """Read the body once, refusing more than ``limit`` bytes (declared or streamed).

    Raises:
        PayloadTooLarge: the body is over the limit.
        BadRequest: the Content-Length header is not a number.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("Content-Length is not a number.")
        if int(declared) > limit:
            raise PayloadTooLarge(f"The body is {declared} bytes; the limit is {limit}.")
    if hasattr(request, "_body"):
        cached: bytes = request._body
        return cached
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body exceeds the limit of {limit} bytes.")
        chunks.append(chunk)
    request._body = b"".join(chunks)
    return request._body


def parse_json(raw: bytes, model: type[BaseModel]) -> Any:
    """Parse ``raw`` as JSON into ``model``, strictly: a value must have its documented
    JSON type (``0`` is not a boolean, ``"5"`` not an integer), while the text forms JSON
    has for UUIDs, timestamps and decimals are accepted as their schema says.

    Raises:
        BadRequest: the body is not JSON.
        ValidationFailed: the JSON violates the schema (each field under ``errors``).
    """
    raw = raw or b"null"
    # Only a \u escape can put NUL or a lone surrogate in JSON text (raw ones are invalid
    # JSON or UTF-8), so the body is parsed a second time, to find them, only if it has one.
    if b"\\u" in raw:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(f"The body is not valid JSON: {e}.") from None
        except RecursionError:  # nested deeper than any document of ours (5,000 levels)
            raise BadRequest("The body is not valid JSON: it is nested too deeply.") from None
        bad = _unstorable_text(data, ["body"])
        if bad is not None:
            raise ValidationFailed(
                [{"loc": bad, "msg": "must not contain NUL characters or unpaired surrogates"}]
            )
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as e:
        invalid = [err for err in e.errors(include_url=False) if err["type"] == "json_invalid"]
        if invalid:
            raise BadRequest(f"The body is not valid JSON: {invalid[0]['msg']}.") from None
        raise _field_errors(e, "body") from None


def unstorable_text(value: Any, location: list[Any]) -> list[Any] | None:
    """Where ``value`` (parsed JSON) holds text PostgreSQL cannot store, or None."""
    return _unstorable_text(value, location)


def _unstorable_text(value: Any, location: list[Any]) -> list[Any] | None:
    """Where a JSON string holds text PostgreSQL cannot store (NUL, lone surrogates).

    JSON can escape both; PostgreSQL's text cannot hold them, so without this check such
    input would reach the database and fail there as a 500.
    """
    if isinstance(value, str):
        if "\x00" in value:
            return location
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return location
        return None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _unstorable_text(key, location) if isinstance(key, str) else None
        found = found or _unstorable_text(item, [*location, key])
        if found is not None:
            return found
    return None


def validate(data: Any, model: type[BaseModel], *, location: str) -> Any:
    """Validate ``data`` into ``model``; errors become a 422 listing each field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise _field_errors(e, location) from None


def _field_errors(error: ValidationError, location: str) -> ValidationFailed:
    return ValidationFailed(
        [
            {"loc": [location, *e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        ]
    )


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "application/json").split(";")[0]
    if content_type.strip().lower() not in ("application/json", ""):
        raise UnsupportedMediaType(f"Expected application/json, got '{content_type}'.")


@overload
def query_uuid(request: Request, name: str, *, required: Literal[True]) -> uuid.UUID: ...
@overload
def query_uuid(request: Request, name: str, *, required: bool = False) -> uuid.UUID | None: ...
def query_uuid(request: Request, name: str, *, required: bool = False) -> uuid.UUID | None:
    """A UUID query parameter; None when absent or empty (unless ``required``).

    Raises:
        ValidationFailed: it is not a UUID, or it is required and missing.
    """
    raw = request.query_params.get(name)
    if not raw:
        if required:
            raise ValidationFailed([{"loc": ["query", name], "msg": "is required"}])
        return None
    try:
        return parse_uuid(raw)
    except ValueError:
        raise ValidationFailed([{"loc": ["query", name], "msg": "must be a UUID"}]) from None


def path_uuid(request: Request, name: str = "id") -> uuid.UUID:
    """A UUID path parameter.

    Raises:
        ValidationFailed: the segment is not a UUID.
    """
    try:
        return parse_uuid(str(request.path_params[name]))
    except ValueError:
        raise ValidationFailed([{"loc": ["path", name], "msg": "must be a UUID"}]) from None


def render(result: Any, *, status: int) -> Response:
    """Turn a handler's result into a response (models and dicts become JSON)."""
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204 if status == 200 else status)
    if isinstance(result, BaseModel):
        content = result.model_dump_json().encode()
    else:
        content = pydantic_core.to_json(result)
    return Response(content, status_code=status, media_type="application/json")


def problem_response(error: ProblemError, *, instance: str | None = None) -> Response:
    return Response(
        error.body(instance=instance),
        status_code=error.status,
        media_type=error.media_type(),
        headers=error.headers,
    )


def _access_log(request: Request, response: Response, started: float) -> None:
    latency = time.perf_counter() - started
    client = request.client.host if request.client else None
    http_request = {
        "requestMethod": request.method,
        "requestUrl": str(request.url.path),
        "status": response.status_code,
        "responseSize": response.headers.get("content-length", "0"),
        "userAgent": request.headers.get("user-agent", ""),
        "remoteIp": client,
        "latency": f"{latency:.6f}s",
        "protocol": f"HTTP/{request.scope.get('http_version', '1.1')}",
    }
    access_logger.info(
        "%s %s %d %.1fms",
        request.method,
        request.url.path,
        response.status_code,
        latency * 1000,
        extra={"http_request": http_request},
    )
