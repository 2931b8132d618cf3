"""comparison-service's function targets: ab_tests and comparisons."""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from shared import coldstart

with coldstart.importing():  # the service, without the collector (shared/coldstart.py)
    from functions.comparison_service import abtests, context
    from functions.comparison_service import comparisons as comparison_routes

    _ab_tests = context.create("ab-tests", abtests.router)
    _comparisons = context.create("comparisons", comparison_routes.router)


@functions_framework.aio.http
async def ab_tests(request: Request) -> Response:
    return await _ab_tests(request)


@functions_framework.aio.http
async def comparisons(request: Request) -> Response:
    return await _comparisons(request)
