"""Routing: fallback on 429 / 5xx / timeout honouring Retry-After, and quotas before calls."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.functions.ai_orchestrator._support import Platform
from tests.functions.ai_orchestrator.test_review import MODEL, located, post_review, sample_chunk
from tests.functions.provider_service._support import away_from_the_minute_edge

CLAUDE = "claude-haiku-4-5"


async def two_providers(
    platform: Platform, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic, **config: Any
) -> tuple[str, str]:
    first = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    second = await platform.provider("anthropic", fake_anthropic.base_url, models=(CLAUDE,))
    await platform.version([(first, MODEL), (second, CLAUDE)], **config)
    return first, second


async def test_a_429_falls_back_and_the_provider_rests_for_its_retry_after(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    first, second = await two_providers(platform, fake_openai, fake_anthropic)
    client = client_for("orchestrator", **platform.orchestrator_env())
    fake_openai.fail_next(429, retry_after=30)

    answer = await post_review(client, platform, [sample_chunk()])
    later = await post_review(client, platform, [sample_chunk("later", start_line=40)])

    assert answer.status_code == 200, answer.text
    assert answer.json()["usage"]["provider"] == second
    assert located(answer.json()) == [("c1", 11, "eval-call"), ("c1", 12, "hardcoded-password")]
    assert later.json()["usage"]["provider"] == second, later.text
    assert fake_openai.request_count == 1, "no call to the cooling provider"
    assert fake_anthropic.request_count == 2
    models = (await client.get("/models", headers=platform.member)).json()["items"]
    row = next(r for r in models if r["provider"] == first)
    assert row["cooling_until"] is not None and row["state"] == "closed", row


async def test_a_5xx_falls_back_and_releases_the_reservation(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    first, second = await two_providers(platform, fake_openai, fake_anthropic)
    client = client_for("orchestrator", **platform.orchestrator_env())
    fake_openai.fail_next(500)

    answer = await post_review(client, platform, [sample_chunk()])

    assert answer.status_code == 200, answer.text
    assert answer.json()["usage"]["provider"] == second
    ledger = await platform.usage()
    assert [(row["provider"], row["requests"]) for row in ledger["items"]] == [(second, 1)], ledger


async def test_a_timeout_falls_back_to_the_next_candidate(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    _, second = await two_providers(
        platform, fake_openai, fake_anthropic, routing={"timeout_seconds": 0.5}
    )
    client = client_for("orchestrator", **platform.orchestrator_env())
    fake_openai.delay_next(2.0)

    answer = await post_review(client, platform, [sample_chunk()])

    assert answer.status_code == 200, answer.text
    assert answer.json()["usage"]["provider"] == second


async def test_every_candidate_failing_is_a_503_logging_each_attempt(
    platform: Platform,
    client_for: Any,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="shared.errors")
    first, second = await two_providers(platform, fake_openai, fake_anthropic)
    client = client_for("orchestrator", **platform.orchestrator_env())
    fake_openai.fail_next(503)
    fake_anthropic.fail_next(529, retry_after=7)

    answer = await post_review(client, platform, [sample_chunk()])

    assert answer.status_code == 503, answer.text
    assert answer.json()["detail"] == "A dependency is unavailable; retry later.", answer.text
    (logged,) = [m for m in caplog.messages if m.startswith("Unavailable: providers")]
    assert f"{first}/{MODEL}: server_error 503" in logged, logged
    assert f"{second}/{CLAUDE}: overloaded 529" in logged, logged


async def test_a_quota_429_reaches_the_caller_and_no_provider_is_called(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    await two_providers(platform, fake_openai, fake_anthropic)
    rule = await platform.http.put(
        f"{platform.backends.quotas}/quotas/project/{platform.project_id}",
        json={"requests_per_minute": 1},
        headers=platform.admin,
    )
    assert rule.status_code == 200, rule.text
    client = client_for("orchestrator", **platform.orchestrator_env())
    away_from_the_minute_edge()  # both calls in one per-minute window
    allowed = await post_review(client, platform, [sample_chunk()])
    assert allowed.status_code == 200, allowed.text

    refused = await post_review(client, platform, [sample_chunk("next", start_line=50)])

    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["limit"] == f"project:{platform.project_id}:requests_per_minute"
    assert fake_openai.request_count == 1, "only the first review reached a provider"
    assert fake_anthropic.request_count == 0


async def test_a_candidate_missing_from_the_catalog_is_skipped_and_named(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """Named in the log: the member's 503 names no provider."""
    caplog.set_level(logging.WARNING, logger="shared.errors")
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await platform.version([("nobody", "nothing"), (name, MODEL)])
    client = client_for("orchestrator", **platform.orchestrator_env())

    answer = await post_review(client, platform, [sample_chunk()])
    fake_openai.fail_next(500)
    failed = await post_review(client, platform, [sample_chunk("x", start_line=70)])

    assert answer.json()["usage"]["provider"] == name, answer.text
    assert failed.status_code == 503 and "nobody" not in failed.text, failed.text
    assert any("nobody/nothing: not in the catalog" in m for m in caplog.messages), caplog.messages


async def test_a_provider_without_a_usable_key_is_skipped(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    _, second = await two_providers(platform, fake_openai, fake_anthropic)
    env = platform.orchestrator_env()
    del env["FAKE_OPENAI_API_KEY"]
    client = client_for("orchestrator", **env)

    answer = await post_review(client, platform, [sample_chunk()])

    assert answer.status_code == 200, answer.text
    assert answer.json()["usage"]["provider"] == second
    assert fake_openai.request_count == 0
