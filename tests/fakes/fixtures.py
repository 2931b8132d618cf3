"""Pytest fixtures exposing the fakes (registered through tests/conftest.py's pytest_plugins)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.openai_api import FakeOpenAI

# --- AI provider fakes (ai-orchestrator) ---------------------------------------------------
# One server per session each (starting uvicorn per test would dominate the suite's time);
# the function-scoped fixtures clear the script and request log around every test.


@pytest.fixture(scope="session")
def _openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(_openai_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The fake OpenAI API, with an empty script and request log."""
    _openai_server.reset()
    yield _openai_server
    _openai_server.reset()


@pytest.fixture(scope="session")
def _anthropic_server() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    yield server
    server.stop()


@pytest.fixture
def fake_anthropic(_anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    """The fake Anthropic API, with an empty script and request log."""
    _anthropic_server.reset()
    yield _anthropic_server
    _anthropic_server.reset()
