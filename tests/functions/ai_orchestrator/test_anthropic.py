"""The Anthropic provider against the fake Messages API: tool use, errors, repair, chat."""

from __future__ import annotations

import aiohttp
import pytest

from functions.ai_orchestrator import prompts
from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.findings import review_schema
from functions.ai_orchestrator.providers import (
    AnthropicProvider,
    AuthError,
    BadResponse,
    InvalidRequest,
    Overloaded,
    ProviderError,
    RateLimited,
    ServerError,
    Timeout,
)
from functions.ai_orchestrator.providers.anthropic import to_messages_request
from tests.fakes.anthropic_api import FakeAnthropic

MODEL = "claude-sonnet-4-6"


def provider(
    fake: FakeAnthropic, *, timeout: float = 10.0, key: str | None = None
) -> AnthropicProvider:
    return AnthropicProvider(api_key=key or fake.api_key, base_url=fake.base_url, timeout=timeout)


async def test_review_returns_the_tool_calls_findings_and_usage(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    result = await provider(fake_anthropic).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert [(f.line, f.severity, f.category) for f in result.findings] == [
        (11, "high", "security"),
        (12, "critical", "secrets"),
    ]
    assert result.raw is not None
    assert (result.input_tokens, result.output_tokens) == (
        result.raw["usage"]["input_tokens"],
        result.raw["usage"]["output_tokens"],
    )
    assert (result.provider, result.model) == ("anthropic", MODEL)


async def test_review_forces_the_report_findings_tool_with_the_versioned_headers(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    await provider(fake_anthropic).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    call = fake_anthropic.calls("/v1/messages")[0]
    assert call.headers["x-api-key"] == fake_anthropic.api_key
    assert call.headers["anthropic-version"] == "2023-06-01"
    assert call.body["tool_choice"] == {"type": "tool", "name": "report_findings"}
    assert call.body["tools"][0]["input_schema"] == review_schema()
    assert call.body["system"] == prompts.DEFAULT.system_prompt
    assert call.body["max_tokens"] == prompts.DEFAULT.max_output_tokens


async def test_an_invalid_tool_input_is_repaired_through_a_tool_result(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_anthropic.respond_next({"findings": [{"line": 11}]})

    result = await provider(fake_anthropic).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    calls = fake_anthropic.calls("/v1/messages")
    assert len(calls) == 2
    assistant, reply = calls[1].body["messages"][1:]
    tool_use_id = assistant["content"][0]["id"]
    assert reply["content"][0]["type"] == "tool_result"
    assert reply["content"][0]["tool_use_id"] == tool_use_id
    assert reply["content"][0]["is_error"] is True
    assert "findings.0.severity: Field required" in reply["content"][0]["content"]
    assert [f.line for f in result.findings] == [11, 12]


async def test_a_text_answer_instead_of_the_tool_is_repaired_by_a_text_turn(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_anthropic.respond_next("Looks fine to me!")

    result = await provider(fake_anthropic).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    reply = fake_anthropic.calls("/v1/messages")[1].body["messages"][2]
    assert reply["content"][0]["type"] == "text"
    assert [f.rule for f in result.findings] == ["eval-call", "hardcoded-password"]


async def test_invalid_output_after_the_repair_raises_bad_response(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_anthropic.respond_next({"issues": []})
    fake_anthropic.respond_next({"issues": []})

    with pytest.raises(BadResponse) as caught:
        await provider(fake_anthropic).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert "findings: Field required" in caught.value.message
    assert len(fake_anthropic.calls("/v1/messages")) == 2


async def test_529_maps_to_overloaded(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_anthropic.fail_next(529)

    with pytest.raises(Overloaded) as caught:
        await provider(fake_anthropic).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert caught.value.retryable and caught.value.status == 529
    assert caught.value.message == "Overloaded"


async def test_429_maps_to_rate_limited_with_retry_after(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_anthropic.fail_next(429, retry_after=30)

    with pytest.raises(RateLimited) as caught:
        await provider(fake_anthropic).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert caught.value.retry_after == 30.0


async def test_429_without_retry_after_has_none(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_anthropic.fail_next(429)
    with pytest.raises(RateLimited) as caught:
        await provider(fake_anthropic).review(chunk, prompts.DEFAULT, model=MODEL, client=http)
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (500, ServerError, "The server had an error while processing your request."),
        (400, InvalidRequest, "Bad request."),
        (403, AuthError, "You do not have access to this resource."),
    ],
)
async def test_error_statuses_map_to_their_kinds_with_the_apis_message(
    fake_anthropic: FakeAnthropic,
    chunk: Chunk,
    http: aiohttp.ClientSession,
    status: int,
    kind: type[ProviderError],
    message: str,
) -> None:
    fake_anthropic.fail_next(status)

    with pytest.raises(kind) as caught:
        await provider(fake_anthropic).review(chunk, prompts.DEFAULT, model=MODEL, client=http)

    assert caught.value.message == message
    assert caught.value.provider == "anthropic"


async def test_a_wrong_key_is_an_auth_error(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(AuthError) as caught:
        await provider(fake_anthropic, key="sk-ant-nope").review(
            chunk, prompts.DEFAULT, model=MODEL, client=http
        )
    assert caught.value.message == "invalid x-api-key" and not caught.value.retryable


async def test_a_slow_answer_raises_timeout(
    fake_anthropic: FakeAnthropic, chunk: Chunk, http: aiohttp.ClientSession
) -> None:
    fake_anthropic.delay_next(1.0)
    with pytest.raises(Timeout):
        await provider(fake_anthropic, timeout=0.1).review(
            chunk, prompts.DEFAULT, model=MODEL, client=http
        )


async def test_chat_translates_an_openai_request_and_answers_in_openai_shape(
    fake_anthropic: FakeAnthropic, http: aiohttp.ClientSession
) -> None:
    request = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "hello"}]},
        ],
        "max_tokens": 50,
        "temperature": 0.5,
        "stop": "END",
    }

    answer = await provider(fake_anthropic).chat(request, client=http)

    sent = fake_anthropic.calls("/v1/messages")[0].body
    assert sent == {
        "model": MODEL,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": 50,
        "temperature": 0.5,
        "stop_sequences": ["END"],
    }
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"] == {
        "role": "assistant",
        "content": "You said: hello",
        "refusal": None,
    }
    assert answer["choices"][0]["finish_reason"] == "stop"
    usage = answer["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_consecutive_same_role_messages_are_merged_for_anthropic() -> None:
    body = to_messages_request(
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        }
    )
    assert body["messages"] == [{"role": "user", "content": "a\n\nb"}]
    assert body["max_tokens"] == 1024


def test_tool_messages_are_rejected_as_invalid_requests() -> None:
    with pytest.raises(InvalidRequest) as caught:
        to_messages_request({"model": MODEL, "messages": [{"role": "tool", "content": "x"}]})
    assert "role 'tool'" in caught.value.message
