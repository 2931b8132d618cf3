"""Helpers shared by provider-service's tests: callers, providers with priced models, quotas."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

ADMIN_ID = "00000000-0000-4000-8000-00000000ad31"


def unique(tag: str = "p") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def admin(identity: Any) -> dict[str, str]:
    headers: dict[str, str] = identity.headers(ADMIN_ID, role="admin")
    return headers


def member(identity: Any, user_id: uuid.UUID | str) -> dict[str, str]:
    headers: dict[str, str] = identity.headers(str(user_id), role="member")
    return headers


def service(identity: Any) -> dict[str, str]:
    """An internal service token (the orchestrator's), allowed to act for any user."""
    headers: dict[str, str] = identity.headers("sa-orchestrator", role="service", scope="internal")
    return headers


def provider_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": unique("openai"),
        "kind": "openai",
        "base_url": "https://api.openai.com/v1",
        "api_key_secret": "env://OPENAI_API_KEY",
        "models": [
            {
                "name": "gpt-4o",
                "input_usd_per_mtok": "2.50",
                "output_usd_per_mtok": "10.00",
                "context_window": 128000,
                "rpm": 500,
                "tpm": 30000,
            }
        ],
        "priority": 10,
    }
    body.update(overrides)
    return body


async def create_provider(
    client: httpx.AsyncClient, identity: Any, **overrides: Any
) -> dict[str, Any]:
    answer = await client.post(
        "/providers", json=provider_body(**overrides), headers=admin(identity)
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def put_rule(
    client: httpx.AsyncClient, identity: Any, scope: str, scope_id: str, **limits: Any
) -> dict[str, Any]:
    answer = await client.put(f"/quotas/{scope}/{scope_id}", json=limits, headers=admin(identity))
    assert answer.status_code == 200, answer.text
    rule: dict[str, Any] = answer.json()
    return rule


def call(
    provider: str, *, user_id: uuid.UUID, project_id: uuid.UUID, tokens: int = 100
) -> dict[str, Any]:
    """A reserve body for the provider's gpt-4o."""
    return {
        "user_id": str(user_id),
        "project_id": str(project_id),
        "provider": provider,
        "model": "gpt-4o",
        "estimated_tokens": tokens,
    }


def away_from_the_minute_edge() -> None:
    """A burst must fall inside one UTC minute window, or a second window would open
    (requests-per-minute counters are per UTC minute)."""
    second = datetime.now(UTC).second
    if second >= 55:
        time.sleep(61 - second)
