"""Tests of shared/function.py through functions-framework: routing, bodies, errors, health."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from shared import lifecycle
from tests.shared.sample_functions import Sample, open_sample

PROBLEM = "application/problem+json"


@pytest_asyncio.fixture
async def routes(platform_env: dict[str, str]) -> AsyncIterator[Sample]:
    async with open_sample("routes", platform_env) as sample:
        yield sample


@pytest.fixture
def draining() -> Iterator[None]:
    state = lifecycle.state
    saved = state.draining
    state.draining = True
    yield
    state.draining = saved


def item(name: str = "bolt", quantity: int = 2) -> dict[str, object]:
    return {"name": name, "quantity": quantity}


# ---------------------------------------------------------------- routing


async def test_unknown_path_is_a_404_problem_naming_the_path(routes: Sample) -> None:
    answer = await routes.client.get("/nowhere")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["type"] == "https://errors.ai-codereview.dev/not-found", problem
    assert problem["status"] == 404 and problem["instance"] == "/nowhere", problem
    assert "/nowhere" in problem["detail"], problem


async def test_an_internal_route_is_a_404_like_an_absent_one_off_the_cluster_address(
    routes: Sample,
) -> None:
    for host in ("testserver", "127.0.0.1:8080", "events.ai-codereview.example.com"):
        answer = await routes.client.post("/events", json={}, headers={"host": host})
        assert answer.status_code == 404, (host, answer.text)
        assert answer.json()["detail"] == "No route for '/events'.", answer.json()
    inside = "sample.ai-codereview.svc.cluster.local"
    answer = await routes.client.post("/events", json={}, headers={"host": inside})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"host": inside}


async def test_wrong_method_is_a_405_listing_the_allowed_methods(routes: Sample) -> None:
    answer = await routes.client.put("/items/abc", json=item())
    assert answer.status_code == 405
    assert answer.headers["allow"] == "DELETE, GET", answer.headers
    assert answer.json()["title"] == "Method Not Allowed"


def test_a_literal_route_allows_its_own_methods_not_a_templates() -> None:
    from shared.errors import MethodNotAllowed
    from shared.function import Router

    router = Router()

    async def handler(request: object) -> None:
        return None

    router.get("/users/me")(handler)
    router.get("/users/{id}")(handler)
    router.delete("/users/{id}")(handler)
    with pytest.raises(MethodNotAllowed) as literal:
        router.match("OPTIONS", "/users/me")
    assert literal.value.headers["Allow"] == "GET"
    with pytest.raises(MethodNotAllowed) as templated:
        router.match("OPTIONS", "/users/7")
    assert templated.value.headers["Allow"] == "DELETE, GET"
    with pytest.raises(MethodNotAllowed) as shadowed:  # not DELETE /users/{id} with id "me"
        router.match("DELETE", "/users/me")
    assert shadowed.value.headers["Allow"] == "GET"
    route, params = router.match("DELETE", "/users/7")
    assert (route.path, params) == ("/users/{id}", {"id": "7"})


def test_include_serves_several_routers_in_order_and_leaves_them_as_they_were() -> None:
    from shared.errors import NotFound
    from shared.function import Router

    async def handler(request: object) -> None:
        return None

    files, snapshots = Router(), Router()
    files.get("/files/{id}")(handler)
    snapshots.get("/snapshots/{id}")(handler)
    snapshots.post("/snapshots")(handler)

    served = Router().include(files, snapshots)

    assert [r.path for r in served.routes] == ["/files/{id}", "/snapshots/{id}", "/snapshots"]
    assert served.match("GET", "/snapshots/7")[0].path == "/snapshots/{id}"
    assert [len(files.routes), len(snapshots.routes)] == [1, 2]
    with pytest.raises(NotFound):
        files.match("GET", "/snapshots/7")


async def test_path_parameters_reach_the_handler(routes: Sample) -> None:
    answer = await routes.client.get("/items/it-42")
    assert answer.status_code == 200
    assert answer.json() == {"id": "it-42", "name": "sample", "quantity": 1}


async def test_path_convertor_spans_slashes(routes: Sample) -> None:
    answer = await routes.client.get("/files/docs/a/b.txt")
    assert answer.json() == {"path": "docs/a/b.txt"}, answer.text


async def test_malformed_uuid_path_parameter_is_a_422_naming_it(routes: Sample) -> None:
    answer = await routes.client.get("/things/not-a-uuid")
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"loc": ["path", "id"], "msg": "must be a UUID"}]
    good = await routes.client.get("/things/6f1c1c1e-51b5-4f38-9d77-0c2b8a8e2c0a")
    assert good.json() == {"id": "6f1c1c1e-51b5-4f38-9d77-0c2b8a8e2c0a"}


async def test_handler_returning_none_answers_204_without_body(routes: Sample) -> None:
    answer = await routes.client.delete("/items/x")
    assert answer.status_code == 204
    assert answer.content == b""


async def test_head_is_served_by_get_routes_without_a_body(routes: Sample) -> None:
    answer = await routes.client.head("/items/it-1")
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["content-type"] == "application/json"


# ---------------------------------------------------------------- bodies


async def test_valid_json_body_is_parsed_into_the_model(routes: Sample) -> None:
    answer = await routes.client.post("/items", json=item("nut", 3))
    assert answer.status_code == 201
    body = answer.json()
    assert (body["name"], body["quantity"]) == ("nut", 3), body
    assert len(body["id"]) == 32


async def test_malformed_json_is_a_400_problem(routes: Sample) -> None:
    answer = await routes.client.post(
        "/items", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == PROBLEM
    assert "not valid JSON" in answer.json()["detail"]


async def test_schema_violation_is_a_422_listing_every_field(routes: Sample) -> None:
    answer = await routes.client.post("/items", json={"name": "", "quantity": 0, "x": 1})
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "https://errors.ai-codereview.dev/validation"
    locs = sorted(tuple(e["loc"]) for e in problem["errors"])
    assert locs == [("body", "name"), ("body", "quantity")], problem
    assert all(e["msg"] for e in problem["errors"]), problem
    assert problem["detail"] == "2 field(s) failed validation."


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", "2"), ("quantity", 2.5), ("quantity", True), ("name", 7), ("name", None)],
)
async def test_a_value_of_another_json_type_is_a_422_not_coerced(
    routes: Sample, field: str, value: object
) -> None:
    answer = await routes.client.post("/items", json={"name": "bolt", "quantity": 2, field: value})
    assert answer.status_code == 422, answer.text
    assert [e["loc"] for e in answer.json()["errors"]] == [["body", field]]


def test_strict_bodies_still_take_the_json_forms_of_uuids_times_and_decimals() -> None:
    import datetime
    import uuid
    from decimal import Decimal

    from pydantic import BaseModel

    from shared.errors import ValidationFailed
    from shared.function import parse_json

    class Body(BaseModel):
        id: uuid.UUID
        at: datetime.datetime
        price: Decimal
        weight: float
        enabled: bool

    raw = (
        b'{"id": "6b6d26fc-0a3d-4a4d-b65c-0873437de63a", "at": "2026-11-26T09:00:00Z",'
        b' "price": "0.10", "weight": 1, "enabled": false}'
    )
    parsed = parse_json(raw, Body)
    assert (parsed.price, parsed.weight, parsed.enabled) == (Decimal("0.10"), 1.0, False)
    assert parsed.at.tzinfo is not None
    with pytest.raises(ValidationFailed) as caught:
        parse_json(raw.replace(b"false", b"0"), Body)
    assert caught.value.extra["errors"][0]["loc"] == ["body", "enabled"]


async def test_missing_body_is_a_422_on_the_whole_body(routes: Sample) -> None:
    answer = await routes.client.post("/items")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["body"]


async def test_non_json_content_type_is_a_415(routes: Sample) -> None:
    answer = await routes.client.post(
        "/items", content=b"name=bolt", headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 415
    assert "text/plain" in answer.json()["detail"]


async def test_declared_length_over_the_limit_is_a_413(routes: Sample) -> None:
    limit = 1_048_576
    answer = await routes.client.post("/items", content=b"x" * (limit + 1))
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["detail"] == f"The body is {limit + 1} bytes; the limit is {limit}."


async def test_streamed_body_over_the_limit_is_a_413_without_content_length(
    routes: Sample,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 32_768

    answer = await routes.client.post(
        "/items", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"] == "The body exceeds the limit of 1048576 bytes."


async def test_per_route_body_limit_applies(routes: Sample) -> None:
    fits = await routes.client.post("/small", json=item())
    assert fits.status_code == 200 and fits.json() == item()
    padded = json.dumps(item()).encode() + b" " * 64
    answer = await routes.client.post(
        "/small", content=padded, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert "the limit is 64" in answer.json()["detail"]


async def test_non_numeric_content_length_is_a_400(routes: Sample) -> None:
    answer = await routes.client.post(
        "/small",
        content=b"{}",
        headers={"Content-Length": "12abc", "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == "Content-Length is not a number."


# ---------------------------------------------------------------- unexpected errors


async def test_unexpected_exception_is_a_500_problem_without_trace(
    routes: Sample, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="shared.function")
    answer = await routes.client.get("/boom")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["detail"] == "An unexpected error occurred.", problem
    for leak in ("kaboom", "hunter2", "Traceback", "RuntimeError"):
        assert leak not in answer.text, f"{leak!r} leaked into the body"
    logged = [r for r in caplog.records if r.name == "shared.function"]
    assert logged and "Unhandled error on GET /boom" in logged[0].getMessage()
    assert "kaboom" in (logged[0].exc_text or ""), "the log keeps the trace"


# ---------------------------------------------------------------- request id and trace


async def test_valid_request_id_is_echoed_and_in_context(routes: Sample) -> None:
    answer = await routes.client.get("/context", headers={"X-Request-ID": "req-1.a:b_c"})
    assert answer.headers["x-request-id"] == "req-1.a:b_c"
    assert answer.json()["request_id"] == "req-1.a:b_c"


@pytest.mark.parametrize("given", [None, "x" * 300, "has space", "new\tline", "semi;colon"])
async def test_missing_or_hostile_request_id_is_replaced(routes: Sample, given: str | None) -> None:
    headers = {} if given is None else {"X-Request-ID": given}
    answer = await routes.client.get("/context", headers=headers)
    generated = answer.headers["x-request-id"]
    assert generated != given and len(generated) == 32, generated
    assert int(generated, 16) >= 0
    assert answer.json()["request_id"] == generated


async def test_traceparent_is_parsed_into_the_trace_context(routes: Sample) -> None:
    trace_id, span_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    answer = await routes.client.get(
        "/context", headers={"traceparent": f"00-{trace_id}-{span_id}-01"}
    )
    body = answer.json()
    assert (body["trace_id"], body["span_id"], body["sampled"]) == (trace_id, span_id, True)
    bare = await routes.client.get("/context")
    assert bare.json()["trace_id"] is None


async def test_one_access_log_line_per_request(
    routes: Sample, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="access")
    await routes.client.get("/items/a")
    await routes.client.get("/nowhere")
    lines = [r for r in caplog.records if r.name == "access"]
    assert len(lines) == 2, [r.getMessage() for r in lines]
    assert lines[0].getMessage().startswith("GET /items/a 200 ")
    assert lines[1].getMessage().startswith("GET /nowhere 404 ")
    http_request = lines[0].__dict__["http_request"]
    assert http_request["requestMethod"] == "GET" and http_request["status"] == 200
    assert http_request["remoteIp"] == "198.51.100.7"


async def test_a_client_gone_mid_body_is_a_quiet_499_not_an_unhandled_error(
    routes: Sample, caplog: pytest.LogCaptureFixture
) -> None:
    """The body is half sent, then the connection drops: the access line says 499 and no
    "Unhandled error" with a traceback is logged."""
    caplog.set_level(logging.INFO)
    messages = iter(
        [
            {"type": "http.request", "body": b'{"name": "ha', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/small",
        "raw_path": b"/small",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"40")],
        "client": ("198.51.100.7", 40000),
        "server": ("testserver", 80),
    }
    await routes.app(scope, receive, send)

    access = [r for r in caplog.records if r.name == "access"]
    assert [r.__dict__["http_request"]["status"] for r in access] == [499]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert sent[0]["status"] == 499


# ---------------------------------------------------------------- health and start-up


@pytest.mark.parametrize("path", ["/health", "/ready", "/health/startup"])
async def test_health_paths_are_answered_before_routing(routes: Sample, path: str) -> None:
    answer = await routes.client.get(path)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["service"] == "sample-routes" and body["status"] == "healthy", body
    assert answer.headers["cache-control"] == "no-store"
    assert not any(r.path == path for r in routes.module.router.routes)


async def test_health_does_not_run_the_startup_hooks(routes: Sample) -> None:
    await routes.client.get("/health")
    assert routes.module.calls["startup"] == 0


async def test_startup_runs_once_under_concurrent_first_requests(routes: Sample) -> None:
    answers = await asyncio.gather(*(routes.client.get(f"/items/{n}") for n in range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert routes.module.calls["startup"] == 1


async def test_failed_startup_is_reported_then_retried(routes: Sample) -> None:
    routes.module.startup_failures = 1
    first = await routes.client.get("/health/startup")
    assert first.status_code == 503
    assert first.headers["retry-after"] == "1"
    body = first.json()
    assert body["status"] == "starting", body
    assert body["detail"] == "Startup has not completed; retry later.", body
    second = await routes.client.get("/health/startup")
    assert second.status_code == 200 and "detail" not in second.json()
    assert routes.module.calls["startup"] == 2


async def test_routed_request_during_failed_startup_is_a_503_problem(routes: Sample) -> None:
    routes.module.startup_failures = 1
    answer = await routes.client.get("/items/a")
    assert answer.status_code == 503
    problem = answer.json()
    assert problem["detail"] == "A dependency is unavailable; retry later.", problem
    assert "warm-up" not in answer.text and "dependency" not in problem, problem
    assert (await routes.client.get("/items/a")).status_code == 200


async def test_ready_is_503_when_a_check_raises(
    routes: Sample, caplog: pytest.LogCaptureFixture
) -> None:
    """``/ready`` answers Knative's probes without a token: the seed's shape (names,
    states, latencies), never why a component failed (hosts, addresses): that is logged."""
    caplog.set_level(logging.WARNING, logger="shared.health")
    routes.module.ready_error = "sample backend refused"
    answer = await routes.client.get("/ready")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unhealthy"
    by_name = {c["name"]: c for c in body["components"]}
    assert by_name["sample"]["status"] == "unhealthy"
    assert set(by_name["sample"]) == {"name", "status", "latency_ms"}, by_name
    assert "refused" not in answer.text
    assert "Readiness check sample failed: sample backend refused" in caplog.messages
    assert by_name["redis"]["status"] == "healthy", by_name


async def test_ready_lists_each_component_with_latency(routes: Sample) -> None:
    answer = await routes.client.get("/ready")
    assert answer.status_code == 200
    components = answer.json()["components"]
    assert sorted(c["name"] for c in components) == ["redis", "sample"]
    for component in components:
        assert component["status"] == "healthy", component
        assert isinstance(component["latency_ms"], float | int) and component["latency_ms"] >= 0


# ---------------------------------------------------------------- draining


async def test_a_ready_whose_checks_outlast_sigterm_answers_draining(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Draining is read when the answer is built, not when the request arrived: a /ready
    still waiting on its database when SIGTERM comes answers "draining", not "healthy"."""
    import json

    from shared import config
    from shared.function import Function, Router

    monkeypatch.setenv("SERVICE_NAME", "sample")
    monkeypatch.setattr(lifecycle.state, "draining", False)

    async def database() -> None:
        lifecycle.state.draining = True  # SIGTERM arrives while the check waits
        await asyncio.sleep(0)

    function = Function("sample", Router(), settings=config.BaseConfig, checks={"db": database})
    answer = await function._health("/ready")

    body = json.loads(bytes(answer.body))
    assert (answer.status_code, body["status"]) == (503, "draining"), body
    assert [(c["name"], c["status"]) for c in body["components"]] == [("db", "healthy")]


@pytest.mark.usefixtures("draining")
@pytest.mark.parametrize("path", ["/health", "/ready", "/health/startup"])
async def test_health_says_draining_while_draining(routes: Sample, path: str) -> None:
    answer = await routes.client.get(path)
    assert answer.status_code == 503
    body = answer.json()
    assert (body["status"], body["detail"]) == ("draining", "The function is shutting down.")
    assert answer.headers["connection"] == "close"


@pytest.mark.usefixtures("draining")
async def test_routed_request_while_draining_is_refused_with_retry_after(routes: Sample) -> None:
    answer = await routes.client.post("/items", json=item())
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.headers["connection"] == "close"
    assert answer.json()["detail"] == "A dependency is unavailable; retry later."
    assert routes.module.calls["create"] == 0


async def test_openapi_document_is_served_as_json(routes: Sample) -> None:
    answer = await routes.client.get("/openapi.json")
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.content)["info"]["title"] == "routes"


@pytest.mark.parametrize("text", ["a\u0000b", "\ud800", "ok\udfff"])
def test_text_postgresql_cannot_store_is_a_422_naming_the_field(text: str) -> None:
    """Found by schemathesis: a NUL in any JSON string reached PostgreSQL as a 500."""
    from pydantic import BaseModel

    from shared.errors import ValidationFailed
    from shared.function import parse_json

    class Body(BaseModel):
        items: list[dict[str, str]]

    raw = json.dumps({"items": [{"name": "fine"}, {"name": text}]}).encode()
    with pytest.raises(ValidationFailed) as caught:
        parse_json(raw, Body)
    assert caught.value.extra["errors"][0]["loc"] == ["body", "items", 1, "name"]
    assert parse_json(json.dumps({"items": [{"name": "ünïcode ✓"}]}).encode(), Body).items


@pytest.mark.parametrize(
    "raw",
    [b'{"items": [{"name": "a\x00b"}]}', b'{"items": [{"name": "\xed\xa0\x80"}]}', b'{"items": ['],
    ids=["raw-nul", "raw-surrogate-bytes", "truncated"],
)
def test_unescaped_nul_bad_utf8_and_broken_json_are_400(raw: bytes) -> None:
    """Without a \\u escape the body is parsed once, by pydantic; what it cannot read as
    JSON is still the API's 400, never a 422 or something stored."""
    from pydantic import BaseModel

    from shared.errors import BadRequest
    from shared.function import parse_json

    class Body(BaseModel):
        items: list[dict[str, str]]

    with pytest.raises(BadRequest, match="not valid JSON"):
        parse_json(raw, Body)


def test_query_uuid_reads_an_optional_or_required_uuid_and_names_a_bad_one() -> None:
    import uuid

    from starlette.requests import Request

    from shared.errors import ValidationFailed
    from shared.function import query_uuid

    def request(query: bytes) -> Request:
        return Request({"type": "http", "headers": [], "query_string": query})

    value = uuid.uuid4()
    assert query_uuid(request(f"p={value}".encode()), "p") == value
    assert query_uuid(request(b""), "p") is None
    assert query_uuid(request(b"p="), "p") is None
    for query, message in ((b"", "is required"), (b"p=1%27%20OR%201%3D1", "must be a UUID")):
        with pytest.raises(ValidationFailed) as caught:
            query_uuid(request(query), "p", required=True)
        assert caught.value.extra["errors"] == [{"loc": ["query", "p"], "msg": message}]
