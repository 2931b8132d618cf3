"""The response cache key: what changes it, what does not, and Redis being down."""

from __future__ import annotations

import uuid
from typing import Any

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
