"""Fixtures of analysis-service tests: real projects, project-files and versions processes
(started once per module), a stand-in orchestrator, an event sink, and in-process clients."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shared import access, events
from tests.functions.analysis_service._support import (
    EventSink,
    Platform,
    Service,
    StandInOrchestrator,
    orchestrator_server,
    sink_server,
)
from tests.helpers import Accounts, running_functions

_TARGETS = ("projects", "project_files", "versions")


@pytest.fixture(scope="module")
def platform(
    session_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, accounts: Accounts
) -> Iterator[Platform]:
    """The functions analyses depends on, as real processes shared by the module's tests;
    projects asks the session's auth-users whether a new member is a user."""
    env = {**session_env, "PROJECT_ACCESS_CACHE_SECONDS": "0"}
    logs = tmp_path_factory.mktemp("platform")
    wiring = {"projects": accounts.env}
    with running_functions(env, logs, *_TARGETS, more_env=wiring) as urls:
        yield Platform(urls)


@pytest.fixture(scope="session")
def refusing_url() -> Iterator[str]:
    """A local address that refuses every connection and that no other process can take:
    a bound socket that never listens (a port from ``free_port`` is free only until some
    other test's server binds it, and then answers in the name of a service not running)."""
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{held.getsockname()[1]}"
    held.close()


@pytest.fixture
def stand_in() -> Iterator[StandInOrchestrator]:
    orchestrator = StandInOrchestrator()
    server = orchestrator_server(orchestrator)
    yield orchestrator
    server.shutdown()
    server.server_close()


@pytest.fixture
def sink() -> Iterator[EventSink]:
    recorder = EventSink()
    server = sink_server(recorder)
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture
def service_env(
    platform: Platform,
    stand_in: StandInOrchestrator,
    sink: EventSink,
    identity: Any,
    refusing_url: str,
) -> dict[str, str]:
    """What analyses and analysis-worker read, pointed at this module's processes."""
    access.forget()
    return {
        "PROJECTS_URL": platform.urls["projects"],
        "PROJECT_FILES_URL": platform.urls["project_files"],
        "VERSIONS_URL": platform.urls["versions"],
        "AB_TESTS_URL": refusing_url,  # none running: no A/B test
        "ORCHESTRATOR_URL": stand_in.url,
        "K_SINK": sink.url,
        "SERVICE_TOKEN": identity.token(sub="sa:platform", role="service", scope="internal"),
        "PROJECT_ACCESS_CACHE_SECONDS": "0",
        "WORKER_LEASE_SECONDS": "30",
    }


@pytest.fixture
def service(
    client_for: Callable[..., httpx.AsyncClient],
    service_env: dict[str, str],
    sink: EventSink,
    platform: Platform,
) -> Callable[..., Service]:
    """``service(**env)``: in-process analyses and analysis-worker clients."""

    def make(**env: str) -> Service:
        merged = {**service_env, **env}
        api = client_for("analyses", **merged)
        # as the Broker and the PingSource call it: at its cluster-local address
        worker = client_for(
            "analysis_worker", host=events.cluster_local_host("analysis-worker"), **merged
        )
        return Service(api, worker, sink, platform)

    return make
