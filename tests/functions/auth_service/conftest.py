"""Fixtures for auth-service: both functions in-process, a fresh key ring, unique client IPs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from functions.auth_service import context
from tests.functions.auth_service._support import PASSWORD, Auth, unique_email
from tests.helpers import Accounts


@pytest.fixture(autouse=True)
def fresh_key_ring() -> Iterator[None]:
    """Keys are cached per process; a test with other AUTH_SIGNING_KEYS must not leak them."""
    context._ring.clear()
    context.verifier.forget_keys()
    yield
    context._ring.clear()
    context.verifier.forget_keys()


@pytest.fixture
def client_ip() -> str:
    """An address of its own per test, so per-IP login counters never cross tests."""
    a, b, c = uuid.uuid4().bytes[:3]
    return f"10.{a}.{b}.{c}"


@pytest.fixture
def make_auth(client_for: Callable[..., object], client_ip: str) -> Callable[..., Auth]:
    """``make_auth(**env)``: both functions with ``env`` and this test's admin and address."""

    def make(*, client_ip_: str | None = None, **env: str) -> Auth:
        email, password = unique_email("admin"), PASSWORD + " admin"
        env = {"ADMIN_EMAIL": email, "ADMIN_PASSWORD": password, **env}
        ip = client_ip_ or client_ip
        users = client_for("auth_users", client_ip=ip, **env)
        tokens = client_for("auth_tokens", client_ip=ip, **env)
        return Auth(tokens, users, email, password)  # type: ignore[arg-type]

    return make


@pytest.fixture
def auth(make_auth: Callable[..., Auth]) -> Auth:
    return make_auth()


@pytest.fixture
def auth_with_projects(make_auth: Callable[..., Auth], accounts: Accounts) -> Auth:
    """Both functions in-process, auth-users wired to the session's real projects process
    (``accounts``) as the platform service account: deleting a user asks it."""
    return make_auth(
        PROJECTS_URL=accounts.urls["projects"],
        AUTH_TOKENS_URL=accounts.urls["auth_tokens"],
        PLATFORM_CLIENT_ID=accounts.env["PLATFORM_CLIENT_ID"],
        PLATFORM_CLIENT_SECRET=accounts.env["PLATFORM_CLIENT_SECRET"],
    )
