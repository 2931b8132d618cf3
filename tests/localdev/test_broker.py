"""broker: the local Broker and PingSource follow knative/eventing's own manifests."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from localdev import broker

EVENTING = Path(__file__).resolve().parents[2] / "knative" / "eventing"


class Recorder:
    """A real HTTP server recording (path, ce-type, body) of what it receives."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        self.hosts: list[str] = []
        self.fail_first = fail_first
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if recorder.fail_first > 0:
                    recorder.fail_first -= 1
                    self.send_response(503)
                else:
                    recorder.received.append((self.path, self.headers.get("ce-type", ""), body))
                    recorder.hosts.append(self.headers.get("host", ""))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def worker() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.close()


@pytest.fixture
def ab_tests() -> Iterator[Recorder]:
    recorder = Recorder(fail_first=1)
    yield recorder
    recorder.close()


def test_the_triggers_and_the_ping_source_are_read_from_the_manifests() -> None:
    triggers = {(t.event_type, t.function, t.path) for t in broker.load_triggers(EVENTING)}
    assert ("dev.acr.analysis.requested", "analysis-worker", "/") in triggers
    assert ("dev.acr.finding.feedback", "ab-tests", "/ab-tests/events") in triggers
    assert ("dev.acr.analysis.completed", "ab-tests", "/ab-tests/events") in triggers
    (ping, data), *_ = broker.load_pings(EVENTING)
    assert (ping.function, ping.path) == ("analysis-worker", "/requeue")
    assert json.loads(data) == {"task": "requeue-stale"}


async def test_an_event_reaches_only_the_subscribers_of_its_type_with_retries(
    worker: Recorder, ab_tests: Recorder
) -> None:
    functions = {"analysis-worker": worker.url, "ab-tests": ab_tests.url}
    async with httpx.AsyncClient() as client:
        local = broker.LocalBroker(broker.load_triggers(EVENTING), functions, client, backoff=0.01)
        for subscription in local.subscriptions:
            headers = {
                "ce-type": subscription.event_type or "",
                "ce-id": "1",
                "ce-specversion": "1.0",
            }
            assert await local.deliver(subscription, headers, b"{}"), subscription
    assert [(p, t) for p, t, _ in worker.received] == [("/", "dev.acr.analysis.requested")]
    # delivered as a Trigger delivers: at the subscriber's cluster-local address
    assert worker.hosts == ["analysis-worker.ai-codereview.svc.cluster.local"]
    assert set(ab_tests.hosts) == {"ab-tests.ai-codereview.svc.cluster.local"}
    assert sorted(t for _, t, _ in ab_tests.received) == [
        "dev.acr.analysis.completed",
        "dev.acr.finding.feedback",
    ], "the first 503 was retried"


async def test_the_ping_source_sends_a_ping_event_to_the_worker(worker: Recorder) -> None:
    async with httpx.AsyncClient() as client:
        local = broker.LocalBroker([], {"analysis-worker": worker.url}, client)
        ticking = asyncio.create_task(
            local.ping_forever(broker.load_pings(EVENTING), interval=0.05)
        )
        for _ in range(100):
            if worker.received:
                break
            await asyncio.sleep(0.02)
        ticking.cancel()
    path, event_type, body = worker.received[0]
    assert (path, event_type) == ("/requeue", "dev.knative.sources.ping")
    assert worker.hosts[0] == "analysis-worker.ai-codereview.svc.cluster.local"
    assert json.loads(body) == {"task": "requeue-stale"}
