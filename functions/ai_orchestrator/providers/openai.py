"""openai reviews code through OpenAI Chat Completions with strict JSON-schema output."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from functions.ai_orchestrator import prompts
from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.findings import ReviewOutput, review_schema
from functions.ai_orchestrator.providers import base
from functions.ai_orchestrator.providers.base import BadResponse, InvalidRequest, ReviewResult

NAME = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider:
    """Calls ``POST {base_url}/chat/completions`` with a Bearer key.

    Args:
        api_key: The OpenAI API key (never logged or put in errors).
        base_url: The API root including ``/v1``, as the official SDK takes it.
        timeout: Seconds to wait for one answer.
    """

    name = NAME

    def __init__(
        self, *, api_key: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 60.0
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    async def review(
        self,
        chunk: Chunk,
        config: prompts.ReviewConfig,
        *,
        model: str,
        client: httpx.AsyncClient | None = None,
    ) -> ReviewResult:
        system, user = prompts.render(config, chunk)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        answer = await self._complete(review_body(model, messages, config), client)
        usage = _usage(answer)
        content = _content(answer)
        try:
            output = base.parse_output(content)
        except ValidationError as error:
            messages += repair_messages(content, error)
            answer = await self._complete(review_body(model, messages, config), client)
            usage = _add(usage, _usage(answer))
            output = _parse_repaired(_content(answer))
        return ReviewResult(
            findings=base.finish(output.findings, chunk, config),
            input_tokens=usage[0],
            output_tokens=usage[1],
            model=str(answer.get("model", model)),
            provider=NAME,
            raw=answer,
        )

    async def chat(
        self, request: Mapping[str, Any], *, client: httpx.AsyncClient | None = None
    ) -> dict[str, Any]:
        """Pass a Chat Completions request through unchanged (streaming is not offered)."""
        if request.get("stream"):
            raise InvalidRequest("streaming is not supported", provider=NAME, status=400)
        return await self._complete(request, client)

    async def _complete(
        self, body: Mapping[str, Any], client: httpx.AsyncClient | None
    ) -> dict[str, Any]:
        return await base.post(
            f"{self.base_url}/chat/completions",
            body,
            provider=NAME,
            headers={"Authorization": f"Bearer {self._api_key}"},
            seconds=self.timeout,
            client=client,
        )


def review_body(
    model: str, messages: list[dict[str, Any]], config: prompts.ReviewConfig
) -> dict[str, Any]:
    """A Chat Completions body whose answer must fill the review schema (strict mode)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": config.temperature,
        "max_completion_tokens": config.max_output_tokens,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "review", "strict": True, "schema": review_schema()},
        },
    }
    if config.reasoning_effort is not None:
        body["reasoning_effort"] = config.reasoning_effort
    return body


def repair_messages(content: str, error: ValidationError) -> list[dict[str, Any]]:
    """The turn asking the model to fix its invalid answer."""
    return [
        {"role": "assistant", "content": content},
        {"role": "user", "content": base.REPAIR_INSTRUCTION.format(errors=base.describe(error))},
    ]


def _parse_repaired(content: str) -> ReviewOutput:
    try:
        return base.parse_output(content)
    except ValidationError as error:
        raise BadResponse(
            f"answer still invalid after a repair attempt:\n{base.describe(error)}",
            provider=NAME,
        ) from error


def _content(answer: Mapping[str, Any]) -> str:
    """The first choice's text; a refusal or a missing message is a bad response."""
    try:
        message = answer["choices"][0]["message"]
    except (KeyError, IndexError, TypeError) as error:
        raise BadResponse("answer has no choices[0].message", provider=NAME) from error
    if message.get("refusal"):
        raise BadResponse(f"the model refused: {message['refusal']}", provider=NAME)
    content = message.get("content")
    if not isinstance(content, str):
        return json.dumps(content)
    return content


def _usage(answer: Mapping[str, Any]) -> tuple[int, int]:
    usage = answer.get("usage") or {}
    return int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))


def _add(first: tuple[int, int], second: tuple[int, int]) -> tuple[int, int]:
    return first[0] + second[0], first[1] + second[1]
