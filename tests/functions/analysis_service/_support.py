"""Helpers of analysis-service tests: a stand-in orchestrator speaking the /review contract,
an event sink recording CloudEvents, and the real project/versions processes they need."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

PY312 = "type Alias = list[int]"
"""Python 3.12 syntax: the stand-in answers as the orchestrator does when bandit cannot parse."""


@dataclass
class StandInOrchestrator:
    """POST /review as ai-orchestrator answers it (the outermost boundary of these tests).

    ``eval(`` in a line is a static finding (B307), ``TODO`` an AI one; ``delay`` slows
    every call, ``status`` makes it answer an error instead; calls are counted per chunk.
    """

    delay: float = 0.0
    status: int = 200
    calls: Counter[str] = field(default_factory=Counter)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(body)
            for chunk in body["chunks"]:
                self.calls[f"{body['source']}:{chunk['id']}"] += 1
        time.sleep(self.delay)
        if self.status == 429:
            return 429, {"title": "Quota Exceeded", "detail": "tokens_per_day of project exceeded"}
        if self.status != 200:
            return self.status, {"title": "Service Unavailable", "detail": "down"}
        return 200, _review(body)


def _review(body: dict[str, Any]) -> dict[str, Any]:
    static = body["source"] == "static"
    findings, rows = [], []
    for chunk in body["chunks"]:
        for offset, text in enumerate(chunk["content"].split("\n")):
            line = chunk["start_line"] + offset
            if static and "eval(" in text:
                findings.append(_finding(chunk, line, "high", "security", "B307", "eval is unsafe"))
            if not static and "TODO" in text:
                findings.append(_finding(chunk, line, "low", "maintainability", "ai-todo", "TODO"))
        rows.append(_usage(chunk, static))
    total = {k: rows[0][k] for k in ("provider", "model", "cached")} if rows else {}
    total.update(
        input_tokens=sum(r["input_tokens"] for r in rows),
        output_tokens=sum(r["output_tokens"] for r in rows),
        cost_usd=str(sum(float(r["cost_usd"]) for r in rows)),
    )
    return {
        "findings": findings,
        "usage": total,
        "config_version_id": body["config"].get("version_id"),
        "chunks": rows,
    }


def _finding(
    chunk: dict[str, Any], line: int, severity: str, category: str, rule: str, message: str
) -> dict[str, Any]:
    return {
        "chunk_id": chunk["id"],
        "path": chunk["path"],
        "line": line,
        "end_line": line,
        "severity": severity,
        "category": category,
        "rule": rule,
        "message": message,
        "suggestion": None,
    }


def _usage(chunk: dict[str, Any], static: bool) -> dict[str, Any]:
    skipped = []
    analyzers = ["bandit", "ruff", "rules", "secrets"] if static else []
    if static and chunk["language"] == "python" and PY312 in chunk["content"]:
        skipped = [{"analyzer": "bandit", "reason": "syntax error: bandit could not parse it"}]
        analyzers.remove("bandit")
    return {
        "chunk_id": chunk["id"],
        "provider": "local" if static else "openai",
        "model": "local-analyzers" if static else "gpt-test",
        "input_tokens": 0 if static else 100,
        "output_tokens": 0 if static else 20,
        "cost_usd": "0" if static else "0.000125",
        "cached": False,
        "analyzers": analyzers,
        "skipped_analyzers": skipped,
    }


@dataclass
class EventSink:
    """Records every request as (headers, body); answers 202 like the Broker."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def of_type(self, event_type: str) -> list[tuple[dict[str, str], bytes]]:
        return [e for e in self.received if e[0].get("ce-type") == event_type]


def serve(handler_for: Any) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def orchestrator_server(stand_in: StandInOrchestrator) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, answer = stand_in.answer(body)
            _reply(self, status, answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = serve(Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_port}"
    return server


def sink_server(sink: EventSink) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sink.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            _reply(self, 202, {})

        def log_message(self, *args: Any) -> None:
            pass

    server = serve(Handler)
    sink.url = f"http://127.0.0.1:{server.server_port}"
    return server


def _reply(handler: BaseHTTPRequestHandler, status: int, answer: dict[str, Any]) -> None:
    data = json.dumps(answer).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


async def project_with_files(
    projects_url: str, files_url: str, headers: dict[str, str], files: dict[str, str]
) -> tuple[str, str]:
    """A new project holding ``files`` and a snapshot of them: ``(project_id, snapshot_id)``."""
    async with httpx.AsyncClient(headers=headers, timeout=20) as client:
        created = await client.post(f"{projects_url}/projects", json={"name": "analysis-test"})
        assert created.status_code == 201, created.text
        project_id = created.json()["id"]
        for path, text in files.items():
            put = await client.put(
                f"{files_url}/projects/{project_id}/files/{path}", content=text.encode()
            )
            assert put.status_code in (200, 201), put.text
        snapshot = await client.post(f"{files_url}/projects/{project_id}/snapshots")
        assert snapshot.status_code in (200, 201), snapshot.text
    return project_id, snapshot.json()["id"]


async def add_member(
    projects_url: str, project_id: str, owner: dict[str, str], user_id: str, role: str
) -> None:
    async with httpx.AsyncClient(headers=owner, timeout=10) as client:
        answer = await client.put(
            f"{projects_url}/projects/{project_id}/members/{user_id}", json={"role": role}
        )
    assert answer.status_code in (200, 201), answer.text


def new_user() -> str:
    return str(uuid.uuid4())


async def wait_until(check: Callable[[], Awaitable[Any]], *, timeout: float = 20.0) -> Any:
    """Poll an async ``check`` until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


@dataclass
class Platform:
    urls: dict[str, str]


@dataclass
class Service:
    api: httpx.AsyncClient
    worker: httpx.AsyncClient
    sink: EventSink
    platform: Platform
