"""errors defines the platform's error hierarchy.

Each error describes itself (status, ``type``, title, detail, headers and extension
members, :meth:`ProblemError.to_problem`); shared.responses alone writes it on the wire,
in the format the route documents (RFC 9457 problem details unless told otherwise).
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://errors.ai-codereview.dev/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemError(Exception):
    """An error that reaches the client as an RFC 9457 problem.

    Args:
        detail: A human-readable explanation specific to this occurrence.
        headers: Extra response headers (e.g. ``Retry-After``).
        extra: Extension members added to the problem object.
    """

    status = 500
    type_slug = "internal"
    title = "Internal Server Error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def to_problem(self, *, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 members of this error (``type``, ``title``, ``status``, ``detail``,
        ``instance`` when given, then the extension members)."""
        problem: dict[str, Any] = {
            "type": PROBLEM_BASE + self.type_slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            problem["instance"] = instance
        problem.update(self.extra)
        return problem


class BadRequest(ProblemError):
    status, type_slug, title = 400, "bad-request", "Bad Request"


class Unauthorized(ProblemError):
    status, type_slug, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str | None = None, *, error: str = "invalid_token") -> None:
        challenge = f'Bearer realm="ai-codereview", error="{error}"'
        if detail:
            challenge += f', error_description="{detail}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(ProblemError):
    status, type_slug, title = 403, "forbidden", "Forbidden"


class NotFound(ProblemError):
    status, type_slug, title = 404, "not-found", "Not Found"


class MethodNotAllowed(ProblemError):
    status, type_slug, title = 405, "method-not-allowed", "Method Not Allowed"

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(
            f"Allowed methods: {', '.join(allowed)}.", headers={"Allow": ", ".join(allowed)}
        )


class Conflict(ProblemError):
    status, type_slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(ProblemError):
    status, type_slug, title = 413, "payload-too-large", "Payload Too Large"


class UnsupportedMediaType(ProblemError):
    status, type_slug, title = 415, "unsupported-media-type", "Unsupported Media Type"


class ValidationFailed(ProblemError):
    """A body, query or path value violates the schema (422 with ``errors``)."""

    status, type_slug, title = 422, "validation", "Unprocessable Content"

    def __init__(self, errors: list[dict[str, Any]], detail: str | None = None) -> None:
        super().__init__(
            detail or f"{len(errors)} field(s) failed validation.", extra={"errors": errors}
        )


class RateLimited(ProblemError):
    """A rate or quota limit was hit; ``retry_after`` is in whole seconds."""

    status, type_slug, title = 429, "rate-limited", "Too Many Requests"

    def __init__(
        self, detail: str, *, retry_after: int, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(
            detail,
            headers={"Retry-After": str(max(1, int(retry_after)))},
            extra={"retry_after": max(1, int(retry_after)), **(extra or {})},
        )


class QuotaExceeded(RateLimited):
    type_slug, title = "quota-exceeded", "Quota Exceeded"


class Unavailable(ProblemError):
    """A dependency is down; the client should retry after ``retry_after`` seconds.

    The answer says only that (``PUBLIC_DETAIL`` and ``Retry-After``): which dependency
    failed and why (``dependency``, ``reason``: a service, Redis, PostgreSQL, a sink) would
    map the platform's insides for a prober, so they go to the warning logged here, with
    the request id that the answer's ``X-Request-ID`` also carries.

    Args:
        dependency: What failed (``database``, ``redis``, ``projects``, ``self``...).
        detail: Why, for the log only.
    """

    status, type_slug, title = 503, "unavailable", "Service Unavailable"
    PUBLIC_DETAIL = "A dependency is unavailable; retry later."

    def __init__(self, dependency: str, *, retry_after: int = 5, detail: str | None = None) -> None:
        super().__init__(self.PUBLIC_DETAIL, headers={"Retry-After": str(retry_after)})
        self.dependency = dependency
        self.reason = detail or f"Dependency '{dependency}' is unavailable."
        self.args = (f"{dependency}: {self.reason}",)  # tracebacks and str() say why
        logger.warning("Unavailable: %s: %s", dependency, self.reason)


class OAuthError(ProblemError):
    """An RFC 6749 section 5.2 error: ``{"error": ...}`` plus the problem members."""

    status, type_slug, title = 400, "oauth", "OAuth Error"

    def __init__(self, error: str, detail: str, *, status: int = 400) -> None:
        super().__init__(detail, extra={"error": error, "error_description": detail})
        self.status = status
        if status == 401:
            self.headers["WWW-Authenticate"] = 'Basic realm="ai-codereview"'
