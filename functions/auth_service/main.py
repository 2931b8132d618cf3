"""auth-service's function targets: auth-tokens and auth-users."""

from __future__ import annotations

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from shared import coldstart

with coldstart.importing():  # the service, without the collector (shared/coldstart.py)
    from functions.auth_service import context, tokens, users

    _tokens = context.create("auth-tokens", tokens.router, startup=context.bootstrap)
    _users = context.create("auth-users", users.router)


@functions_framework.aio.http
async def auth_tokens(request: Request) -> Response:
    return await _tokens(request)


@functions_framework.aio.http
async def auth_users(request: Request) -> Response:
    return await _users(request)
