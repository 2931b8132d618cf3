"""Tests of localdev/gateway.py: path table, forwarding and aggregated health, in-process."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from localdev import gateway, local
from shared.errors import MethodNotAllowed, NotFound
from tests.shared.sample_functions import Sample, open_sample

ROUTES, USERS = "http://routes.test", "http://users.test"


@dataclass
class Gateway:
    table: gateway.Table
    client: httpx.AsyncClient
    upstream: httpx.AsyncClient
    routes: Sample


async def _gateway(functions: dict[str, str], mounts: dict[str, Any], sample: Sample) -> Gateway:
    upstream = httpx.AsyncClient(mounts=mounts)
    table = await gateway.build_table(functions, upstream)
    app = gateway.create_app(table, upstream)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5555))
    client = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
    return Gateway(table, client, upstream, sample)


@pytest_asyncio.fixture
async def gw(
    platform_env: dict[str, str], load_function: Callable[..., Any]
) -> AsyncIterator[Gateway]:
    # the sample first: load_function then points SERVICE_NAME back at auth-service
    async with open_sample("routes", platform_env) as sample:
        users = load_function("auth_users")
        mounts = {
            ROUTES: httpx.ASGITransport(app=sample.app),
            USERS: httpx.ASGITransport(app=users),
        }
        built = await _gateway({"routes": ROUTES, "auth-users": USERS}, mounts, sample)
        yield built
        await built.client.aclose()
        await built.upstream.aclose()


# ---------------------------------------------------------------- the table


def test_table_resolves_literal_paths_before_templated_ones() -> None:
    routes = [("GET", "/users/{id}", "b"), ("GET", "/users/me", "a")]
    table = gateway.Table(routes, {"a": "http://a", "b": "http://b"})
    assert table.resolve("GET", "/users/me").function == "a"
    assert table.resolve("HEAD", "/users/7") == gateway.Owner("b", "http://b")
    with pytest.raises(MethodNotAllowed) as caught:
        table.resolve("POST", "/users/7")
    assert caught.value.headers["Allow"] == "GET"
    with pytest.raises(NotFound, match="'/nowhere'"):
        table.resolve("GET", "/nowhere")


def test_a_literal_path_allows_its_own_methods_not_a_templates() -> None:
    routes = [
        (method, path, "users")
        for method, path in [
            ("GET", "/users/me"),
            ("PATCH", "/users/me"),
            ("GET", "/users/{id}"),
            ("DELETE", "/users/{id}"),
            ("PUT", "/users/{id}"),
        ]
    ]
    table = gateway.Table(routes, {"users": "http://users"})
    with pytest.raises(MethodNotAllowed) as literal:
        table.resolve("OPTIONS", "/users/me")
    assert literal.value.headers["Allow"] == "GET, PATCH"
    with pytest.raises(MethodNotAllowed) as templated:
        table.resolve("OPTIONS", "/users/7")
    assert templated.value.headers["Allow"] == "DELETE, GET, PUT"
    with pytest.raises(MethodNotAllowed) as shadowed:  # not DELETE /users/{id} with id "me"
        table.resolve("DELETE", "/users/me")
    assert shadowed.value.headers["Allow"] == "GET, PATCH"
    assert table.resolve("DELETE", "/users/7").function == "users"


def test_the_gateway_matches_paths_with_the_functions_own_router() -> None:
    from shared.routing import Router

    table = gateway.Table([("GET", "/files/{path:path}", "files")], {"files": "http://f"})
    assert isinstance(table.router, Router)
    assert table.resolve("GET", "/files/a/b.py").function == "files"


async def test_built_table_prefers_literal_paths_across_functions(gw: Gateway) -> None:
    assert gw.table.resolve("GET", "/users/me").function == "auth-users"
    assert gw.table.resolve("GET", "/users/42").function == "routes"
    assert gw.table.resolve("POST", "/items").function == "routes"
    paths = [r.path for r in gw.table.router.routes]
    assert not any("health" in p for p in paths), "health paths are the gateway's own"


async def test_gateway_routes_to_the_owning_function(gw: Gateway) -> None:
    templated = await gw.client.get("/users/42")
    assert templated.json() == {"function": "routes", "user_id": "42"}
    literal = await gw.client.get("/users/me")
    assert literal.status_code == 401, "auth-users answered: it wants a token"
    assert literal.headers["www-authenticate"].startswith("Bearer")
    assert literal.json()["instance"] == "/users/me"


async def test_unknown_path_is_a_404_problem(gw: Gateway) -> None:
    answer = await gw.client.get("/nowhere/at/all")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == "No function serves '/nowhere/at/all'."


async def test_wrong_method_is_a_405_with_allow(gw: Gateway) -> None:
    answer = await gw.client.post("/files/a.txt")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"


# ---------------------------------------------------------------- forwarding


async def test_method_path_query_body_and_headers_are_forwarded(gw: Gateway) -> None:
    answer = await gw.client.put(
        "/echo/a/b?x=1&y=two",
        content=b'{"hello": "world"}',
        headers={
            "Content-Type": "application/json",
            "X-Request-ID": "gw-req-1",
            "X-Forwarded-For": "198.51.100.1",
            "Authorization": "Bearer abc",
        },
    )
    assert answer.status_code == 200, answer.text
    echo = answer.json()
    assert (echo["method"], echo["path"], echo["query"]) == ("PUT", "/echo/a/b", "x=1&y=two")
    assert echo["body"] == '{"hello": "world"}'
    headers = echo["headers"]
    assert headers["x-forwarded-for"] == "198.51.100.1, 203.0.113.9"
    assert headers["x-forwarded-host"] == "gateway.test"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["authorization"] == "Bearer abc"
    assert headers["x-request-id"] == "gw-req-1"
    assert answer.headers["x-request-id"] == "gw-req-1", "the function's headers come back"
    # Issue 9 item 17: without it the function read an oversized body up to its limit
    # (74 s for 1 GiB) before its 413; with it, the declared length is refused at once.
    assert headers["content-length"] == str(len(b'{"hello": "world"}'))


async def test_an_oversized_body_is_refused_from_its_declared_length_through_the_gateway(
    gw: Gateway,
) -> None:
    """Issue 9 item 17: the function sees the client's Content-Length, so it refuses the
    body from the header, before reading it (without it, the streamed-body 413 "exceeds
    the limit" came only after reading up to the limit: 74 s for 1 GiB)."""
    limit = 1_048_576

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"x" * 65_536  # 4 MiB in all, declared up front

    answer = await gw.client.post(
        "/items",
        content=chunks(),
        headers={"Content-Type": "application/json", "Content-Length": str(64 * 65_536)},
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"] == f"The body is {64 * 65_536} bytes; the limit is {limit}."


async def test_forwarded_for_starts_with_the_client_when_absent(gw: Gateway) -> None:
    echo = (await gw.client.put("/echo/x")).json()
    assert echo["headers"]["x-forwarded-for"] == "203.0.113.9"


async def test_large_answers_stream_back_intact(gw: Gateway) -> None:
    answer = await gw.client.get("/large")
    assert answer.status_code == 200
    assert answer.content == b"0123456789abcdef" * 16384
    assert answer.headers["content-type"] == "application/octet-stream"


async def test_function_problems_pass_through_unchanged(gw: Gateway) -> None:
    answer = await gw.client.post("/items", json={"name": ""})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert {tuple(e["loc"]) for e in answer.json()["errors"]} == {
        ("body", "name"),
        ("body", "quantity"),
    }


# ---------------------------------------------------------------- health


async def test_health_is_200_when_every_function_is_up(gw: Gateway) -> None:
    answer = await gw.client.get("/health")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["service"]) == ("healthy", "gateway")
    assert sorted(c["name"] for c in body["components"]) == ["auth-users", "routes"]
    assert all(c["status"] == "healthy" for c in body["components"])


async def test_health_is_503_naming_a_stopped_function(
    platform_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    stopped = f"http://127.0.0.1:{local.free_port()}"
    async with open_sample("routes", platform_env) as sample:
        upstream = httpx.AsyncClient(mounts={ROUTES: httpx.ASGITransport(app=sample.app)})
        table = await gateway.build_table({"routes": ROUTES}, upstream)
        table.functions["gone"] = stopped
        app = gateway.create_app(table, upstream)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
        ) as client:
            answer = await client.get("/health")
            forwarded = await client.get("/_functions/gone/health")
        await upstream.aclose()
    assert answer.status_code == 503
    components = {c["name"]: c["status"] for c in answer.json()["components"]}
    assert components == {"routes": "healthy", "gone": "unhealthy"}
    assert answer.json()["status"] == "unhealthy"
    assert forwarded.status_code == 503
    assert forwarded.json()["detail"] == "A dependency is unavailable; retry later."
    assert stopped not in forwarded.text
    assert forwarded.headers["retry-after"] == "2"
    said = [r.getMessage() for r in caplog.records if r.name == "localdev.gateway"]
    refused = [m for m in said if f"GET /health -> {stopped}: ConnectError" in m]
    assert refused, said
    assert "ConnectionRefusedError" in refused[0], "the cause under the transport error"


async def test_function_health_is_forwarded_to_that_function(gw: Gateway) -> None:
    answer = await gw.client.get("/_functions/routes/health")
    assert answer.status_code == 200
    assert answer.json()["service"] == "sample-routes"
    users = await gw.client.get("/_functions/auth-users/health")
    assert users.json()["service"] == "auth-service"
    unknown = await gw.client.get("/_functions/nope/health")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "No function named 'nope'."


async def test_merged_openapi_lists_every_functions_paths(gw: Gateway) -> None:
    document = (await gw.client.get("/openapi.json")).json()
    assert {"/items", "/users/me", "/users/{user_id}"} <= set(document["paths"])
    assert "/health" not in document["paths"]
    assert "Item" in document["components"]["schemas"]
    assert re.fullmatch(r"3\.1\.\d", document["openapi"])


async def test_a_path_with_encoded_control_characters_is_forwarded_encoded(gw: Gateway) -> None:
    """A 500 found by fuzzing: the decoded path reached httpx with raw control characters."""
    answer = await gw.client.get("/users/%03%1D%C2%83")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"function": "routes", "user_id": "\x03\x1d\x83"}, answer.json()


async def test_the_table_refuses_a_function_whose_port_serves_another(
    platform_env: dict[str, str],
) -> None:
    async with open_sample("routes", platform_env) as sample:
        upstream = httpx.AsyncClient(mounts={ROUTES: httpx.ASGITransport(app=sample.app)})
        try:
            # 'analyses' is expected at ROUTES, but the routes sample answers there
            with pytest.raises(RuntimeError, match="without the document of 'analyses'"):
                await gateway.build_table({"analyses": ROUTES}, upstream)
            stopped = f"http://127.0.0.1:{local.free_port()}"
            with pytest.raises(httpx.ConnectError):
                await gateway.build_table({"routes": ROUTES, "gone": stopped}, upstream)
        finally:
            await upstream.aclose()
