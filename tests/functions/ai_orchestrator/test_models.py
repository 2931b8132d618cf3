"""GET /models: the routing table with circuit states, by priority."""

from __future__ import annotations

from typing import Any

from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.functions.ai_orchestrator._support import Platform


async def test_models_lists_the_catalog_by_priority_with_the_builtin_reviewer_last(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    late = await platform.provider(
        "openai", fake_openai.base_url, models=("gpt-4o-mini", "gpt-4.1"), priority=9000
    )
    early = await platform.provider(
        "anthropic", fake_anthropic.base_url, models=("claude-haiku-4-5",), priority=8000
    )
    client = client_for("orchestrator", **platform.orchestrator_env())

    answer = await client.get("/models", headers=platform.member)

    assert answer.status_code == 200, answer.text
    rows = answer.json()["items"]
    mine = [(r["provider"], r["model"], r["state"]) for r in rows if r["provider"] in (late, early)]
    assert mine == [
        (early, "claude-haiku-4-5", "closed"),
        (late, "gpt-4o-mini", "closed"),
        (late, "gpt-4.1", "closed"),
    ]
    orders = [r["order"] for r in rows]
    assert orders == list(range(1, len(rows) + 1))
    local = next(r for r in rows if r["provider"] == "local")
    assert (local["model"], local["kind"]) == ("local-analyzers", "local")
    assert fake_openai.request_count == 0 and fake_anthropic.request_count == 0, "no probes"


async def test_models_needs_a_token(platform: Platform, client_for: Any) -> None:
    client = client_for("orchestrator", **platform.orchestrator_env())
    answer = await client.get("/models")
    assert answer.status_code == 401, answer.text
