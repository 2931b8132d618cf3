"""GET /providers/{id}/health against local servers that speak the vendors' models APIs.

The shared full-fidelity fakes (tests/fakes/openai_api.py, anthropic_api.py) were not
ready when this was written, so this module serves a minimal ``GET /v1/models`` in each
vendor's real shape (answers and 401 error bodies) from a uvicorn thread.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from localdev import local
from tests.fakes.secret_manager import FakeSecretManager
from tests.functions.provider_service._support import admin, create_provider, member


class ModelsServer:
    """``GET /v1/models`` as OpenAI or Anthropic answers it, with key checks and a delay."""

    def __init__(self, flavor: str, api_key: str) -> None:
        self.flavor, self.api_key = flavor, api_key
        self.seen: list[dict[str, str]] = []
        self.delay = 0.0
        self.port = 0
        self._server: uvicorn.Server | None = None

    @property
    def base_url(self) -> str:
        root = f"http://127.0.0.1:{self.port}"
        return f"{root}/v1" if self.flavor == "openai" else root

    async def models(self, request: Request) -> Response:
        self.seen.append(dict(request.headers))
        await asyncio.sleep(self.delay)
        if self.flavor == "openai":
            return self._openai(request)
        return self._anthropic(request)

    def _openai(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            error = {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
            return JSONResponse({"error": error}, status_code=401)
        data = [
            {"id": m, "object": "model", "created": 1715367049, "owned_by": "system"}
            for m in ("gpt-4o", "gpt-4o-mini")
        ]
        return JSONResponse({"object": "list", "data": data})

    def _anthropic(self, request: Request) -> Response:
        if request.headers.get("anthropic-version") is None:
            error = {"type": "invalid_request_error", "message": "anthropic-version: required"}
            return JSONResponse({"type": "error", "error": error}, status_code=400)
        if request.headers.get("x-api-key") != self.api_key:
            error = {"type": "authentication_error", "message": "invalid x-api-key"}
            return JSONResponse({"type": "error", "error": error}, status_code=401)
        model = {
            "type": "model",
            "id": "claude-sonnet-4-20250514",
            "display_name": "Claude Sonnet 4",
            "created_at": "2025-05-22T00:00:00Z",
        }
        return JSONResponse(
            {"data": [model], "has_more": False, "first_id": model["id"], "last_id": model["id"]}
        )

    def start(self) -> ModelsServer:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/v1/models", self.models)])
        config = uvicorn.Config(app, log_level="warning", lifespan="off", http="h11", ws="none")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


@pytest.fixture
def openai_server() -> Iterator[ModelsServer]:
    server = ModelsServer("openai", f"sk-proj-{uuid.uuid4().hex}").start()
    yield server
    server.stop()


@pytest.fixture
def anthropic_server() -> Iterator[ModelsServer]:
    server = ModelsServer("anthropic", f"sk-ant-api03-{uuid.uuid4().hex}").start()
    yield server
    server.stop()


@pytest.fixture
def providers(client_for):
    return client_for("providers", SERVICE_NAME="provider-service")


def _env_key(value: str) -> str:
    import os

    name = f"PROBE_{uuid.uuid4().hex[:10].upper()}_API_KEY"
    os.environ[name] = value
    return f"env://{name}"


async def _health(providers: Any, identity: Any, provider: dict[str, Any]) -> dict[str, Any]:
    answer = await providers.get(f"/providers/{provider['id']}/health", headers=admin(identity))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_an_openai_provider_is_healthy_when_its_models_listing_answers(
    providers, identity, openai_server, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = await create_provider(
        providers,
        identity,
        base_url=openai_server.base_url,
        api_key_secret=_env_key(openai_server.api_key),
    )
    health = await _health(providers, identity, provider)
    assert health["status"] == "healthy", health
    assert health["detail"] == "2 model(s) listed", health
    assert health["latency_ms"] >= 0, health
    assert openai_server.seen[-1]["authorization"] == f"Bearer {openai_server.api_key}"
    assert openai_server.api_key not in caplog.text, "the API key leaked into the logs"


async def test_an_anthropic_provider_is_probed_with_its_own_headers(
    providers, identity, anthropic_server
) -> None:
    provider = await create_provider(
        providers,
        identity,
        kind="anthropic",
        base_url=anthropic_server.base_url,
        api_key_secret=_env_key(anthropic_server.api_key),
    )
    health = await _health(providers, identity, provider)
    assert (health["status"], health["detail"]) == ("healthy", "1 model(s) listed"), health
    seen = anthropic_server.seen[-1]
    assert seen["x-api-key"] == anthropic_server.api_key, seen
    assert seen["anthropic-version"] == "2023-06-01", seen
    assert "authorization" not in seen, "Anthropic takes x-api-key, not a bearer token"


@pytest.mark.parametrize("flavor", ["openai", "anthropic"])
async def test_a_rejected_key_is_unhealthy_with_authentication_failed(
    providers, identity, openai_server, anthropic_server, flavor
) -> None:
    server = openai_server if flavor == "openai" else anthropic_server
    provider = await create_provider(
        providers,
        identity,
        kind=flavor,
        base_url=server.base_url,
        api_key_secret=_env_key("sk-wrong-key"),
    )
    health = await _health(providers, identity, provider)
    assert (health["status"], health["detail"]) == ("unhealthy", "authentication failed"), health
    assert "sk-wrong-key" not in str(health), health


async def test_a_provider_slower_than_the_probe_timeout_is_unhealthy(
    client_for, identity, openai_server
) -> None:
    providers = client_for(
        "providers", SERVICE_NAME="provider-service", PROVIDER_PROBE_TIMEOUT_SECONDS="0.2"
    )
    openai_server.delay = 1.0
    provider = await create_provider(
        providers,
        identity,
        base_url=openai_server.base_url,
        api_key_secret=_env_key(openai_server.api_key),
    )
    health = await _health(providers, identity, provider)
    assert (health["status"], health["detail"]) == ("unhealthy", "timed out after 0.2s"), health


async def test_an_unreachable_provider_is_unhealthy(providers, identity) -> None:
    closed = local.free_port()  # nothing listens there, and no test will hand it out again
    provider = await create_provider(
        providers, identity, base_url=f"http://127.0.0.1:{closed}/v1", api_key_secret=None
    )
    health = await _health(providers, identity, provider)
    assert health["status"] == "unhealthy", health
    assert health["detail"].startswith("unreachable"), health


async def test_an_unset_environment_key_is_unhealthy_without_calling_out(
    providers, identity, openai_server
) -> None:
    provider = await create_provider(
        providers,
        identity,
        base_url=openai_server.base_url,
        api_key_secret="env://DEFINITELY_NOT_SET_API_KEY",
    )
    health = await _health(providers, identity, provider)
    assert health["status"] == "unhealthy", health
    assert "DEFINITELY_NOT_SET_API_KEY" in health["detail"], health
    assert openai_server.seen == [], "no call without a key"


async def test_a_secret_manager_key_is_resolved_at_call_time(
    providers, identity, openai_server
) -> None:
    import os

    secrets = FakeSecretManager().start()
    try:
        name = f"openai-key-{uuid.uuid4().hex[:8]}"
        os.environ.update(
            {"SECRET_MANAGER_EMULATOR_HOST": secrets.address, "GOOGLE_CLOUD_PROJECT": "acr-test"}
        )
        provider = await create_provider(
            providers, identity, base_url=openai_server.base_url, api_key_secret=f"sm://{name}"
        )
        assert secrets.calls == [], "creating a provider must not read its key"
        secrets.secrets[f"projects/acr-test/secrets/{name}/versions/latest"] = openai_server.api_key
        health = await _health(providers, identity, provider)
    finally:
        secrets.stop()
    assert health["status"] == "healthy", health
    assert secrets.calls == [f"projects/acr-test/secrets/{name}/versions/latest"]


async def test_the_local_provider_is_the_offline_reviewer_and_always_healthy(
    providers, identity
) -> None:
    provider = await create_provider(
        providers, identity, kind="local", base_url=None, api_key_secret=None
    )
    health = await _health(providers, identity, provider)
    assert health == {"status": "healthy", "latency_ms": 0.0, "detail": "offline reviewer"}


async def test_the_health_of_an_unknown_provider_is_404(providers, identity) -> None:
    answer = await providers.get(f"/providers/{uuid.uuid4()}/health", headers=admin(identity))
    assert answer.status_code == 404, answer.text


async def test_health_checks_are_admin_only_throttled_and_skip_disabled_providers(
    providers, identity, openai_server
) -> None:
    """Issue 9 item 8: any member could make the platform send a provider's key, also for
    disabled providers, as often as they liked."""
    provider = await create_provider(
        providers,
        identity,
        base_url=openai_server.base_url,
        api_key_secret=_env_key(openai_server.api_key),
    )
    path = f"/providers/{provider['id']}/health"
    as_member = await providers.get(path, headers=member(identity, uuid.uuid4()))
    assert as_member.status_code == 403, as_member.text
    assert openai_server.seen == [], "a member's request probed nothing"
    first = await _health(providers, identity, provider)
    again = await _health(providers, identity, provider)
    assert first == again and first["status"] == "healthy"
    assert len(openai_server.seen) == 1, "one live probe per interval"
    disabled = await create_provider(
        providers,
        identity,
        base_url=openai_server.base_url,
        api_key_secret=_env_key(openai_server.api_key),
        enabled=False,
    )
    assert (await _health(providers, identity, disabled))["status"] == "disabled"
    assert len(openai_server.seen) == 1, "a disabled provider is not probed"


async def test_a_probe_refuses_a_name_that_resolves_to_loopback_outside_development(
    client_for, identity, openai_server
) -> None:
    from functions.provider_service import probes

    target = probes.Target(
        "openai", f"http://localhost:{openai_server.port}/v1", None, allow_loopback=False
    )
    result = await probes.probe(target, limit_s=2)
    assert result["status"] == "unhealthy" and "not probed" in result["detail"], result
    assert openai_server.seen == []
