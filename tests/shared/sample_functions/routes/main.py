"""A sample function exercising the shared router: bodies, path params, idempotency, failures."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import functions_framework.aio
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shared import cache, config, logs
from shared.function import Function, Router, path_uuid


class SampleConfig(config.BaseConfig):
    """Only the shared variables; SERVICE_NAME comes from the environment."""


def settings() -> SampleConfig:
    loaded: SampleConfig = config.load(SampleConfig)
    return loaded


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1)


class Created(BaseModel):
    id: str
    name: str
    quantity: int


# Test-controlled state; ff re-executes this module on every load, so each load starts clean.
calls: dict[str, int] = {"create": 0, "flaky": 0, "startup": 0}
startup_failures = 0
ready_error: str | None = None
flaky_failures = 0
entered: asyncio.Event | None = None
release: asyncio.Event | None = None

redis = cache.Cache(settings)
router = Router()


@router.post("/items", status=201, body=Item, response=Created, idempotent=True, public=True)
async def create_item(request: Request, body: Item) -> Created:
    """Create an item (idempotent)."""
    calls["create"] += 1
    return Created(id=uuid.uuid4().hex, name=body.name, quantity=body.quantity)


@router.get("/items/{item_id}", response=Created)
async def read_item(request: Request) -> dict[str, Any]:
    """Read an item by id."""
    return {"id": request.path_params["item_id"], "name": "sample", "quantity": 1}


@router.delete("/items/{item_id}", status=204)
async def delete_item(request: Request) -> None:
    """Delete an item."""


@router.get("/things/{id}")
async def read_thing(request: Request) -> dict[str, str]:
    """A UUID path parameter."""
    return {"id": str(path_uuid(request, "id"))}


@router.get("/files/{path:path}")
async def read_file(request: Request) -> dict[str, str]:
    """A path parameter spanning slashes."""
    return {"path": request.path_params["path"]}


@router.get("/users/{user_id}")
async def read_user(request: Request) -> dict[str, str]:
    """Templated on purpose: the gateway must prefer auth-users' literal /users/me."""
    return {"function": "routes", "user_id": request.path_params["user_id"]}


@router.post("/small", body=Item, max_body=64)
async def small(request: Request, body: Item) -> dict[str, Any]:
    """A route with its own 64-byte body limit."""
    return body.model_dump()


@router.post("/flaky", status=201, idempotent=True)
async def flaky(request: Request) -> Response:
    """Answers 503 while ``flaky_failures`` remain, then 201."""
    global flaky_failures
    calls["flaky"] += 1
    if flaky_failures > 0:
        flaky_failures -= 1
        return JSONResponse({"detail": "try again"}, status_code=503)
    return JSONResponse({"attempt": calls["flaky"]}, status_code=201)


@router.post("/gated", status=201, idempotent=True)
async def gated(request: Request) -> dict[str, str]:
    """Signals ``entered`` and waits for ``release`` (a request still in progress)."""
    assert entered is not None and release is not None
    entered.set()
    await release.wait()
    return {"done": "yes"}


@router.post("/events", public=True, internal=True)
async def receive_event(request: Request) -> dict[str, str]:
    """An event delivery: reachable only at the cluster-local address."""
    return {"host": request.headers["host"]}


@router.get("/boom")
async def boom(request: Request) -> None:
    """Fails unexpectedly, with a secret in the message."""
    raise RuntimeError("kaboom password=hunter2")


@router.get("/slow")
async def slow(request: Request) -> dict[str, float]:
    """Sleeps ``?seconds=``."""
    seconds = float(request.query_params.get("seconds", "0.05"))
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@router.get("/context")
async def context(request: Request) -> dict[str, Any]:
    """The request id and trace the router put in the context variables."""
    trace = logs.trace_var.get()
    return {
        "request_id": logs.request_id_var.get(),
        "trace_id": trace.trace_id if trace else None,
        "span_id": trace.span_id if trace else None,
        "sampled": trace.sampled if trace else None,
    }


@router.put("/echo/{rest:path}")
async def echo(request: Request) -> dict[str, Any]:
    """Everything the request carried (the gateway test)."""
    return {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "headers": dict(request.headers),
        "body": (await request.body()).decode(),
    }


@router.get("/large")
async def large(request: Request) -> Response:
    """A 256 KiB body (streamed back by the gateway)."""
    return Response(b"0123456789abcdef" * 16384, media_type="application/octet-stream")


async def start() -> None:
    global startup_failures
    calls["startup"] += 1
    await asyncio.sleep(0.01)  # concurrent first requests pile up behind the lock here
    if startup_failures > 0:
        startup_failures -= 1
        raise RuntimeError("sample warm-up failed")


async def sample_check() -> None:
    if ready_error is not None:
        raise ConnectionError(ready_error)


_fn = Function(
    "routes",
    router,
    settings=SampleConfig,
    checks={"sample": sample_check, "redis": redis.check},
    startup=[start],
    shutdown=[redis.close],
    cache=redis,
)


@functions_framework.aio.http
async def routes(request: Request) -> Response:
    return await _fn(request)
