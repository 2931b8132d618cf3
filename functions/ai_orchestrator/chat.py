"""chat is the OpenAI-compatible gateway: platform auth, routing, quotas and usage.

``model`` is ``"<provider>/<model>"`` (one catalog provider), a bare model name (every
enabled provider offering it, by priority: the others are fallbacks) or ``"auto"`` (the
candidates of the default alias' configuration). Errors use OpenAI's shape
``{"error": {message, type, param, code}}`` with the matching status, so OpenAI's SDKs
raise their typed errors. Streaming is not offered (``stream: true`` is a 400).
The call is charged to the caller's user and to the project named by ``X-Project-ID``
(optional; without it the nil UUID, so only user and global quota rules apply).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from functions.ai_orchestrator import catalog, configs, routing
from functions.ai_orchestrator.prompts import MESSAGE_OVERHEAD_TOKENS
from functions.ai_orchestrator.providers import Provider
from functions.ai_orchestrator.routing import Caller, Target
from functions.ai_orchestrator.settings import settings
from shared.errors import BadRequest, NotFound
from shared.money import plain
from shared.token_count import estimate_tokens

AUTO = "auto"
NO_PROJECT = uuid.UUID(int=0)
DEFAULT_TIMEOUT = 60.0

REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "OpenAI's chat completion request; fields not listed pass to the provider.",
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "role": {"enum": ["system", "user", "assistant", "developer", "tool"]},
                    "content": {"type": "string"},
                },
                "required": ["role", "content"],
            },
        },
        "max_tokens": {"type": "integer", "minimum": 1},
        "max_completion_tokens": {"type": "integer", "minimum": 1},
        "n": {"const": 1},
        "stream": {"const": False},
        "temperature": {"type": "number"},
    },
    "required": ["model", "messages"],
}
"""The body ``parse`` accepts, for the OpenAPI document (``max_tokens`` is also bounded by
``CHAT_MAX_OUTPUT_TOKENS``)."""


def parse(raw: bytes) -> dict[str, Any]:
    """The request body as a dict with a model and messages.

    Raises:
        BadRequest: not JSON, not an object, no model or messages, or streaming asked for.
    """
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise BadRequest("'model' is required.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list.")
    if body.get("stream"):
        raise BadRequest("Streaming is not supported; send stream: false.")
    _check_output_bounds(body)
    return body


def _check_output_bounds(body: dict[str, Any]) -> None:
    """What the quota reserves must bound what the provider may write: one answer
    (``n`` = 1) of at most ``max_tokens``, an integer from 1 to ``CHAT_MAX_OUTPUT_TOKENS``.
    A float, a negative or a huge value, or ``n`` > 1, would reach the provider unreserved.

    Raises:
        BadRequest: a bound is missing its type or range.
    """
    limit = settings().chat_max_output_tokens
    given = {k: body[k] for k in ("max_tokens", "max_completion_tokens") if body.get(k) is not None}
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise BadRequest(f"'{name}' must be an integer from 1 to {limit}.")
    if len(set(given.values())) > 1:
        raise BadRequest("'max_tokens' and 'max_completion_tokens' differ; send one.")
    n = body.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n != 1):
        raise BadRequest("Only one choice per request is offered: 'n' must be 1.")


def project_of(request: Request) -> uuid.UUID:
    given = request.headers.get("x-project-id")
    if not given:
        return NO_PROJECT
    try:
        return uuid.UUID(given)
    except ValueError:
        raise BadRequest(f"X-Project-ID '{given[:64]}' is not a UUID.") from None


async def targets(
    model: str, headers: dict[str, str]
) -> tuple[list[Target], list[str], uuid.UUID | None, float]:
    """Candidates for ``model``, reasons others were left out, the config version, timeout.

    Raises:
        NotFound: no enabled provider offers the model.
    """
    if model == AUTO:
        resolved = await configs.resolve(headers, version_id=None, alias=None)
        found, missing = await routing.targets(resolved.routing.candidates)
        return found, missing, resolved.version_id, resolved.routing.timeout_seconds
    entries = [entry for entry in await catalog.with_builtin() if entry.enabled]
    provider, _, name = model.partition("/")
    named = [e for e in entries if e.name == provider and (e.builtin or e.model(name))]
    if named:
        found, missing = await routing.targets([configs.Candidate(provider=provider, model=name)])
        return found, missing, None, DEFAULT_TIMEOUT
    offering = [Target(e, m) for e in entries for m in e.models if m.name == model]
    if not offering:
        raise NotFound(f"The model '{model}' does not exist or you do not have access to it.")
    return offering, [], None, DEFAULT_TIMEOUT


async def complete(caller: Caller, body: dict[str, Any], model: str) -> Response:
    """Route the request; the answer is the provider's ``chat.completion``."""
    found, missing, version_id, timeout = await targets(model, caller.headers)
    caller.config_version_id = version_id
    output = body.get("max_completion_tokens") or body.get("max_tokens")  # checked by parse
    reserve_output = int(output) if isinstance(output, int) else settings().chat_default_max_tokens
    if not isinstance(output, int):  # the provider may write no more than the quota holds
        body = {**body, "max_completion_tokens": reserve_output}

    def estimate(_: Target) -> int:
        return estimate_input(body["messages"]) + reserve_output

    async def call(provider: Provider, target: Target) -> dict[str, Any]:
        return await provider.chat({**body, "model": target.model.name})

    answer = await routing.route(
        caller,
        found,
        estimate=estimate,
        call=call,
        usage=_usage,
        seconds=timeout,
        skipped=missing,
    )
    headers = {
        "X-ACR-Provider": answer.target.provider,
        "X-ACR-Model": answer.target.model.name,
        "X-ACR-Cost-USD": plain(answer.cost_usd),
    }
    return JSONResponse(answer.value, headers=headers)


def estimate_input(messages: list[Any]) -> int:
    """Estimated prompt tokens: every message's text plus its framing."""
    total = 0
    for message in messages:
        content = message.get("content") if isinstance(message, Mapping) else message
        text = content if isinstance(content, str) else json.dumps(content)
        total += estimate_tokens(text) + MESSAGE_OVERHEAD_TOKENS
    return total


def _usage(answer: dict[str, Any]) -> tuple[int, int]:
    usage = answer.get("usage") or {}
    return int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
