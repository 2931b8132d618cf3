"""The AI API fakes are driven by the official SDKs, proving they speak the real protocol."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import anthropic
import openai
import pytest
from anthropic.types import ToolUseBlock

from functions.ai_orchestrator.findings import ReviewOutput, review_schema
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI

CODE = "Path: app.py\n\n 1| import os\n 2| result = eval(data)\n 3| password = 'x'\n"
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "review", "strict": True, "schema": review_schema()},
}
TOOL = {"name": "report_findings", "description": "Report.", "input_schema": review_schema()}


@pytest.fixture
def sdk_clients() -> Iterator[list[openai.OpenAI | anthropic.Anthropic]]:
    """Closes every SDK client a test made (they hold connection pools)."""
    made: list[openai.OpenAI | anthropic.Anthropic] = []
    yield made
    for client in made:
        client.close()


@pytest.fixture
def openai_client(
    fake_openai: FakeOpenAI, sdk_clients: list[openai.OpenAI | anthropic.Anthropic]
) -> Callable[..., openai.OpenAI]:
    def make(*, retries: int = 0, api_key: str = fake_openai.api_key) -> openai.OpenAI:
        client = openai.OpenAI(base_url=fake_openai.base_url, api_key=api_key, max_retries=retries)
        sdk_clients.append(client)
        return client

    return make


@pytest.fixture
def anthropic_client(
    fake_anthropic: FakeAnthropic, sdk_clients: list[openai.OpenAI | anthropic.Anthropic]
) -> Callable[..., anthropic.Anthropic]:
    def make(*, api_key: str = fake_anthropic.api_key) -> anthropic.Anthropic:
        client = anthropic.Anthropic(
            base_url=fake_anthropic.base_url, api_key=api_key, max_retries=0
        )
        sdk_clients.append(client)
        return client

    return make


def test_openai_sdk_parses_a_json_schema_completion(
    fake_openai: FakeOpenAI, openai_client: Callable[..., openai.OpenAI]
) -> None:
    completion = openai_client().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": CODE}],
        response_format=SCHEMA_FORMAT,  # type: ignore[arg-type]
    )

    output = ReviewOutput.model_validate_json(completion.choices[0].message.content or "")
    assert [(f.line, f.rule) for f in output.findings] == [
        (2, "eval-call"),
        (3, "hardcoded-password"),
    ]
    assert completion.usage is not None and completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert completion.choices[0].finish_reason == "stop"


def test_openai_sdk_structured_parse_builds_a_schema_the_fake_accepts(
    fake_openai: FakeOpenAI, openai_client: Callable[..., openai.OpenAI]
) -> None:
    parsed = openai_client().chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": CODE}],
        response_format=ReviewOutput,
    )

    output = parsed.choices[0].message.parsed
    assert output is not None and [f.line for f in output.findings] == [2, 3]


def test_openai_fake_rejects_a_non_strict_schema_as_openai_does(
    fake_openai: FakeOpenAI, openai_client: Callable[..., openai.OpenAI]
) -> None:
    loose = {"type": "object", "properties": {"findings": {"type": "array"}}}
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client().chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": CODE}],
            response_format={  # type: ignore[arg-type]
                "type": "json_schema",
                "json_schema": {"name": "review", "strict": True, "schema": loose},
            },
        )
    assert "'additionalProperties' is required" in caught.value.message


def test_openai_sdk_raises_rate_limit_error_with_the_retry_after(
    fake_openai: FakeOpenAI, openai_client: Callable[..., openai.OpenAI]
) -> None:
    fake_openai.fail_next(429, retry_after=7)

    with pytest.raises(openai.RateLimitError) as caught:
        openai_client().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )

    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.code == "rate_limit_exceeded"


def test_openai_sdk_retries_after_the_fakes_retry_after_and_succeeds(
    fake_openai: FakeOpenAI, openai_client: Callable[..., openai.OpenAI]
) -> None:
    fake_openai.fail_next(429, retry_after=0.01)

    completion = openai_client(retries=1).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )

    assert completion.choices[0].message.content == "You said: hi"
    assert len(fake_openai.calls("/v1/chat/completions")) == 2, "one 429, then the retry"


def test_openai_sdk_sees_a_wrong_key_as_authentication_error(
    fake_openai: FakeOpenAI, openai_client: Callable[..., openai.OpenAI]
) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        openai_client(api_key="sk-wrong").models.list()
    assert caught.value.code == "invalid_api_key"


def test_openai_sdk_lists_the_fakes_models(
    fake_openai: FakeOpenAI, openai_client: Callable[..., openai.OpenAI]
) -> None:
    models = [model.id for model in openai_client().models.list()]
    assert models == ["gpt-4o-mini", "gpt-4.1"]


def test_anthropic_sdk_gets_a_tool_use_block_for_a_forced_tool(
    fake_anthropic: FakeAnthropic, anthropic_client: Callable[..., anthropic.Anthropic]
) -> None:
    message = anthropic_client().messages.create(
        model="claude-sonnet-4-6",
        max_tokens=1024,
        messages=[{"role": "user", "content": CODE}],
        tools=[TOOL],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "report_findings"},
    )

    block = message.content[0]
    assert isinstance(block, ToolUseBlock) and block.name == "report_findings"
    output = ReviewOutput.model_validate(block.input)
    assert [(f.line, f.severity) for f in output.findings] == [(2, "high"), (3, "critical")]
    assert message.stop_reason == "tool_use"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_anthropic_sdk_accepts_a_tool_result_answering_the_tool_use(
    fake_anthropic: FakeAnthropic, anthropic_client: Callable[..., anthropic.Anthropic]
) -> None:
    client = anthropic_client()
    first = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=256,
        messages=[{"role": "user", "content": CODE}],
        tools=[TOOL],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "report_findings"},
    )
    tool_use = first.content[0]
    assert isinstance(tool_use, ToolUseBlock)

    second = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=256,
        messages=[
            {"role": "user", "content": CODE},
            {"role": "assistant", "content": first.content},  # type: ignore[typeddict-item]
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": tool_use.id, "content": "thanks"}
                ],
            },
        ],
    )
    assert second.content[0].type == "text"


def test_anthropic_fake_rejects_a_tool_use_left_unanswered(
    fake_anthropic: FakeAnthropic, anthropic_client: Callable[..., anthropic.Anthropic]
) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client().messages.create(
            model="claude-sonnet-4-6",
            max_tokens=256,
            messages=[
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}],
                },
                {"role": "user", "content": "and?"},
            ],
        )
    assert "without `tool_result` blocks" in caught.value.message


def test_anthropic_sdk_raises_overloaded_error_on_529(
    fake_anthropic: FakeAnthropic, anthropic_client: Callable[..., anthropic.Anthropic]
) -> None:
    fake_anthropic.fail_next(529)

    with pytest.raises(anthropic.OverloadedError) as caught:
        anthropic_client().messages.create(
            model="claude-sonnet-4-6", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )

    assert isinstance(caught.value, anthropic.InternalServerError)
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": caught.value.body["request_id"],  # type: ignore[index]
    }


def test_anthropic_sdk_raises_rate_limit_error_with_the_retry_after(
    fake_anthropic: FakeAnthropic, anthropic_client: Callable[..., anthropic.Anthropic]
) -> None:
    fake_anthropic.fail_next(429, retry_after=3)

    with pytest.raises(anthropic.RateLimitError) as caught:
        anthropic_client().messages.create(
            model="claude-sonnet-4-6", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )

    assert caught.value.response.headers["retry-after"] == "3"


def test_anthropic_sdk_sees_a_wrong_key_as_authentication_error(
    fake_anthropic: FakeAnthropic, anthropic_client: Callable[..., anthropic.Anthropic]
) -> None:
    with pytest.raises(anthropic.AuthenticationError) as caught:
        anthropic_client(api_key="bad").models.list()
    assert caught.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]


def test_anthropic_sdk_lists_the_fakes_models(
    fake_anthropic: FakeAnthropic, anthropic_client: Callable[..., anthropic.Anthropic]
) -> None:
    models = [model.id for model in anthropic_client().models.list()]
    assert models == ["claude-sonnet-4-6", "claude-haiku-4-5"]
    assert fake_anthropic.calls("/v1/models")[0].headers["anthropic-version"]
