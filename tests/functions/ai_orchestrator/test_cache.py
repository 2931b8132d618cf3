"""The response cache key: what changes it, what does not, and Redis being down."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from functions.ai_orchestrator import cache, chunking, context
from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.providers import ReviewResult
from tests.functions.ai_orchestrator._support import Platform

VERSION = uuid.UUID("00000000-0000-4000-8000-0000000000c1")


def piece(content: str = "x = 1\ny = 2", start_line: int = 1, path: str = "a.py") -> Chunk:
    return chunking.from_hunks(path, [(start_line, content.splitlines())], budget=1000)[0]


def test_the_key_is_a_sha256_stable_for_the_same_inputs() -> None:
    first = cache.key(VERSION, "openai", "gpt-4o-mini", piece())
    assert first == cache.key(VERSION, "openai", "gpt-4o-mini", piece())
    assert len(first) == 64 and int(first, 16) >= 0


def test_a_new_version_model_provider_line_path_or_content_changes_the_key() -> None:
    base = cache.key(VERSION, "openai", "gpt-4o-mini", piece())
    variants = {
        cache.key(uuid.uuid4(), "openai", "gpt-4o-mini", piece()),
        cache.key(VERSION, "openai", "gpt-4.1", piece()),
        cache.key(VERSION, "other", "gpt-4o-mini", piece()),
        cache.key(VERSION, "openai", "gpt-4o-mini", piece(start_line=2)),
        cache.key(VERSION, "openai", "gpt-4o-mini", piece(path="b.py")),
        cache.key(VERSION, "openai", "gpt-4o-mini", piece("x = 1\ny = 3")),
    }
    assert base not in variants and len(variants) == 6


async def test_a_stored_answer_is_found_again_and_others_miss(
    platform: Platform, client_for: Any
) -> None:
    client = client_for("orchestrator", **platform.orchestrator_env())
    started = await client.get("/health/startup")  # applies the migrations
    assert started.status_code == 200, started.text
    result = ReviewResult(findings=[], input_tokens=5, output_tokens=2, model="m", provider="p")
    stored = cache.key(uuid.uuid4(), "p", "m", piece())
    other = cache.key(uuid.uuid4(), "p", "m", piece())

    await cache.store(stored, result, config_version_id=None, provider="p", model="m")
    found = await cache.lookup([other, stored])

    assert found[0] is None
    assert found[1] is not None and (found[1].input_tokens, found[1].model) == (5, "m")


async def test_with_redis_down_lookups_miss_and_storing_is_skipped(
    platform: Platform, client_for: Any
) -> None:
    await context.redis.close()
    client_for("orchestrator", **platform.orchestrator_env(REDIS_URL="redis://127.0.0.1:1/0"))
    result = ReviewResult(findings=[], input_tokens=1, output_tokens=1, model="m", provider="p")
    try:
        await cache.store("k", result, config_version_id=None, provider="p", model="m")
        found = await cache.lookup(["k"])
    finally:
        await context.redis.close()

    assert found == [None]


async def test_the_cache_stays_bounded_expired_keys_are_pruned_as_new_ones_arrive(
    platform: Platform, client_for: Any, database_url: str
) -> None:
    """Issue 9 item 7: a review cache that could grow without bound. Answers expire in
    Redis after RESPONSE_CACHE_SECONDS; ``cache_keys`` rows older than that are dropped,
    oldest first and a few per new key, so the table holds what Redis may still hold."""
    client = client_for("orchestrator", **platform.orchestrator_env(RESPONSE_CACHE_SECONDS="60"))
    assert (await client.get("/health/startup")).status_code == 200  # the migrations
    old_version, new_version = uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(database_url)

    async def count(version: uuid.UUID) -> int:
        found: int = await conn.fetchval(
            "select count(*) from ai_orchestrator.cache_keys where config_version_id = $1",
            version,
        )
        return found

    try:
        await conn.executemany(  # past the bound: 25 keys whose answers Redis has dropped
            "insert into ai_orchestrator.cache_keys"
            " (key, config_version_id, provider, model, created_at)"
            " values ($1, $2, 'p', 'm', now() - make_interval(mins => 2, secs => $3))",
            [(f"expired-{uuid.uuid4().hex}", old_version, float(n)) for n in range(25)],
        )
        result = ReviewResult(findings=[], input_tokens=1, output_tokens=1, model="m", provider="p")
        left = []
        for n in range(4):
            key = cache.key(new_version, "p", "m", piece(f"x = {n}"))
            await cache.store(key, result, config_version_id=new_version, provider="p", model="m")
            left.append(await count(old_version))
            ttl = await context.redis.client().ttl(context.redis.key("review", key))
            assert 0 < ttl <= 60, f"every answer expires in Redis ({ttl} s)"
        assert left == [15, 5, 0, 0], "ten expired keys go with each new one, oldest first"
        assert await count(new_version) == 4, "keys younger than the bound are kept"
    finally:
        await conn.close()
