"""Fixtures for ai-orchestrator: an HTTP client per test, a sample chunk, and (from
_support.py) the real backends and each test's platform."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from functions.ai_orchestrator import chunking
from functions.ai_orchestrator.chunking import Chunk
from tests.functions.ai_orchestrator._support import (  # noqa: F401 - fixtures by name
    SAMPLE_LINES,
    _backends,
    _platform,
)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def chunk() -> Chunk:
    """Lines 10-14 of ``app/loader.py`` (found by hunk, so the numbers start at 10)."""
    return chunking.from_hunks("app/loader.py", [(10, SAMPLE_LINES)], budget=1000)[0]
