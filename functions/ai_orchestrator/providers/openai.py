"""openai reviews code through OpenAI Chat Completions with strict JSON-schema output."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from functions.ai_orchestrator import prompts
from functions.ai_orchestrator.findings import review_schema
from functions.ai_orchestrator.providers import base
from functions.ai_orchestrator.providers.base import BadResponse, InvalidRequest

if TYPE_CHECKING:
    import aiohttp

NAME = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider(base.RemoteProvider):
    """Calls ``POST {base_url}/chat/completions`` with a Bearer key; ``base_url`` includes
    ``/v1``. The answer is the first choice's JSON text (strict JSON-schema output)."""

    name = NAME
    default_base_url = DEFAULT_BASE_URL

    async def chat(
        self, request: Mapping[str, Any], *, client: aiohttp.ClientSession | None = None
    ) -> dict[str, Any]:
        """Pass a Chat Completions request through unchanged (streaming is not offered)."""
        if request.get("stream"):
            raise InvalidRequest("streaming is not supported", provider=NAME, status=400)
        return await self.send(request, client)

    def opening(self, system: str, user: str) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def review_body(
        self, model: str, system: str, messages: list[dict[str, Any]], config: prompts.ReviewConfig
    ) -> dict[str, Any]:
        return review_body(model, messages, config)  # the system prompt is the first message

    async def send(
        self, body: Mapping[str, Any], client: aiohttp.ClientSession | None
    ) -> dict[str, Any]:
        return await base.post(
            f"{self.base_url}/chat/completions",
            body,
            provider=NAME,
            headers={"Authorization": f"Bearer {self._api_key}"},
            seconds=self.timeout,
            client=client,
        )

    def output(self, answer: Mapping[str, Any]) -> str:
        return _content(answer)

    def usage(self, answer: Mapping[str, Any]) -> tuple[int, int]:
        usage = answer.get("usage") or {}
        return int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))

    def repair(self, answer: Mapping[str, Any], error: ValidationError) -> list[dict[str, Any]]:
        return repair_messages(_content(answer), error)


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
