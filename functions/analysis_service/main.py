"""analysis-service's function targets: analyses and analysis_worker."""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from shared import coldstart

with coldstart.importing():  # the service, without the collector (shared/coldstart.py)
    from functions.analysis_service import analyses as analysis_routes
    from functions.analysis_service import context, worker

    _analyses = context.create("analyses", analysis_routes.router)
    _worker = context.create("analysis-worker", worker.router)


@functions_framework.aio.http
async def analyses(request: Request) -> Response:
    return await _analyses(request)


@functions_framework.aio.http
async def analysis_worker(request: Request) -> Response:
    return await _worker(request)
