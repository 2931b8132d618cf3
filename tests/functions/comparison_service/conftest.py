"""Fixtures of comparison-service tests: a real versions process, admins, experiments."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localdev import discovery, local

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def versions_url(
    database_url: str, redis_url: str, redis_prefix: str, identity: Any, tmp_path_factory: Any
) -> Iterator[str]:
    """One real versions process for the session (the promotion target and version checks)."""
    spec = next(f for s in discovery.discover(ROOT) for f in s.functions if f.target == "versions")
    spec = discovery.FunctionSpec(
        spec.service, spec.target, spec.kind, local.free_port(), spec.source
    )
    env = {
        "JWKS_URL": identity.jwks_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
    }
    log = tmp_path_factory.mktemp("versions") / "versions.log"
    with log.open("wb") as sink:
        process = local.start_function(spec, env, log=sink)
    url = f"http://127.0.0.1:{spec.port}"
    try:
        local.wait_for_function(url, spec.name, timeout=30, process=process)
        yield url
    finally:
        local.stop([process], timeout=20)


@pytest.fixture
def admin(identity: Any) -> dict[str, str]:
    return identity.headers(str(uuid.uuid4()), role="admin")


@pytest.fixture
def member(identity: Any) -> dict[str, str]:
    return identity.headers(str(uuid.uuid4()), role="member")


@pytest.fixture
def internal(identity: Any) -> dict[str, str]:
    """analysis-service's platform token (scope internal), which names the unit."""
    return identity.headers("sa:platform", role="service", scope="internal")


@pytest.fixture
def ab(client_for: Any, versions_url: str) -> httpx.AsyncClient:
    client: httpx.AsyncClient = client_for("ab_tests", VERSIONS_URL=versions_url)
    return client
