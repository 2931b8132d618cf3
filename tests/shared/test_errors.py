"""Tests of shared/errors.py and its renderer shared/responses.py: every problem type's
status, type, title, headers and body, in each wire format."""

from __future__ import annotations

import json
import logging

import pytest

from shared import errors
from shared.responses import error_response

BASE = "https://errors.ai-codereview.dev/"


@pytest.mark.parametrize(
    ("error", "status", "slug", "title"),
    [
        (errors.ProblemError(), 500, "internal", "Internal Server Error"),
        (errors.BadRequest("x"), 400, "bad-request", "Bad Request"),
        (errors.Unauthorized("x"), 401, "unauthorized", "Unauthorized"),
        (errors.Forbidden("x"), 403, "forbidden", "Forbidden"),
        (errors.NotFound("x"), 404, "not-found", "Not Found"),
        (errors.MethodNotAllowed(["GET"]), 405, "method-not-allowed", "Method Not Allowed"),
        (errors.Conflict("x"), 409, "conflict", "Conflict"),
        (errors.PayloadTooLarge("x"), 413, "payload-too-large", "Payload Too Large"),
        (errors.UnsupportedMediaType("x"), 415, "unsupported-media-type", "Unsupported Media Type"),
        (errors.ValidationFailed([]), 422, "validation", "Unprocessable Content"),
        (errors.RateLimited("x", retry_after=3), 429, "rate-limited", "Too Many Requests"),
        (errors.QuotaExceeded("x", retry_after=3), 429, "quota-exceeded", "Quota Exceeded"),
        (errors.Unavailable("database"), 503, "unavailable", "Service Unavailable"),
    ],
)
def test_each_problem_type_renders_its_status_type_and_title(
    error: errors.ProblemError, status: int, slug: str, title: str
) -> None:
    response = error_response(error, instance="/here")
    problem = json.loads(response.body)
    assert response.status_code == error.status
    assert problem["status"] == error.status == status
    assert problem["type"] == BASE + slug
    assert problem["title"] == title
    assert problem["instance"] == "/here"
    assert problem["detail"]
    assert response.media_type == "application/problem+json"


def test_problem_without_detail_uses_its_title_and_omits_instance() -> None:
    problem = errors.NotFound().to_problem()
    assert problem["detail"] == "Not Found"
    assert "instance" not in problem


def test_unauthorized_carries_a_bearer_challenge() -> None:
    error = errors.Unauthorized("The token expired.")
    challenge = error.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="ai-codereview"'), challenge
    assert 'error="invalid_token"' in challenge
    assert 'error_description="The token expired."' in challenge
    bare = errors.Unauthorized(error="invalid_request").headers["WWW-Authenticate"]
    assert bare == 'Bearer realm="ai-codereview", error="invalid_request"'


def test_method_not_allowed_lists_the_allowed_methods() -> None:
    error = errors.MethodNotAllowed(["GET", "POST"])
    assert error.headers == {"Allow": "GET, POST"}
    assert error.detail == "Allowed methods: GET, POST."


@pytest.mark.parametrize("cls", [errors.RateLimited, errors.QuotaExceeded])
def test_rate_limits_carry_retry_after_in_whole_seconds(cls: type[errors.RateLimited]) -> None:
    error = cls("Slow down.", retry_after=2.7, extra={"limit": 5})  # type: ignore[arg-type]
    assert error.headers == {"Retry-After": "2"}
    problem = error.to_problem()
    assert (problem["retry_after"], problem["limit"]) == (2, 5), problem
    assert cls("x", retry_after=0).headers["Retry-After"] == "1", "never ask for 0 s"


def test_unavailable_names_the_dependency_in_the_log_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 9 item 14: 503 problems named the service, store or host that failed."""
    caplog.set_level(logging.WARNING, logger="shared.errors")
    error = errors.Unavailable("redis", retry_after=7, detail="redis-master.acr:6379 refused")
    assert error.headers == {"Retry-After": "7"}
    assert (error.dependency, error.reason) == ("redis", "redis-master.acr:6379 refused")
    problem = error.to_problem()
    assert problem == {
        "type": errors.PROBLEM_BASE + "unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "A dependency is unavailable; retry later.",
    }
    assert [r.getMessage() for r in caplog.records] == [
        "Unavailable: redis: redis-master.acr:6379 refused"
    ]


def test_validation_failed_lists_each_field() -> None:
    fields = [{"loc": ["body", "email"], "msg": "bad"}, {"loc": ["body", "age"], "msg": "low"}]
    problem = errors.ValidationFailed(fields).to_problem()
    assert problem["errors"] == fields
    assert problem["detail"] == "2 field(s) failed validation."


def test_oauth_error_is_plain_json_with_the_rfc6749_members() -> None:
    error = errors.OAuthError("invalid_grant", "The refresh token was revoked.")
    response = error_response(error, error_format="oauth")
    assert response.media_type == "application/json"
    body = json.loads(response.body)
    assert body["error"] == "invalid_grant"
    assert body["error_description"] == "The refresh token was revoked."
    assert body["status"] == 400 and error.status == 400
    assert "WWW-Authenticate" not in error.headers


def test_oauth_client_error_401_challenges_basic_auth() -> None:
    error = errors.OAuthError("invalid_client", "Unknown client.", status=401)
    assert error.status == 401
    assert error.headers["WWW-Authenticate"] == 'Basic realm="ai-codereview"'
    response = error_response(error, error_format="oauth")
    assert json.loads(response.body)["status"] == response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="ai-codereview"'


def test_every_problem_is_an_exception_with_its_detail_as_message() -> None:
    with pytest.raises(errors.ProblemError, match="gone"):
        raise errors.NotFound("gone")


def test_an_oauth_route_writes_its_other_errors_as_problems() -> None:
    response = error_response(errors.PayloadTooLarge("big"), error_format="oauth")
    assert response.media_type == "application/problem+json"
    assert json.loads(response.body)["type"] == BASE + "payload-too-large"


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    [
        (errors.Unauthorized("no"), "invalid_request_error", "invalid_api_key"),
        (errors.Forbidden("no"), "permission_error", None),
        (errors.RateLimited("slow", retry_after=2), "insufficient_quota", "rate_limit_exceeded"),
        (
            errors.QuotaExceeded("spent", retry_after=2, extra={"limit": "cost"}),
            "insufficient_quota",
            "insufficient_quota",
        ),
        (errors.Unavailable("provider"), "server_error", None),
    ],
)
def test_an_openai_route_writes_openais_error_object_with_the_headers(
    error: errors.ProblemError, kind: str, code: str | None
) -> None:
    response = error_response(error, instance="/v1/chat/completions", error_format="openai")
    assert response.status_code == error.status
    assert response.media_type == "application/json"
    assert json.loads(response.body) == {
        "error": {"message": error.detail, "type": kind, "param": None, "code": code}
    }
    for name, value in error.headers.items():
        assert response.headers[name] == value
