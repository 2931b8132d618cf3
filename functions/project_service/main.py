"""project-service's function targets: projects and project-files."""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from shared import coldstart

with coldstart.importing():  # the service, without the collector (shared/coldstart.py)
    from functions.project_service import context, files, snapshots
    from functions.project_service import projects as project_routes

    _projects = context.create("projects", project_routes.router)
    _files = context.create("project-files", files.router, snapshots.router)


@functions_framework.aio.http
async def projects(request: Request) -> Response:
    return await _projects(request)


@functions_framework.aio.http
async def project_files(request: Request) -> Response:
    return await _files(request)
