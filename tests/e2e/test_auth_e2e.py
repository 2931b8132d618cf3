"""auth-service end to end: both functions as real processes behind the local gateway."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from localdev import gateway, local

PASSWORD = "an end to end passphrase"


@pytest.fixture
def processes(start_function: Callable[..., Any]) -> dict[str, Any]:
    return {
        "auth-tokens": start_function("auth_tokens"),
        "auth-users": start_function("auth_users"),
    }


@pytest_asyncio.fixture
async def through_gateway(processes: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    """One base URL for auth-tokens and auth-users, as ``make run`` serves them."""
    functions = {name: process.url for name, process in processes.items()}
    async with httpx.AsyncClient(timeout=30) as upstream:
        table = await gateway.build_table(functions, upstream)
        app = gateway.create_app(table, upstream)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def test_register_login_read_refresh_and_revoke_through_one_base_url(
    through_gateway: httpx.AsyncClient,
) -> None:
    api = through_gateway
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    created = await api.post("/users", json={"email": email, "password": PASSWORD, "name": "E2E"})
    assert created.status_code == 202, created.text
    login = await api.post(
        "/token", data={"grant_type": "password", "username": email, "password": PASSWORD}
    )
    assert login.status_code == 200 and login.headers["cache-control"] == "no-store", login.text
    session = login.json()
    me = await api.get("/users/me", headers={"Authorization": f"Bearer {session['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == created.json()["email"], me.text
    uuid.UUID(me.json()["id"])  # the id a self-registration learns by signing in
    refreshed = await api.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    newest = refreshed.json()["refresh_token"]
    assert newest != session["refresh_token"]
    revoked = await api.post("/revoke", data={"token": newest})
    assert revoked.status_code == 200, revoked.text
    refused = await api.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": newest}
    )
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant"), refused.text


async def test_the_gateway_serves_both_functions_metadata_and_keys(
    through_gateway: httpx.AsyncClient,
) -> None:
    jwks = await through_gateway.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and jwks.json()["keys"], jwks.text
    assert all("d" not in key for key in jwks.json()["keys"])
    metadata = (await through_gateway.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["token_endpoint"].endswith("/token"), metadata
    spec = (await through_gateway.get("/openapi.json")).json()
    assert {"/token", "/revoke", "/users", "/users/me", "/users/{id}"} <= set(spec["paths"])
    anonymous = await through_gateway.get("/users/me")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith(
        "Bearer"
    ), anonymous.text


async def test_gateway_health_aggregates_both_functions(
    through_gateway: httpx.AsyncClient, processes: dict[str, Any]
) -> None:
    answer = await through_gateway.get("/health")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "healthy" and body["service"] == "gateway", body
    components = {c["name"]: c["status"] for c in body["components"]}
    assert components == {"auth-tokens": "healthy", "auth-users": "healthy"}, body
    ready = await through_gateway.get("/ready")
    assert ready.status_code == 200, ready.text
    own = await through_gateway.get("/_functions/auth-users/health")
    assert own.status_code == 200 and own.json()["service"] == "auth-service", own.text
    local.stop([processes["auth-users"].process], timeout=20)
    degraded = await through_gateway.get("/health")
    assert degraded.status_code == 503, degraded.text
    statuses = {c["name"]: c["status"] for c in degraded.json()["components"]}
    assert statuses == {"auth-tokens": "healthy", "auth-users": "unhealthy"}, degraded.text
