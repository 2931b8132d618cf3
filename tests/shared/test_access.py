"""access: the project-access check against a real projects process, and its cache."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from localdev import local
from shared import access, config
from shared.errors import NotFound, Unavailable


class _Settings(access.AccessConfig):
    pass


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    access.forget()
    yield
    access.forget()


def _settings(url: str, ttl: float) -> _Settings:
    os.environ.update(
        {"SERVICE_NAME": "probe", "PROJECTS_URL": url, "PROJECT_ACCESS_CACHE_SECONDS": str(ttl)}
    )
    config.reset_caches()
    return config.load(_Settings)


async def _project(url: str, headers: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        answer = await client.post("/projects", json={"name": "cached"}, headers=headers)
    assert answer.status_code == 201, answer.text
    project_id: str = answer.json()["id"]
    return project_id


async def _stop(function: Any) -> None:
    await asyncio.to_thread(local.stop, [function.process], timeout=20)


async def test_a_member_gets_the_role_and_the_answer_is_reused_within_the_ttl(
    start_function: Callable[..., Any], identity: Any
) -> None:
    function = start_function("projects")
    owner = identity.headers(str(uuid.uuid4()))
    project_id = await _project(function.url, owner)
    settings = _settings(function.url, ttl=300)
    assert await access.project_role(owner, project_id, settings=settings) == "owner"
    await _stop(function)
    cached = await access.project_role(owner, uuid.UUID(project_id), settings=settings)
    assert cached == "owner", "Within the TTL the answer should come from the cache."


async def test_after_the_ttl_the_check_asks_again(
    start_function: Callable[..., Any], identity: Any
) -> None:
    function = start_function("projects")
    owner = identity.headers(str(uuid.uuid4()))
    project_id = await _project(function.url, owner)
    settings = _settings(function.url, ttl=0.05)
    assert await access.project_role(owner, project_id, settings=settings) == "owner"
    await _stop(function)
    await asyncio.sleep(0.1)
    with pytest.raises(Unavailable) as down:
        await access.project_role(owner, project_id, settings=settings)
    assert down.value.dependency == "projects"


async def test_the_cache_is_per_caller_and_non_members_get_not_found(
    start_function: Callable[..., Any], identity: Any
) -> None:
    function = start_function("projects")
    owner = identity.headers(str(uuid.uuid4()))
    stranger = identity.headers(str(uuid.uuid4()))
    project_id = await _project(function.url, owner)
    settings = _settings(function.url, ttl=300)
    assert await access.project_role(owner, project_id, settings=settings) == "owner"
    with pytest.raises(NotFound):
        await access.project_role(stranger, project_id, settings=settings)
    with pytest.raises(NotFound):
        await access.project_role(owner, uuid.uuid4(), settings=settings)


async def test_a_service_acting_for_a_member_is_asked_about_as_that_member(
    start_function: Callable[..., Any], identity: Any
) -> None:
    function = start_function("projects")
    user_id = str(uuid.uuid4())
    project_id = await _project(function.url, identity.headers(user_id))
    service = identity.headers("sa-analyses", role="service", scope="internal")
    settings = _settings(function.url, ttl=300)
    role = await access.project_role(
        {**service, "x-acting-user": user_id}, project_id, settings=settings
    )
    assert role == "owner"
    with pytest.raises(NotFound):
        await access.project_role(
            {**service, "X-Acting-User": str(uuid.uuid4())}, project_id, settings=settings
        )


async def test_an_unreachable_project_service_is_unavailable(identity: Any) -> None:
    settings = _settings(f"http://127.0.0.1:{local.free_port()}", ttl=300)
    with pytest.raises(Unavailable):
        await access.project_role(identity.headers(), uuid.uuid4(), settings=settings)
