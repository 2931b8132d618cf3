"""responses writes what a handler returns, and every error, onto the wire.

Errors are rendered here and nowhere else: a :class:`~shared.errors.ProblemError` only
describes itself (status, type, title, detail, headers, extension members); this module
chooses the format a route documents (``Route.error_format``):

- ``problem``: RFC 9457 problem details, ``application/problem+json`` (API.md);
- ``oauth``: the same, except that an :class:`~shared.errors.OAuthError` is written as
  ``application/json`` (RFC 6749 section 5.2 asks for that type; the body keeps the problem
  members beside ``error`` and ``error_description``);
- ``openai``: OpenAI's error object (``{"error": {message, type, param, code}}``), so
  OpenAI SDKs read the gateway's refusals as they read OpenAI's.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic_core
from pydantic import BaseModel
from starlette.responses import Response

from shared.errors import PROBLEM_MEDIA_TYPE, OAuthError, ProblemError

ErrorFormat = Literal["problem", "oauth", "openai"]

_OPENAI_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    413: ("invalid_request_error", "request_too_large"),
    422: ("invalid_request_error", None),
    429: ("insufficient_quota", "rate_limit_exceeded"),
}
"""OpenAI's error ``type`` and ``code`` for a status (anything else: ``server_error``)."""


def render(result: Any, *, status: int) -> Response:
    """Turn a handler's result into a response (models and dicts become JSON)."""
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204 if status == 200 else status)
    if isinstance(result, BaseModel):
        content = result.model_dump_json().encode()
    else:
        content = pydantic_core.to_json(result)
    return Response(content, status_code=status, media_type="application/json")


def error_response(
    error: ProblemError, *, instance: str | None = None, error_format: ErrorFormat = "problem"
) -> Response:
    """``error`` in the wire format ``error_format`` (see the module), its headers kept."""
    if error_format == "openai":
        kind, code = _OPENAI_KINDS.get(error.status, ("server_error", None))
        if error.status == 429 and "limit" in error.extra:
            code = "insufficient_quota"
        document: dict[str, Any] = {
            "error": {"message": error.detail, "type": kind, "param": None, "code": code}
        }
        media_type = "application/json"
    else:
        document = error.to_problem(instance=instance)
        oauth = error_format == "oauth" and isinstance(error, OAuthError)
        media_type = "application/json" if oauth else PROBLEM_MEDIA_TYPE
    return Response(
        pydantic_core.to_json(document),
        status_code=error.status,
        media_type=media_type,
        headers=error.headers,
    )
