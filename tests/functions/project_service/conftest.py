"""Fixtures of project-service's tests: users with tokens, clients, projects, archives."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shared import events
from tests.functions.project_service._support import (
    User,
)
from tests.helpers import Accounts


@pytest.fixture
def new_user(identity: Any) -> Callable[..., User]:
    """``new_user()`` a fresh member; ``new_user(role="admin")`` an administrator.

    Only an id with a token: enough to own and read projects, not to be added to one
    (``real_user``)."""

    def make(role: str = "member") -> User:
        user_id = str(uuid.uuid4())
        return User(user_id, identity.headers(user_id, role=role))

    return make


@pytest.fixture
def real_user(identity: Any, accounts: Accounts) -> Callable[..., User]:
    """``real_user()``: a user auth-users knows (registered there), with a token of the
    stand-in identity: who may be added to a project as a member."""

    def make(role: str = "member") -> User:
        user_id = accounts.user_id()
        return User(user_id, identity.headers(user_id, role=role))

    return make


@pytest.fixture
def projects(
    client_for: Callable[..., httpx.AsyncClient], request: pytest.FixtureRequest
) -> httpx.AsyncClient:
    """The projects function in-process; a test adding members (``real_user``) gets it
    wired to the session's auth-users, as in a cluster, the others to nothing there."""
    env: dict[str, str] = {}
    if "real_user" in request.fixturenames or "accounts" in request.fixturenames:
        env = request.getfixturevalue("accounts").env
    return client_for("projects", **env)


@pytest.fixture
def project_files(
    projects: httpx.AsyncClient, client_for: Callable[..., httpx.AsyncClient]
) -> httpx.AsyncClient:
    return client_for("project_files")


@pytest.fixture
def refusing_url() -> Iterator[str]:
    """An address that refuses every connection and that no other process can take (a
    bound socket that never listens): auth-users down."""
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{held.getsockname()[1]}"
    held.close()


@pytest.fixture
def internal_projects(
    projects: httpx.AsyncClient, client_for: Callable[..., httpx.AsyncClient]
) -> httpx.AsyncClient:
    """The projects function called at its cluster-local address, where its internal
    routes (``/members/{user_id}...``, for auth-users) are served."""
    return client_for("projects", host=events.cluster_local_host("projects"))
