"""Tests of shared/cache.py on the real Redis: key prefixing, readiness, outages."""

from __future__ import annotations

import os

import pytest

from localdev import local
from shared import cache, config
from shared.errors import Unavailable


def _cache(**env: str) -> cache.Cache:
    os.environ.update(env)
    config.reset_caches()
    return cache.Cache(lambda: config.load(config.BaseConfig))


def test_keys_carry_the_prefix_and_the_service(redis_prefix: str) -> None:
    store = _cache(SERVICE_NAME="cache-test", REDIS_KEY_PREFIX=redis_prefix)
    assert store.key("idempotency", "abc") == f"{redis_prefix}cache-test:idempotency:abc"
    assert store.key() == f"{redis_prefix}cache-test"


def test_default_prefix_is_acr() -> None:
    os.environ.pop("REDIS_KEY_PREFIX", None)
    assert _cache(SERVICE_NAME="svc").key("k") == "acr:svc:k"


async def test_check_pings_the_real_redis_and_keys_round_trip(
    redis_url: str, redis_prefix: str
) -> None:
    store = _cache(SERVICE_NAME="cache-test", REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix)
    try:
        await store.check()
        client = store.client()
        assert store.client() is client, "one client per process and loop"
        await client.set(store.key("probe"), b"v", ex=30)
        assert await client.get(f"{redis_prefix}cache-test:probe") == b"v"
    finally:
        await store.close()


async def test_unreachable_redis_check_raises_a_down_error() -> None:
    store = _cache(SERVICE_NAME="svc", REDIS_URL=f"redis://127.0.0.1:{local.free_port()}/0")
    try:
        with pytest.raises(cache.down_errors()):
            await store.check()
    finally:
        await store.close()


async def test_missing_redis_url_is_unavailable() -> None:
    os.environ.pop("REDIS_URL", None)
    store = _cache(SERVICE_NAME="svc")
    with pytest.raises(Unavailable, match="REDIS_URL is not configured") as caught:
        await store.check()
    assert caught.value.status == 503
