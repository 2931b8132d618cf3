"""A fake OpenAI API: ``GET /v1/models`` and ``POST /v1/chat/completions`` in the real shapes."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.ai_server import FakeAIServer, Step, count_tokens, rule_findings

MODELS = ("gpt-4o-mini", "gpt-4.1")
_ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


class FakeOpenAI(FakeAIServer):
    """Answers with a Bearer ``api_key``; JSON-schema requests get findings as JSON content.

    Without a scripted answer the content is ``{"findings": rule_findings(user message)}``
    when ``response_format`` asks for a JSON schema (strict schemas are checked the way
    OpenAI checks them), else a short echo of the last user message.
    """

    def __init__(self, api_key: str = "sk-test-fake-openai") -> None:
        super().__init__()
        self.api_key = api_key

    @property
    def base_url(self) -> str:
        """The root the official SDK takes (``OpenAI(base_url=...)``)."""
        return f"{self.origin}/v1"

    def routes(self) -> list[Any]:
        return [
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
        ]

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind, code = _ERROR_KINDS.get(status, ("server_error", None))
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}

    async def _models(self, request: Request) -> Response:
        _, step = await self.begin(request)
        refused = self._refuse(request, step)
        if refused is not None:
            return refused
        data = [
            {"id": model, "object": "model", "created": 1_715_367_049, "owned_by": "system"}
            for model in MODELS
        ]
        return JSONResponse({"object": "list", "data": data})

    async def _chat(self, request: Request) -> Response:
        body, step = await self.begin(request)
        refused = self._refuse(request, step)
        if refused is not None:
            return refused
        problem = _invalid(body)
        if problem is not None:
            return JSONResponse(self.error_body(400, problem), status_code=400)
        completion = _completion(body, self._content(body, step))
        if step.refusal is not None:
            completion["choices"][0]["message"].update(content=None, refusal=step.refusal)
        return JSONResponse(completion, headers={"x-request-id": _request_id()})

    def refuse_next(self, refusal: str) -> None:
        """Answer the next request with a structured-output refusal instead of content."""
        with self._lock:
            self._script.append(Step(refusal=refusal))

    def _refuse(self, request: Request, step: Step) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            message = (
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
            return JSONResponse(self.error_body(401, message), status_code=401)
        if step.status is not None:
            return self.failure(step)
        return None

    def _content(self, body: dict[str, Any], step: Step) -> str:
        if step.content is not None:
            raw = step.content
            return raw if isinstance(raw, str) else json.dumps(raw)
        user = _last_user_text(body["messages"])
        if (body.get("response_format") or {}).get("type") == "json_schema":
            return json.dumps({"findings": rule_findings(_first_user_text(body["messages"]))})
        return f"You said: {user[:200]}"


def _invalid(body: Any) -> str | None:
    """Why OpenAI would answer 400 to this body, or None."""
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    if not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "[] is too short - 'messages'"
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema_spec = response_format.get("json_schema") or {}
        if schema_spec.get("strict"):
            problem = strict_schema_problem(schema_spec.get("schema") or {}, ())
            if problem is not None:
                name = schema_spec.get("name")
                return f"Invalid schema for response_format '{name}': {problem}"
    return None


def strict_schema_problem(node: Any, context: tuple[str, ...]) -> str | None:
    """The first rule of strict structured outputs that ``node`` breaks, as OpenAI words it."""
    if isinstance(node, list):
        for item in node:
            problem = strict_schema_problem(item, context)
            if problem:
                return problem
        return None
    if not isinstance(node, dict):
        return None
    if node.get("type") == "object":
        if node.get("additionalProperties") is not False:
            return (
                f"In context={context}, 'additionalProperties' is required to be supplied "
                "and to be false."
            )
        missing = [key for key in node.get("properties", {}) if key not in node.get("required", [])]
        if missing:
            return (
                f"In context={context}, 'required' is required to be supplied and to be an "
                f"array including every key in properties. Missing '{missing[0]}'."
            )
    for key, value in node.items():
        if key == "properties":
            for name, sub in value.items():
                problem = strict_schema_problem(sub, (*context, "properties", name))
                if problem:
                    return problem
        elif isinstance(value, dict | list):
            problem = strict_schema_problem(value, (*context, key))
            if problem:
                return problem
    return None


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    prompt_tokens = count_tokens(body["messages"])
    completion_tokens = count_tokens(content)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "fp_fake",
    }


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _first_user_text(messages: list[dict[str, Any]]) -> str:
    return next((_text(m.get("content")) for m in messages if m.get("role") == "user"), "")


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    return _text(users[-1].get("content")) if users else ""


def _request_id() -> str:
    return f"req_{uuid.uuid4().hex}"
