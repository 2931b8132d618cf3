"""Fixtures for provider-service: fresh quota caches per test, pools closed after the session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from functions.provider_service import context, rules
from shared import clients


@pytest.fixture(autouse=True)
def fresh_rule_cache() -> Iterator[None]:
    """Rules and prices are cached per process; a test starts and ends with none."""
    rules.invalidate()
    yield
    rules.invalidate()


@pytest_asyncio.fixture(scope="session", autouse=True)
async def close_pools() -> AsyncIterator[None]:
    yield
    await context.database.close()
    await context.redis.close()
    await clients.close()
