"""provider-service's function targets: providers and quotas."""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from shared import coldstart

with coldstart.importing():  # the service, without the collector (shared/coldstart.py)
    from functions.provider_service import context
    from functions.provider_service.providers import router as providers_router
    from functions.provider_service.quotas import router as quotas_router

    _providers = context.create("providers", providers_router)
    _quotas = context.create("quotas", quotas_router)


@functions_framework.aio.http
async def providers(request: Request) -> Response:
    return await _providers(request)


@functions_framework.aio.http
async def quotas(request: Request) -> Response:
    return await _quotas(request)
