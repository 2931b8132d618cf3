"""The OpenAI provider against the fake OpenAI API: findings, usage, errors and repair."""

from __future__ import annotations

import aiohttp
import pytest

from functions.ai_orchestrator import prompts
from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.findings import review_schema
from functions.ai_orchestrator.providers import (
    AuthError,
    BadResponse,
    InvalidRequest,
    OpenAIProvider,
    ProviderError,
    RateLimited,
    ServerError,
    Timeout,
)
from tests.fakes.ai_server import count_tokens
from tests.fakes.openai_api import FakeOpenAI

MODEL = "gpt-4o-mini"


def provider(fake: FakeOpenAI, *, timeout: float = 10.0, key: str | None = None) -> OpenAIProvider:
    return OpenAIProvider(api_key=key or fake.api_key, base_url=fake.base_url, timeout=timeout)


async def test_review_returns_the_models_findings_at_their_exact_lines(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    result = await provider(fake_openai).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert [(f.line, f.rule, f.path) for f in result.findings] == [
        (11, "eval-call", "app/loader.py"),
        (12, "hardcoded-password", "app/loader.py"),
    ]
    answer = fake_openai.calls("/v1/chat/completions")[0]
    assert result.input_tokens > 0 and result.output_tokens > 0
    assert result.raw is not None and result.input_tokens == result.raw["usage"]["prompt_tokens"]
    assert (result.provider, result.model) == ("openai", MODEL)
    assert answer.headers["authorization"] == f"Bearer {fake_openai.api_key}"


async def test_review_asks_for_strict_json_schema_output(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    config = prompts.ReviewConfig(temperature=0.2, max_output_tokens=900)
    await provider(fake_openai).review(chunk, config, model=MODEL, client=http)

    body = fake_openai.calls("/v1/chat/completions")[0].body
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "review", "strict": True, "schema": review_schema()},
    }
    assert (body["temperature"], body["max_completion_tokens"]) == (0.2, 900)
    assert body["messages"][0]["role"] == "system"
    assert "11|     result = eval(data)" in body["messages"][1]["content"]


async def test_findings_outside_the_chunk_are_dropped(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    outside = {
        "path": "x",
        "line": 3,
        "end_line": 3,
        "severity": "high",
        "category": "bug",
        "rule": "r",
        "message": "m",
        "suggestion": None,
    }
    inside = {**outside, "line": 13, "end_line": 99}
    fake_openai.respond_next({"findings": [outside, inside]})

    result = await provider(fake_openai).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert [(f.line, f.end_line) for f in result.findings] == [(13, 14)], "end cut to the chunk"


async def test_severity_threshold_filters_findings(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    config = prompts.ReviewConfig(severity_threshold="critical")
    result = await provider(fake_openai).review(chunk, config, model=MODEL, client=http)
    assert [f.rule for f in result.findings] == ["hardcoded-password"]


async def test_invalid_json_is_repaired_by_one_retry_carrying_the_errors(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_openai.respond_next('{"findings": [{"line": "eleven"}')

    result = await provider(fake_openai).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    calls = fake_openai.calls("/v1/chat/completions")
    assert len(calls) == 2, "one call, one repair"
    repair = calls[1].body["messages"]
    assert repair[2] == {"role": "assistant", "content": '{"findings": [{"line": "eleven"}'}
    assert "did not match the required schema" in repair[3]["content"]
    assert [f.line for f in result.findings] == [11, 12]
    both = count_tokens(calls[0].body["messages"]) + count_tokens(calls[1].body["messages"])
    assert result.input_tokens == both, "usage adds up both calls"


async def test_schema_invalid_output_twice_raises_bad_response(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    wrong = {"findings": [{"path": "a", "line": 0}]}
    fake_openai.respond_next(wrong)
    fake_openai.respond_next(wrong)

    with pytest.raises(BadResponse) as caught:
        await provider(fake_openai).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert "still invalid after a repair attempt" in str(caught.value)
    assert "findings.0.line" in caught.value.message
    assert caught.value.retryable
    assert len(fake_openai.calls("/v1/chat/completions")) == 2


async def test_429_maps_to_rate_limited_with_retry_after_seconds(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_openai.fail_next(429, retry_after=12)

    with pytest.raises(RateLimited) as caught:
        await provider(fake_openai).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert caught.value.retry_after == 12.0
    assert caught.value.retryable and caught.value.status == 429
    assert caught.value.message == "Rate limit reached; try again later."


async def test_retry_after_ms_is_preferred_when_present(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_openai.fail_next(429, retry_after=9, headers={"retry-after-ms": "1500"})

    with pytest.raises(RateLimited) as caught:
        await provider(fake_openai).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert caught.value.retry_after == 1.5


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (500, ServerError, True),
        (503, ServerError, True),
        (400, InvalidRequest, False),
        (403, AuthError, False),
    ],
)
async def test_error_statuses_map_to_their_kinds(
    fake_openai: FakeOpenAI,
    chunk: Chunk,
    http: aiohttp.ClientSession,
    status: int,
    kind: type[ProviderError],
    retryable: bool,
) -> None:
    fake_openai.fail_next(status, body={"error": {"message": f"scripted {status}", "type": "x"}})

    with pytest.raises(kind) as caught:
        await provider(fake_openai).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert caught.value.retryable is retryable
    assert caught.value.message == f"scripted {status}"


async def test_a_wrong_key_is_an_auth_error_without_the_key_in_it(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(AuthError) as caught:
        await provider(fake_openai, key="sk-wrong-secret").review(
            chunk, prompts.DEFAULT, model=MODEL, client=http
        )

    assert caught.value.status == 401 and not caught.value.retryable
    assert "Incorrect API key provided" in caught.value.message
    assert "sk-wrong-secret" not in str(caught.value)


async def test_a_slow_answer_raises_timeout(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_openai.delay_next(1.0)

    with pytest.raises(Timeout) as caught:
        await provider(fake_openai, timeout=0.1).review(
            chunk, prompts.DEFAULT, model=MODEL, client=http
        )

    assert caught.value.retryable and "within 0.1s" in caught.value.message


async def test_an_unreachable_api_is_a_retryable_server_error(
    chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    unreachable = OpenAIProvider(api_key="k", base_url="http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(ServerError) as caught:
        await unreachable.review(chunk, prompts.DEFAULT, model=MODEL, client=http)
    assert caught.value.retryable and "could not reach" in caught.value.message


async def test_a_refusal_is_a_bad_response(
    fake_openai: FakeOpenAI, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_openai.refuse_next("I can't help with that.")

    with pytest.raises(BadResponse) as caught:
        await provider(fake_openai).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert caught.value.message == "the model refused: I can't help with that."
    assert len(fake_openai.calls("/v1/chat/completions")) == 1, "a refusal is not repaired"


async def test_chat_passes_the_request_through_and_returns_the_completion(
    fake_openai: FakeOpenAI, http: aiohttp.ClientSession
) -> None:
    request = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}

    answer = await provider(fake_openai).chat(request, client=http)

    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"] == "You said: hello"
    assert fake_openai.calls("/v1/chat/completions")[0].body == request


async def test_chat_refuses_streaming(fake_openai: FakeOpenAI, http: aiohttp.ClientSession) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await provider(fake_openai).chat(
            {"model": MODEL, "stream": True, "messages": []}, client=http
        )
    assert "streaming" in caught.value.message
    assert fake_openai.request_count == 0


def test_reasoning_effort_reaches_the_request_only_when_configured() -> None:
    from functions.ai_orchestrator import prompts
    from functions.ai_orchestrator.providers.openai import review_body

    plain = review_body("o4-mini", [], prompts.ReviewConfig())
    effortful = review_body("o4-mini", [], prompts.ReviewConfig(reasoning_effort="high"))
    assert "reasoning_effort" not in plain
    assert effortful["reasoning_effort"] == "high"
