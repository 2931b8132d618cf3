"""Fixtures for ai-orchestrator: an HTTP client per test, a sample chunk, and (from
_support.py) the real backends and each test's platform."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from functions.ai_orchestrator import chunking
from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.providers import upstream
from tests.functions.ai_orchestrator._support import (  # noqa: F401 - fixtures by name
    SAMPLE_LINES,
    _backends,
    _platform,
)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A provider client of the test's own (the orchestrator's session is per loop)."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest_asyncio.fixture(autouse=True)
async def close_provider_session() -> AsyncIterator[None]:
    """The orchestrator's provider session lives on the loop of the test that opened it."""
    yield
    await upstream.close()


@pytest.fixture
def chunk() -> Chunk:
    """Lines 10-14 of ``app/loader.py`` (found by hunk, so the numbers start at 10)."""
    return chunking.from_hunks("app/loader.py", [(10, SAMPLE_LINES)], budget=1000)[0]
