"""The machinery both AI API fakes share: a uvicorn thread, request log and scripted turns."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

_NUMBERED = re.compile(r"^\s*(\d+)\| ?(.*)$")
_PATH = re.compile(r"^Path:\s*(\S+)", re.MULTILINE)


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Step:
    """What to do with the next request: fail, wait, or answer with given content."""

    status: int | None = None
    retry_after: float | None = None
    body: Any = None
    delay: float = 0.0
    content: Any = None
    refusal: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeAIServer:
    """A Starlette app on ``127.0.0.1:<free port>`` in a background uvicorn thread.

    Subclasses add routes and the provider's shapes; scripting is shared:
    ``fail_next``, ``delay_next`` and ``respond_next`` queue behaviours consumed one per
    request (in order), and ``requests`` records every request received.
    """

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: deque[Step] = deque()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def routes(self) -> list[Any]:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeAIServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            Starlette(routes=self.routes()),
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{type(self).__name__} did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (and the provider's error body)."""
        step = Step(status=status, retry_after=retry_after, body=body, headers=dict(headers or {}))
        with self._lock:
            self._script.extend([step] * times)

    def delay_next(self, seconds: float) -> None:
        """Hold the next request ``seconds`` before answering it normally."""
        with self._lock:
            self._script.append(Step(delay=seconds))

    def respond_next(self, raw_content: Any) -> None:
        """Answer the next request with this content instead of the computed one."""
        with self._lock:
            self._script.append(Step(content=raw_content))

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def calls(self, path: str) -> list[Recorded]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    async def begin(self, request: Request) -> tuple[Any, Step]:
        """Record the request and take its scripted step (an empty step if none)."""
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with self._lock:
            self.requests.append(
                Recorded(request.method, request.url.path, dict(request.headers), body)
            )
            step = self._script.popleft() if self._script else Step()
        if step.delay:
            await asyncio.sleep(step.delay)
        return body, step

    def failure(self, step: Step) -> Response:
        status = step.status or 500
        body = step.body if step.body is not None else self.error_body(status, _REASONS[status])
        headers = dict(step.headers)
        if step.retry_after is not None:
            headers["retry-after"] = f"{step.retry_after:g}"
        return JSONResponse(body, status_code=status, headers=headers)


_REASONS = {
    400: "Bad request.",
    401: "Invalid API key.",
    403: "You do not have access to this resource.",
    404: "Not found.",
    429: "Rate limit reached; try again later.",
    500: "The server had an error while processing your request.",
    502: "Bad gateway.",
    503: "The engine is currently overloaded, please try again later.",
    529: "Overloaded",
}


def rule_findings(user_text: str) -> list[dict[str, Any]]:
    """A deterministic "model": flag numbered lines with ``eval(`` or ``password =``.

    The prompt's ``Path:`` line gives the path; lines look like ``  12| code``.
    """
    path_match = _PATH.search(user_text)
    path = path_match.group(1) if path_match else "unknown"
    findings = []
    for raw_line in user_text.splitlines():
        numbered = _NUMBERED.match(raw_line)
        if numbered is None:
            continue
        number, code = int(numbered.group(1)), numbered.group(2)
        if "eval(" in code:
            findings.append(_finding(path, number, "high", "security", "eval-call", "eval()"))
        if "password =" in code:
            findings.append(
                _finding(path, number, "critical", "secrets", "hardcoded-password", "password")
            )
    return findings


def _finding(
    path: str, line: int, severity: str, category: str, rule: str, what: str
) -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "end_line": line,
        "severity": severity,
        "category": category,
        "rule": rule,
        "message": f"Avoid {what} here.",
        "suggestion": None,
    }


def count_tokens(value: Any) -> int:
    """The fake's usage accounting: one token per 4 characters of JSON, at least 1."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return max(1, len(text) // 4)
