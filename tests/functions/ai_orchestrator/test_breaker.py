"""The circuit breaker: opened by real failures, shared through Redis, one half-open trial."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from functions.ai_orchestrator import breaker, context
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.functions.ai_orchestrator._support import Platform
from tests.functions.ai_orchestrator.test_review import MODEL, post_review, sample_chunk
from tests.functions.ai_orchestrator.test_routing import two_providers


async def state_of(client: httpx.AsyncClient, platform: Platform, provider: str) -> str:
    answer = await client.get("/models", headers=platform.member)
    assert answer.status_code == 200, answer.text
    return str(next(r["state"] for r in answer.json()["items"] if r["provider"] == provider))


async def test_failures_open_the_circuit_and_later_calls_skip_the_provider(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    first, second = await two_providers(platform, fake_openai, fake_anthropic)
    client = client_for("orchestrator", **platform.orchestrator_env(BREAKER_FAILURES="3"))
    fake_openai.fail_next(500, times=3)
    for line in (10, 20, 30):
        answer = await post_review(client, platform, [sample_chunk(f"c{line}", start_line=line)])
        assert answer.json()["usage"]["provider"] == second, answer.text

    skipped = await post_review(client, platform, [sample_chunk("after", start_line=40)])

    assert await state_of(client, platform, first) == "open"
    assert skipped.json()["usage"]["provider"] == second, skipped.text
    assert fake_openai.request_count == 3, "an open circuit is not contacted"


async def test_after_the_cooldown_one_trial_call_closes_the_circuit(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    first, _ = await two_providers(platform, fake_openai, fake_anthropic)
    env = platform.orchestrator_env(BREAKER_FAILURES="1", BREAKER_COOLDOWN_SECONDS="1.5")
    client = client_for("orchestrator", **env)
    fake_openai.fail_next(500)
    await post_review(client, platform, [sample_chunk("a", start_line=10)])
    assert await state_of(client, platform, first) == "open"
    await asyncio.sleep(1.6)
    assert await state_of(client, platform, first) == "half_open"

    trial = await post_review(client, platform, [sample_chunk("b", start_line=20)])

    assert trial.json()["usage"]["provider"] == first, trial.text
    assert await state_of(client, platform, first) == "closed"
    assert fake_openai.request_count == 2


async def test_a_failed_trial_opens_the_circuit_again(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    first, second = await two_providers(platform, fake_openai, fake_anthropic)
    env = platform.orchestrator_env(BREAKER_FAILURES="1", BREAKER_COOLDOWN_SECONDS="1.5")
    client = client_for("orchestrator", **env)
    fake_openai.fail_next(500, times=2)
    await post_review(client, platform, [sample_chunk("a", start_line=10)])
    await asyncio.sleep(1.6)

    trial = await post_review(client, platform, [sample_chunk("b", start_line=20)])

    assert trial.json()["usage"]["provider"] == second, trial.text
    assert await state_of(client, platform, first) == "open"
    assert fake_openai.request_count == 2


async def test_half_open_admits_one_trial_at_a_time(platform: Platform, client_for: Any) -> None:
    client_for(
        "orchestrator",
        **platform.orchestrator_env(BREAKER_FAILURES="1", BREAKER_COOLDOWN_SECONDS="0.8"),
    )
    provider = f"p-{platform.experiment}"
    assert await breaker.failure(provider) == "open"
    assert not (await breaker.allow(provider, lease_seconds=30)).allowed
    await asyncio.sleep(0.9)

    permits = await asyncio.gather(*(breaker.allow(provider, lease_seconds=30) for _ in range(5)))

    assert [p.trial for p in permits].count(True) == 1, permits
    assert sum(p.allowed for p in permits) == 1


async def test_a_cooling_provider_is_refused_in_the_same_round_trip_without_taking_the_trial(
    platform: Platform, client_for: Any
) -> None:
    client_for(
        "orchestrator",
        **platform.orchestrator_env(BREAKER_FAILURES="1", BREAKER_COOLDOWN_SECONDS="0.3"),
    )
    provider = f"p-{platform.experiment}-cooling"
    assert await breaker.failure(provider) == "open"
    await asyncio.sleep(0.4)  # the circuit would admit a half-open trial now
    seconds = await breaker.cool_down(provider, 1.0)  # but the provider asked for a rest

    cooling = await breaker.allow(provider, lease_seconds=30)
    await asyncio.sleep(1.1)
    rested = await breaker.allow(provider, lease_seconds=30)

    assert seconds == 1.0
    assert not cooling.allowed and not cooling.trial and cooling.cooling_until is not None
    assert cooling.state == "open", "the circuit is read, not moved on, while cooling"
    assert (rested.allowed, rested.trial, rested.cooling_until) == (True, True, None)


async def test_with_redis_down_every_provider_counts_as_closed(
    platform: Platform, client_for: Any, fake_openai: FakeOpenAI
) -> None:
    await context.redis.close()
    client_for("orchestrator", **platform.orchestrator_env(REDIS_URL="redis://127.0.0.1:1/0"))
    try:
        permit = await breaker.allow("anyone", lease_seconds=5)
        state = await breaker.failure("anyone")
    finally:
        await context.redis.close()

    assert (permit.allowed, permit.state, state) == (True, "closed", "closed")


async def test_two_orchestrator_processes_share_the_circuit(
    platform: Platform,
    start_function: Any,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
) -> None:
    first, second = await two_providers(platform, fake_openai, fake_anthropic)
    env = platform.orchestrator_env(BREAKER_FAILURES="2")
    one = start_function("orchestrator", **env)
    two = start_function("orchestrator", **env)
    fake_openai.fail_next(500, times=2)
    async with (
        httpx.AsyncClient(base_url=one.url, timeout=30) as a,
        httpx.AsyncClient(base_url=two.url, timeout=30) as b,
    ):
        for line in (10, 20):
            failed_over = await post_review(
                a, platform, [sample_chunk(f"c{line}", start_line=line)]
            )
            assert failed_over.json()["usage"]["provider"] == second, (
                failed_over.text + one.output()
            )

        seen_by_two = await state_of(b, platform, first)
        answer = await post_review(b, platform, [sample_chunk("other", start_line=30)])

    assert seen_by_two == "open"
    assert answer.json()["usage"]["provider"] == second, answer.text
    assert fake_openai.request_count == 2, "the second process did not call the open provider"
    assert MODEL in {r.body["model"] for r in fake_openai.calls("/v1/chat/completions")}
