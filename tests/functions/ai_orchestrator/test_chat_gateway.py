"""POST /v1/chat/completions through the official openai SDK: routing, quotas and usage."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import openai
import pytest
import pytest_asyncio

from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI
from tests.functions.ai_orchestrator._support import PRICE_IN, PRICE_OUT, Platform

MODEL = "gpt-4o-mini"
CLAUDE = "claude-haiku-4-5"
Sdk = Callable[..., openai.AsyncOpenAI]


@pytest_asyncio.fixture
async def sdk(platform: Platform, load_function: Any) -> AsyncIterator[Sdk]:
    """``sdk(api_key=None, **env)``: an AsyncOpenAI client on the in-process orchestrator."""
    made: list[openai.AsyncOpenAI] = []

    def make(api_key: str | None = None, **env: str) -> openai.AsyncOpenAI:
        app = load_function("orchestrator", **platform.orchestrator_env(**env))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        client = openai.AsyncOpenAI(
            base_url="http://orchestrator/v1",
            api_key=api_key or platform.identity.token(platform.user_id),
            http_client=http,
            max_retries=0,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


async def test_the_openai_sdk_gets_a_completion_and_usage_is_recorded(
    platform: Platform, sdk: Sdk, fake_openai: FakeOpenAI, database_url: str
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    client = sdk()

    completion = await client.chat.completions.create(
        model=f"{name}/{MODEL}",
        messages=[{"role": "user", "content": "Hello gateway"}],
        extra_headers={"X-Project-ID": platform.project_id},
    )

    assert completion.choices[0].message.content == "You said: Hello gateway"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    (call,) = fake_openai.calls("/v1/chat/completions")
    assert call.body["model"] == MODEL, "the provider's own model name is sent"
    ledger = await platform.usage()
    assert ledger["items"][0]["provider"] == name, ledger
    assert ledger["items"][0]["input_tokens"] == completion.usage.prompt_tokens
    assert ledger["items"][0]["output_tokens"] == completion.usage.completion_tokens
    # the call log, written after the answer was sent
    conn = await asyncpg.connect(database_url)
    try:
        logged = await conn.fetch(
            "select source, provider, outcome, input_tokens, cost_usd from ai_orchestrator.calls"
            " where user_id = $1",
            platform.user_id,
        )
    finally:
        await conn.close()
    assert [(r["source"], r["provider"], r["outcome"]) for r in logged] == [("chat", name, "ok")]
    assert logged[0]["input_tokens"] == completion.usage.prompt_tokens
    assert logged[0]["cost_usd"] == Decimal(ledger["items"][0]["cost_usd"])


async def test_a_bare_model_name_falls_back_across_providers_offering_it(
    platform: Platform, sdk: Sdk, fake_openai: FakeOpenAI
) -> None:
    model = f"shared-{platform.experiment}"
    first = await platform.provider("openai", fake_openai.base_url, models=(model,), priority=1)
    second = await platform.provider("openai", fake_openai.base_url, models=(model,), priority=2)
    fake_openai.fail_next(500)
    raw = await sdk().chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hi"}]
    )

    assert raw.headers["x-acr-provider"] == second
    assert raw.parse().choices[0].message.content == "You said: hi"
    assert first != second and fake_openai.request_count == 2


async def test_an_anthropic_provider_answers_in_openai_shape(
    platform: Platform, sdk: Sdk, fake_anthropic: FakeAnthropic
) -> None:
    name = await platform.provider("anthropic", fake_anthropic.base_url, models=(CLAUDE,))

    completion = await sdk().chat.completions.create(
        model=f"{name}/{CLAUDE}",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi Claude"},
        ],
        max_tokens=50,
    )

    assert completion.choices[0].message.content == "You said: Hi Claude"
    (call,) = fake_anthropic.calls("/v1/messages")
    assert (call.body["system"], call.body["max_tokens"], call.body["model"]) == (
        "Be brief.",
        50,
        CLAUDE,
    )


async def test_with_no_maximum_the_provider_is_capped_at_the_reserved_output(
    platform: Platform, sdk: Sdk, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI
) -> None:
    claude = await platform.provider("anthropic", fake_anthropic.base_url, models=(CLAUDE,))
    gpt = await platform.provider("openai", fake_openai.base_url, models=(f"m-{claude}",))
    client = sdk(CHAT_DEFAULT_MAX_TOKENS="300")
    for model in (f"{claude}/{CLAUDE}", f"{gpt}/m-{claude}"):
        await client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}]
        )
    (to_claude,) = fake_anthropic.calls("/v1/messages")
    assert to_claude.body["max_tokens"] == 300, "what the quota reserved, not a constant"
    to_gpt = fake_openai.calls("/v1/chat/completions")[-1]
    assert to_gpt.body["max_completion_tokens"] == 300


async def test_auto_routes_through_the_default_configuration(
    platform: Platform, sdk: Sdk, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await platform.version([(name, MODEL)])

    raw = await sdk().chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "route me"}]
    )

    assert raw.headers["x-acr-provider"] == name
    assert fake_openai.request_count == 1


async def _limit_tokens_per_day(platform: Platform, tokens: int) -> None:
    """An admin's quota rule on the platform user's tokens per day."""
    rule = await platform.http.put(
        f"{platform.backends.quotas}/quotas/user/{platform.user_id}",
        json={"tokens_per_day": tokens},
        headers=platform.admin,
    )
    assert rule.status_code == 200, rule.text


async def test_a_quota_429_is_a_rate_limit_error_and_the_provider_is_not_called(
    platform: Platform, sdk: Sdk, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    await _limit_tokens_per_day(platform, 10)

    with pytest.raises(openai.RateLimitError) as caught:
        await sdk().chat.completions.create(
            model=f"{name}/{MODEL}", messages=[{"role": "user", "content": "too much"}]
        )

    assert caught.value.status_code == 429
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert caught.value.code == "insufficient_quota"
    assert fake_openai.request_count == 0


async def test_errors_come_back_as_the_sdks_typed_errors(
    platform: Platform, sdk: Sdk, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    message = [{"role": "user", "content": "x"}]

    with pytest.raises(openai.AuthenticationError):
        await sdk(api_key="not-a-token").chat.completions.create(model=MODEL, messages=message)
    with pytest.raises(openai.NotFoundError) as missing:
        await sdk().chat.completions.create(model="no-such-model", messages=message)
    with pytest.raises(openai.BadRequestError) as streaming:
        await sdk().chat.completions.create(model=f"{name}/{MODEL}", messages=message, stream=True)

    assert missing.value.code == "model_not_found"
    assert "Streaming is not supported" in streaming.value.message
    assert fake_openai.request_count == 0


async def test_bad_json_is_an_openai_shaped_400(platform: Platform, client_for: Any) -> None:
    client = client_for("orchestrator", **platform.orchestrator_env())
    answer = await client.post(
        "/v1/chat/completions",
        content=b"{oops",
        headers={**platform.member, "content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error", answer.text


@pytest.mark.parametrize(
    "extra",
    [
        {"max_tokens": -5},
        {"max_tokens": 0},
        {"max_tokens": 10**9},
        {"max_tokens": 12.5},
        {"max_completion_tokens": True},
        {"max_tokens": 100, "max_completion_tokens": 5000},
        {"n": 3},
        {"n": 1.0},
    ],
)
async def test_output_bounds_the_quota_cannot_cover_are_400_and_reach_no_provider(
    platform: Platform, sdk: Sdk, fake_openai: FakeOpenAI, extra: dict[str, Any]
) -> None:
    """Issue 9 item 12: negative or huge max_tokens were 503s; a float max_tokens or n > 1
    reached the provider while the reservation covered 1,024 tokens and one answer."""
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    with pytest.raises(openai.BadRequestError):
        await sdk().chat.completions.create(
            model=f"{name}/{MODEL}", messages=[{"role": "user", "content": "hi"}], extra_body=extra
        )
    assert fake_openai.request_count == 0


async def test_a_request_every_candidate_refuses_as_invalid_is_a_400_not_a_503(
    platform: Platform, client_for: Any
) -> None:
    """Found by the hostile-input suite once the chat body was documented: a conversation
    with no user message (only a ``tool`` one) was refused by the built-in reviewer as
    invalid, and the answer was "no provider could answer", a 503 to retry for ever."""
    client = client_for("orchestrator", **platform.orchestrator_env())
    answer = await client.post(
        "/v1/chat/completions",
        json={"model": "local-analyzers", "messages": [{"role": "tool", "content": ""}]},
        headers=platform.member,
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error", answer.text
    assert error["message"] == "Every candidate model refused the request as invalid."


async def test_once_the_rules_are_published_calls_need_no_quotas_function_and_reach_the_ledger(
    platform: Platform, sdk: Sdk, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    rule = await platform.http.put(  # a rule write republishes the rules and prices at once
        f"{platform.backends.quotas}/quotas/user/{platform.user_id}",
        json={"tokens_per_day": 10**9},
        headers=platform.admin,
    )
    assert rule.status_code == 200, rule.text
    client = sdk(QUOTAS_URL="http://127.0.0.1:9")  # nothing listens: no HTTP path works

    answers = [
        await client.chat.completions.create(
            model=f"{name}/{MODEL}",
            messages=[{"role": "user", "content": f"call {i}"}],
            extra_headers={"X-Project-ID": platform.project_id},
        )
        for i in range(2)
    ]

    ledger = await platform.usage()  # drains the stream the commits were appended to
    (row,) = ledger["items"]
    assert row["requests"] == 2, ledger
    assert row["input_tokens"] == sum(a.usage.prompt_tokens for a in answers if a.usage)
    assert row["output_tokens"] == sum(a.usage.completion_tokens for a in answers if a.usage)
    expected = sum(
        Decimal(a.usage.prompt_tokens) * Decimal(PRICE_IN)
        + Decimal(a.usage.completion_tokens) * Decimal(PRICE_OUT)
        for a in answers
        if a.usage
    ) / Decimal(1_000_000)
    assert Decimal(row["cost_usd"]) == expected.quantize(Decimal("1e-10"))


async def test_a_rule_written_after_the_rules_were_cached_refuses_the_next_direct_call(
    platform: Platform, sdk: Sdk, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    client = sdk()
    for _ in range(2):  # published and cached by the orchestrator
        await client.chat.completions.create(
            model=f"{name}/{MODEL}", messages=[{"role": "user", "content": "fine"}]
        )
    await _limit_tokens_per_day(platform, 10)

    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(
            model=f"{name}/{MODEL}", messages=[{"role": "user", "content": "too much now"}]
        )

    assert caught.value.status_code == 429
    assert int(caught.value.response.headers["retry-after"]) >= 1
    body = caught.value.body
    assert isinstance(body, dict) and "tokens_per_day" in str(body), body
    assert fake_openai.request_count == 2


async def test_a_project_of_someone_else_is_refused_before_any_quota_or_provider(
    platform: Platform, sdk: Sdk, fake_openai: FakeOpenAI
) -> None:
    name = await platform.provider("openai", fake_openai.base_url, models=(MODEL,))
    rule = await platform.http.put(  # published: the direct path is the one that would run
        f"{platform.backends.quotas}/quotas/user/{platform.user_id}",
        json={"tokens_per_day": 10**9},
        headers=platform.admin,
    )
    assert rule.status_code == 200, rule.text
    stranger = platform.identity.headers(str(uuid.uuid4()), role="member")
    theirs = await platform.http.post(
        f"{platform.backends.projects}/projects", json={"name": "theirs"}, headers=stranger
    )
    assert theirs.status_code == 201, theirs.text

    with pytest.raises(openai.NotFoundError) as caught:
        await sdk(QUOTAS_URL="http://127.0.0.1:9").chat.completions.create(
            model=f"{name}/{MODEL}",
            messages=[{"role": "user", "content": "charge it to them"}],
            extra_headers={"X-Project-ID": theirs.json()["id"]},
        )

    assert caught.value.status_code == 404
    assert fake_openai.request_count == 0
    assert (await platform.usage())["totals"]["requests"] == 0
