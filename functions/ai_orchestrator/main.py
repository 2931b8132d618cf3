"""ai-orchestrator's function target: orchestrator."""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from shared import coldstart

with coldstart.importing():  # the service, without the collector (shared/coldstart.py)
    from functions.ai_orchestrator import context
    from functions.ai_orchestrator.orchestrator import router

    _orchestrator = context.create("orchestrator", router)


@functions_framework.aio.http
async def orchestrator(request: Request) -> Response:
    return await _orchestrator(request)
