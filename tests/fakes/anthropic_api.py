"""A fake Anthropic API: ``GET /v1/models`` and ``POST /v1/messages`` in the real shapes."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.ai_server import FakeAIServer, Step, count_tokens, rule_findings

MODELS = (
    ("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z"),
    ("claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
)
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class FakeAnthropic(FakeAIServer):
    """Answers a request with ``api_key`` (``x-api-key`` or Bearer) and ``anthropic-version``.

    A request forcing a tool (``tool_choice: {"type": "tool"}``) is answered with a
    ``tool_use`` block whose input is ``{"findings": rule_findings(first user message)}``;
    otherwise a text block echoing the last user message. ``respond_next`` takes a dict
    (a tool input) or a string (a text block instead of the tool call).
    """

    def __init__(self, api_key: str = "sk-ant-test-fake") -> None:
        super().__init__()
        self.api_key = api_key

    @property
    def base_url(self) -> str:
        """The root the official SDK takes (``Anthropic(base_url=...)``), without ``/v1``."""
        return self.origin

    def routes(self) -> list[Any]:
        return [
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/messages", self._messages, methods=["POST"]),
        ]

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(status, "api_error")
        return {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": _request_id(),
        }

    async def _models(self, request: Request) -> Response:
        _, step = await self.begin(request)
        refused = self._refuse(request, step)
        if refused is not None:
            return refused
        data = [
            {"type": "model", "id": model, "display_name": name, "created_at": created}
            for model, name, created in MODELS
        ]
        return JSONResponse(
            {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
        )

    async def _messages(self, request: Request) -> Response:
        body, step = await self.begin(request)
        refused = self._refuse(request, step)
        if refused is not None:
            return refused
        problem = invalid(body)
        if problem is not None:
            return JSONResponse(self.error_body(400, problem), status_code=400)
        content = self._content(body, step)
        return JSONResponse(_message(body, content), headers={"request-id": _request_id()})

    def _refuse(self, request: Request, step: Step) -> Response | None:
        # The current SDKs send the key as a Bearer token; x-api-key is the documented header.
        keys = {request.headers.get("x-api-key"), request.headers.get("authorization")}
        if not keys & {self.api_key, f"Bearer {self.api_key}"}:
            return JSONResponse(self.error_body(401, "invalid x-api-key"), status_code=401)
        if not request.headers.get("anthropic-version"):
            message = "anthropic-version: header is required"
            return JSONResponse(self.error_body(400, message), status_code=400)
        if step.status is not None:
            return self.failure(step)
        return None

    def _content(self, body: dict[str, Any], step: Step) -> list[dict[str, Any]]:
        tool = (body.get("tool_choice") or {}).get("name")
        if step.content is not None:
            if isinstance(step.content, str):
                return [{"type": "text", "text": step.content}]
            return [_tool_use(tool or "tool", step.content)]
        if tool:
            return [_tool_use(tool, {"findings": rule_findings(_user_text(body, first=True))})]
        return [{"type": "text", "text": f"You said: {_user_text(body, first=False)[:200]}"}]


def invalid(body: Any) -> str | None:
    """Why the Messages API would answer 400 to this body, or None."""
    if not isinstance(body, dict):
        return "There was an error parsing the body of your request."
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if messages[0].get("role") != "user":
        return 'messages: first message must use the "user" role'
    tool_names = {tool.get("name") for tool in body.get("tools") or []}
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool" and choice.get("name") not in tool_names:
        return f"tool_choice: tool '{choice.get('name')}' not found in 'tools'"
    return _tool_pairing_problem(messages)


def _tool_pairing_problem(messages: list[dict[str, Any]]) -> str | None:
    """Every ``tool_use`` must be answered by a ``tool_result`` in the next user turn."""
    for index, message in enumerate(messages):
        uses = {block["id"] for block in _blocks(message) if block.get("type") == "tool_use"}
        following = messages[index + 1] if index + 1 < len(messages) else None
        results = {
            block.get("tool_use_id")
            for block in (_blocks(following) if following else [])
            if block.get("type") == "tool_result"
        }
        if uses and following is not None and not uses <= results:
            return (
                f"messages.{index + 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(sorted(uses - results))}."
            )
        if message.get("role") == "user":
            previous = messages[index - 1] if index else {}
            offered = {b.get("id") for b in _blocks(previous) if b.get("type") == "tool_use"}
            for block in _blocks(message):
                if block.get("type") == "tool_result" and block.get("tool_use_id") not in offered:
                    return (
                        f"messages.{index}.content: unexpected `tool_use_id` found in "
                        "`tool_result` blocks"
                    )
    return None


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return (
        [block for block in content if isinstance(block, dict)] if isinstance(content, list) else []
    )


def _user_text(body: dict[str, Any], *, first: bool) -> str:
    users = [m for m in body["messages"] if m.get("role") == "user"]
    if not users:
        return ""
    content = (users[0] if first else users[-1]).get("content")
    if isinstance(content, str):
        return content
    return "\n".join(str(b.get("text", "")) for b in _blocks({"content": content}))


def _tool_use(name: str, tool_input: Any) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": f"toolu_{uuid.uuid4().hex[:24]}",
        "name": name,
        "input": tool_input,
    }


def _message(body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, Any]:
    asked = [body.get("system"), body["messages"], body.get("tools")]
    tool_call = any(block["type"] == "tool_use" for block in content)
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": "tool_use" if tool_call else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": count_tokens(asked), "output_tokens": count_tokens(content)},
    }


def _request_id() -> str:
    return f"req_{uuid.uuid4().hex[:24]}"
