"""A sample function for draining tests: a slow route and a shutdown callback leaving a marker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from shared import config, lifecycle
from shared.function import Function, Router


class SlowConfig(config.BaseConfig):
    shutdown_marker: str | None = None


router = Router()


@router.get("/slow", public=True)
async def slow(request: Request) -> dict[str, object]:
    """Sleep ``seconds`` then answer with a body the caller can check in full."""
    seconds = float(request.query_params.get("seconds", "1"))
    tag = request.query_params.get("tag", "")
    await asyncio.sleep(seconds)
    return {"slept": seconds, "tag": tag, "padding": "z" * 4096}


@router.get("/inflight", public=True)
async def inflight(request: Request) -> dict[str, int]:
    """How many other requests this worker is serving right now."""
    return {"inflight": lifecycle.state.inflight - 1}


async def leave_marker() -> None:
    # runs after draining: the test reads this file to know pools would have been closed
    marker = config.load(SlowConfig).shutdown_marker
    if marker:
        with Path(marker).open("a") as f:
            f.write("closed\n")


_fn = Function("slow", router, settings=SlowConfig, shutdown=[leave_marker])


@functions_framework.aio.http
async def slow_function(request: Request) -> Response:
    return await _fn(request)
