"""Fixtures of project-service's tests: users with tokens, clients, projects, archives."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.functions.project_service._support import (
    User,
)


@pytest.fixture
def new_user(identity: Any) -> Callable[..., User]:
    """``new_user()`` a fresh member; ``new_user(role="admin")`` an administrator."""

    def make(role: str = "member") -> User:
        user_id = str(uuid.uuid4())
        return User(user_id, identity.headers(user_id, role=role))

    return make


@pytest.fixture
def projects(client_for: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    return client_for("projects")


@pytest.fixture
def project_files(
    projects: httpx.AsyncClient, client_for: Callable[..., httpx.AsyncClient]
) -> httpx.AsyncClient:
    return client_for("project_files")
