"""Fixtures of comparison-service tests: a real versions process, admins, experiments."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import running_functions


@pytest.fixture(scope="session")
def versions_url(session_env: dict[str, str], tmp_path_factory: Any) -> Iterator[str]:
    """One real versions process for the session (the promotion target and version checks)."""
    logs = tmp_path_factory.mktemp("versions")
    with running_functions(session_env, logs, "versions") as urls:
        yield urls["versions"]


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
