"""anthropic reviews code through the Anthropic Messages API, forcing a findings tool call."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from functions.ai_orchestrator import prompts
from functions.ai_orchestrator.findings import review_schema
from functions.ai_orchestrator.providers import base
from functions.ai_orchestrator.providers.base import InvalidRequest

if TYPE_CHECKING:
    import aiohttp

NAME = "anthropic"
DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
TOOL = "report_findings"
DEFAULT_CHAT_MAX_TOKENS = 1024  # a request with no maximum (the gateway always sets one)
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class AnthropicProvider(base.RemoteProvider):
    """Calls ``POST {base_url}/v1/messages`` with ``x-api-key`` and ``anthropic-version``;
    ``base_url`` has no ``/v1``. The answer is the input of a forced ``report_findings``
    tool call."""

    name = NAME
    default_base_url = DEFAULT_BASE_URL

    async def chat(
        self, request: Mapping[str, Any], *, client: aiohttp.ClientSession | None = None
    ) -> dict[str, Any]:
        """Translate an OpenAI chat request to Messages and the answer back to OpenAI shape."""
        answer = await self.send(to_messages_request(request), client)
        return to_chat_completion(answer)

    def opening(self, system: str, user: str) -> list[dict[str, Any]]:
        return [{"role": "user", "content": user}]  # the system prompt has its own field

    def review_body(
        self, model: str, system: str, messages: list[dict[str, Any]], config: prompts.ReviewConfig
    ) -> dict[str, Any]:
        return review_body(model, system, messages, config)

    async def send(
        self, body: Mapping[str, Any], client: aiohttp.ClientSession | None
    ) -> dict[str, Any]:
        return await base.post(
            f"{self.base_url}/v1/messages",
            body,
            provider=NAME,
            headers={"x-api-key": self._api_key, "anthropic-version": API_VERSION},
            seconds=self.timeout,
            client=client,
        )

    def output(self, answer: Mapping[str, Any]) -> Any:
        return _tool_input(answer)

    def usage(self, answer: Mapping[str, Any]) -> tuple[int, int]:
        return _usage(answer)

    def repair(self, answer: Mapping[str, Any], error: ValidationError) -> list[dict[str, Any]]:
        return repair_messages(answer, error)


def review_body(
    model: str, system: str, messages: list[dict[str, Any]], config: prompts.ReviewConfig
) -> dict[str, Any]:
    """A Messages body that must answer by calling the ``report_findings`` tool."""
    return {
        "model": model,
        "max_tokens": config.max_output_tokens,
        "temperature": config.temperature,
        "system": system,
        "messages": messages,
        "tools": [
            {
                "name": TOOL,
                "description": "Report the findings of the code review (empty if none).",
                "input_schema": review_schema(),
            }
        ],
        "tool_choice": {"type": "tool", "name": TOOL},
    }


def repair_messages(answer: Mapping[str, Any], error: ValidationError) -> list[dict[str, Any]]:
    """Echo the invalid answer and reply with the errors (as a failed tool result if any)."""
    content = answer.get("content") or []
    instruction = base.REPAIR_INSTRUCTION.format(errors=base.describe(error))
    tool_use = _tool_use(answer)
    if tool_use is None:
        reply: list[dict[str, Any]] = [{"type": "text", "text": instruction}]
    else:
        # A tool_use must be answered by its tool_result in the very next user turn.
        reply = [
            {
                "type": "tool_result",
                "tool_use_id": tool_use["id"],
                "is_error": True,
                "content": instruction,
            }
        ]
    return [{"role": "assistant", "content": content}, {"role": "user", "content": reply}]


def to_messages_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI chat request as a Messages request (system turns become ``system``)."""
    system: list[str] = []
    messages: list[dict[str, Any]] = []
    for message in request.get("messages") or []:
        role, text = message.get("role"), _text(message.get("content"))
        if role in ("system", "developer"):
            system.append(text)
        elif role in ("user", "assistant"):
            if messages and messages[-1]["role"] == role:
                messages[-1]["content"] += "\n\n" + text
            else:
                messages.append({"role": role, "content": text})
        else:
            raise InvalidRequest(f"message role '{role}' is not supported", provider=NAME)
    if not request.get("model") or not messages:
        raise InvalidRequest("model and at least one user message are required", provider=NAME)
    body: dict[str, Any] = {
        "model": request["model"],
        "messages": messages,
        "max_tokens": request.get("max_completion_tokens")
        or request.get("max_tokens")
        or DEFAULT_CHAT_MAX_TOKENS,
    }
    if system:
        body["system"] = "\n\n".join(system)
    for key in ("temperature", "top_p"):
        if request.get(key) is not None:
            body[key] = request[key]
    stop = request.get("stop")
    if stop:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    return body


def to_chat_completion(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A Messages answer as an OpenAI ``chat.completion`` object."""
    text = "".join(
        block.get("text", "") for block in answer.get("content") or [] if block["type"] == "text"
    )
    input_tokens, output_tokens = _usage(answer)
    return {
        "id": f"chatcmpl-{answer.get('id', '')}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": answer.get("model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": STOP_REASONS.get(str(answer.get("stop_reason")), "stop"),
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        },
    }


def _text(content: Any) -> str:
    """OpenAI message content (a string or a list of parts) as plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "\n".join(part for part in parts if part)
    raise InvalidRequest("message content must be a string or a list of parts", provider=NAME)


def _tool_use(answer: Mapping[str, Any]) -> dict[str, Any] | None:
    for block in answer.get("content") or []:
        if block.get("type") == "tool_use" and block.get("name") == TOOL:
            return dict(block)
    return None


def _tool_input(answer: Mapping[str, Any]) -> Any:
    """The ``report_findings`` input; a text-only answer yields its text (which won't parse)."""
    tool_use = _tool_use(answer)
    if tool_use is not None:
        return tool_use.get("input")
    text = "".join(block.get("text", "") for block in answer.get("content") or [])
    return text or None


def _usage(answer: Mapping[str, Any]) -> tuple[int, int]:
    usage = answer.get("usage") or {}
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
