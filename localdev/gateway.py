"""gateway is the local API gateway: one base URL for every function's contract paths.

Each function publishes its routes in ``/openapi.json``; the gateway reads them at
start and forwards a request, path and query unchanged, to the function owning the
path (adding ``X-Forwarded-For``/``-Proto``/``-Host``). Health paths exist on every
function, so the gateway answers ``/health``, ``/ready`` and ``/health/startup`` itself
(200 only when every function is healthy) and exposes each function's own as
``/_functions/<name>/health``. Development only (the cluster uses its ingress).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from shared import __version__, health, openapi
from shared.errors import BadRequest, NotFound, ProblemError, Unavailable
from shared.responses import error_response
from shared.routing import Route, Router

if TYPE_CHECKING:
    from localdev.broker import LocalBroker
    from localdev.discovery import ServiceSpec

logger = logging.getLogger(__name__)
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
# How long the gateway keeps an idle client connection open (a cloud load balancer: 60+ s).
GATEWAY_KEEPALIVE_SECONDS = 75
# set below from the incoming request; copying them too would send each header twice
_FORWARDED = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}


@dataclass(frozen=True)
class Owner:
    """The function serving a route: the endpoint of the gateway's routes."""

    function: str
    base_url: str

    async def __call__(self, request: Request) -> Response:
        """Never called: the gateway resolves its routes and forwards (``_forward``)."""
        raise NotImplementedError


class Table:
    """Method + path -> function, built from the functions' OpenAPI documents and matched
    by the functions' own router (shared.routing), so both agree on every path."""

    def __init__(self, routes: Iterable[tuple[str, str, str]], functions: dict[str, str]) -> None:
        """``routes``: (method, path template, function name); ``functions``: name -> URL."""
        self.functions = functions
        self.router = Router()
        for method, template, function in routes:
            owner = Owner(function, functions[function])
            self.router.routes.append(Route(method, template, owner))

    def resolve(self, method: str, path: str) -> Owner:
        """The function serving ``method path``.

        Raises:
            NotFound: no function serves the path.
            MethodNotAllowed: functions serve it for other methods (``Allow`` lists them).
        """
        try:
            route, _ = self.router.match(method, path)
        except NotFound:
            raise NotFound(f"No function serves '{path}'.") from None
        owner: Owner = route.endpoint  # type: ignore[assignment]
        return owner


async def build_table(functions: dict[str, str], client: httpx.AsyncClient) -> Table:
    """Read ``/openapi.json`` of every function (name -> base URL).

    Raises:
        RuntimeError: a function did not publish its document, or another answered for it;
            a gateway missing a function's routes would answer 404 for all of them.
    """
    routes = []
    for name, base in functions.items():
        answer = await client.get(f"{base}/openapi.json")
        document = answer.json() if answer.status_code == 200 else {}
        if document.get("info", {}).get("title") != name:
            raise RuntimeError(
                f"{base}/openapi.json answered {answer.status_code} without the document of"
                f" '{name}'; is the function running on that port?"
            )
        for path, operations in document.get("paths", {}).items():
            if path in health.HEALTH_PATHS:
                continue
            template = operations.get("x-path-template", path)
            for method in operations:
                if not method.startswith("x-"):
                    routes.append((method.upper(), template, name))
    return Table(routes, functions)


def create_app(table: Table, client: httpx.AsyncClient, broker: LocalBroker | None = None) -> _App:
    started = time.time()

    async def dispatch(request: Request) -> Response:
        path = request.url.path
        # forwarded as the client encoded it: decoded paths may hold control characters
        raw = bytes(request.scope.get("raw_path") or path.encode()).decode("ascii", "replace")
        try:
            if path == "/_broker" and request.method == "POST" and broker is not None:
                return await broker.publish(request)
            if path in health.HEALTH_PATHS and request.method in ("GET", "HEAD"):
                return await _aggregate(table, client, path, started)
            if path.startswith("/_functions/"):
                name, _, rest = raw[len("/_functions/") :].partition("/")
                if name not in table.functions:
                    raise NotFound(f"No function named '{name[:64]}'.")
                return await _forward(request, client, table.functions[name], "/" + rest)
            if path == "/openapi.json":
                return JSONResponse(await _merged_openapi(table, client))
            owner = table.resolve(request.method, path)
            return await _forward(request, client, owner.base_url, raw)
        except ProblemError as e:
            return error_response(e, instance=path)

    return _App(dispatch)


class _App:
    def __init__(self, dispatch: Any) -> None:
        self.dispatch = dispatch

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        request = Request(scope, receive)
        response = await self.dispatch(request)
        await response(scope, receive, send)


async def _forward(request: Request, client: httpx.AsyncClient, base: str, path: str) -> Response:
    headers = [
        (k, v)
        for k, v in request.headers.items()
        if k.lower() not in _HOP_BY_HOP and k.lower() not in _FORWARDED
    ]
    client_host = request.client.host if request.client else "unknown"
    prior = request.headers.get("x-forwarded-for")
    headers.append(("x-forwarded-for", f"{prior}, {client_host}" if prior else client_host))
    headers.append(("x-forwarded-proto", request.url.scheme))
    headers.append(("x-forwarded-host", request.headers.get("host", "")))
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and "transfer-encoding" not in request.headers:
        # Forwarded, so the function refuses an oversized body from its declared length
        # (413 at once) instead of reading it up to its limit first.
        headers.append(("content-length", declared))
    url = f"{base}{path}"
    if request.url.query:
        url += f"?{request.url.query}"
    try:
        upstream = client.build_request(
            request.method, url, headers=headers, content=_body(request)
        )
        answer = await client.send(upstream, stream=True)
    except httpx.InvalidURL as e:
        raise BadRequest(f"The path cannot be forwarded: {e}.") from e
    except httpx.TransportError as e:
        # the caller is told only that it was unreachable; the log says how (a refused
        # connection, a keep-alive connection closed under the request, a timeout)
        logger.warning("%s %s -> %s: %s", request.method, path, base, _causes(e))
        raise Unavailable(
            "function", retry_after=2, detail="The function serving this path is unreachable."
        ) from e
    out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
    return StreamingResponse(
        answer.aiter_raw(),
        status_code=answer.status_code,
        headers=out_headers,
        background=BackgroundTask(answer.aclose),
    )


def _causes(error: BaseException) -> str:
    """``ReadError <- BrokenResourceError <- ConnectionResetError: [Errno 104] ...``: the
    chain under a transport error, which tells a reset by the function (the peer) from a
    connection closed on our side (anyio's ``ClosedResourceError``)."""
    chain: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < 5:
        chain.append(f"{type(seen).__name__}: {seen}" if str(seen) else type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    return " <- ".join(chain)


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk


async def _aggregate(
    table: Table, client: httpx.AsyncClient, path: str, started: float
) -> Response:
    async def probe(name: str, base: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            status = (await client.get(f"{base}{path}", timeout=5.0)).status_code
        except httpx.TransportError:
            status = 0
        return {
            "name": name,
            "status": "healthy" if status == 200 else "unhealthy",
            "latency_ms": round((time.perf_counter() - t0) * 1000, 2),
        }

    components = list(await asyncio.gather(*(probe(n, b) for n, b in table.functions.items())))
    healthy = all(c["status"] == "healthy" for c in components)
    body = health.body(
        service="gateway",
        version=__version__,
        status="healthy" if healthy else "unhealthy",
        started_at=started,
        components=components,
    )
    return Response(json.dumps(body), 200 if healthy else 503, media_type="application/json")


async def _merged_openapi(table: Table, client: httpx.AsyncClient) -> dict[str, Any]:
    documents = {
        name: (await client.get(f"{base}/openapi.json")).json()
        for name, base in table.functions.items()
    }
    return openapi.merge(documents, title="AI Code Review Platform", version=__version__)


async def serve(
    services: list[ServiceSpec],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    eventing: Path | None = None,
    ping_interval: float = 60.0,
) -> None:
    """Serve the gateway on ``port`` and each service's seed port until SIGINT/SIGTERM;
    ``port`` also hosts the local Broker (``/_broker``) built from ``eventing``'s Triggers."""
    import signal

    import uvicorn

    from localdev import broker as local_broker

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # one handler below stops them all
            yield

    # Idle connections to a function are dropped after 1 s, long before the function
    # closes its end (shared/server.py): a request sent on a connection the server is
    # closing fails unanswered (a 503 here), which the soak met a few times an hour when
    # the functions kept gunicorn's default of 2 s.
    limits = httpx.Limits(keepalive_expiry=1.0)
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(300.0, connect=3.0), limits=limits
    ) as client:
        everything = {f.name: f"http://127.0.0.1:{f.port}" for s in services for f in s.functions}
        events = local_broker.LocalBroker(
            local_broker.load_triggers(eventing) if eventing else [], everything, client
        )
        apps = [(port, create_app(await build_table(everything, client), client, events))]
        for service in services:
            own = {f.name: everything[f.name] for f in service.functions}
            apps.append((service.port, create_app(await build_table(own, client), client)))
        servers = [
            # As a load balancer does, the gateway keeps an idle client connection longer
            # than clients do (requests/urllib3 keep theirs indefinitely): uvicorn's 5 s
            # closed ones a client reused at that moment (status 0 in locust).
            _Server(
                uvicorn.Config(
                    app,
                    host=host,
                    port=p,
                    log_level="warning",
                    lifespan="off",
                    timeout_keep_alive=GATEWAY_KEEPALIVE_SECONDS,
                )
            )
            for p, app in apps
        ]

        def stop_all() -> None:
            for server in servers:
                server.should_exit = True

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop_all)
        pings = local_broker.load_pings(eventing) if eventing else []
        ticker = loop.create_task(events.ping_forever(pings, interval=ping_interval))
        try:
            await asyncio.gather(*(s.serve() for s in servers))
        finally:
            ticker.cancel()
