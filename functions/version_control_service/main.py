"""version-control-service's function target: versions."""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from shared import coldstart

with coldstart.importing():  # the service, without the collector (shared/coldstart.py)
    from functions.version_control_service import context
    from functions.version_control_service import versions as routes

    _versions = context.create("versions", routes.router)


@functions_framework.aio.http
async def versions(request: Request) -> Response:
    return await _versions(request)
