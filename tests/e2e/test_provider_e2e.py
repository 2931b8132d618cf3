"""provider-service end to end: real providers and quotas processes, real Postgres and Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from localdev import local
from tests.helpers import new_project

ADMIN = "00000000-0000-4000-8000-0000000e2e01"


async def test_a_provider_is_registered_limited_reserved_committed_and_reported(
    start_function: Callable[..., Any], identity: Any
) -> None:
    # Started together, then awaited: three cold starts in a row outlasted one start's
    # 30 s on a busy machine.
    projects = start_function("projects", wait=False)
    providers = start_function("providers", wait=False)
    quotas = start_function("quotas", wait=False, PROJECTS_URL=projects.url)
    for running in (projects, providers, quotas):
        local.wait_for_function(running.url, running.spec.name, timeout=90, process=running.process)
    admin = identity.headers(ADMIN, role="admin")
    user = uuid.uuid4()
    me = identity.headers(str(user), role="member")
    project = await new_project(projects.url, me)  # a member reserves only in their projects
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    async with (
        httpx.AsyncClient(base_url=providers.url, timeout=10) as p,
        httpx.AsyncClient(base_url=quotas.url, timeout=10) as q,
    ):
        created = await p.post(
            "/providers",
            json={
                "name": name,
                "kind": "openai",
                "api_key_secret": "env://OPENAI_API_KEY",
                "models": [
                    {
                        "name": "gpt-4o",
                        "input_usd_per_mtok": "2.50",
                        "output_usd_per_mtok": "10",
                        "context_window": 128000,
                    }
                ],
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text + providers.output()
        assert created.json()["base_url"] == "https://api.openai.com/v1", created.json()

        rule = await q.put(f"/quotas/user/{user}", json={"tokens_per_day": 3000}, headers=admin)
        assert rule.status_code == 200, rule.text + quotas.output()

        body = {
            "user_id": str(user),
            "project_id": str(project),
            "provider": name,
            "model": "gpt-4o",
            "estimated_tokens": 2000,
        }
        reserved = await q.post("/quotas/reserve", json=body, headers=me)
        assert reserved.status_code == 201, reserved.text
        over = await q.post("/quotas/reserve", json=body, headers=me)
        assert over.status_code == 429, over.text
        assert over.json()["limit"] == f"user:{user}:tokens_per_day", over.json()

        committed = await q.post(
            "/quotas/commit",
            json={
                "reservation_id": reserved.json()["reservation_id"],
                "input_tokens": 1234,
                "output_tokens": 567,
            },
            headers=me,
        )
        assert committed.status_code == 200, committed.text
        assert committed.json()["cost_usd"] == "0.008755", committed.json()

        usage = await q.get("/usage", params={"group_by": "model"}, headers=me)
        assert usage.status_code == 200, usage.text
        assert usage.json()["items"] == [
            {
                "provider": name,
                "model": "gpt-4o",
                "day": None,
                "requests": 1,
                "input_tokens": 1234,
                "output_tokens": 567,
                "cost_usd": "0.008755",
            }
        ], usage.json()

        paths = (await q.get("/openapi.json")).json()["paths"]
        assert {"/quotas/reserve", "/usage"} <= set(paths), sorted(paths)
