"""cache keeps review answers in Redis by content hash, so an unchanged chunk costs nothing.

The key is SHA-256 over the canonical JSON of (config version, provider, model, path,
language, start line, content): a new config version, another model or any changed
line is a miss. Answers live ``RESPONSE_CACHE_SECONDS`` in Redis; each stored key is
also recorded in PostgreSQL (``cache_keys``), the orchestrator's durable list of what it
has cached for which version. Redis down: every lookup misses and nothing is stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

from functions.ai_orchestrator import repository
from functions.ai_orchestrator.chunking import Chunk
from functions.ai_orchestrator.context import database, redis
from functions.ai_orchestrator.providers import ReviewResult
from functions.ai_orchestrator.settings import settings
from shared.cache import down_errors
from shared.errors import Unavailable

logger = logging.getLogger(__name__)


def key(config_version_id: uuid.UUID | None, provider: str, model: str, chunk: Chunk) -> str:
    """The hex SHA-256 naming one chunk's answer under one configuration and model."""
    material = [
        str(config_version_id or ""),
        provider,
        model,
        chunk.path,
        chunk.language,
        chunk.start_line,
        chunk.content,
    ]
    if chunk.file_text is not None:  # the taint engine's findings depend on the whole file
        material.append(hashlib.sha256(chunk.file_text.encode()).hexdigest())
    canonical = json.dumps(material, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def lookup(keys: list[str]) -> list[ReviewResult | None]:
    """The cached answer of each key, or None (also for every key while Redis is down)."""
    if not keys:
        return []
    try:
        values = await redis.client().mget([redis.key("review", k) for k in keys])
    except down_errors():
        logger.warning("Redis is down: review cache lookups miss")
        return [None] * len(keys)
    return [_decode(value) for value in values]


async def store(
    cache_key: str,
    result: ReviewResult,
    *,
    config_version_id: uuid.UUID | None,
    provider: str,
    model: str,
) -> None:
    """Keep ``result`` under ``cache_key`` and record the key (best effort)."""
    payload = result.model_dump_json(exclude={"raw"})
    try:
        await redis.client().set(
            redis.key("review", cache_key), payload, ex=settings().response_cache_seconds
        )
    except down_errors():
        logger.warning("Redis is down: review answer not cached")
        return
    try:
        async with database.connection() as conn:
            await repository.insert_cache_key(
                conn,
                key=cache_key,
                config_version_id=config_version_id,
                provider=provider,
                model=model,
                max_age_seconds=settings().response_cache_seconds,
            )
    except Unavailable:
        logger.warning("Database is down: cache key %s not recorded", cache_key[:12])


def _decode(value: Any) -> ReviewResult | None:
    if value is None:
        return None
    try:
        return ReviewResult.model_validate_json(value)
    except ValueError:
        return None
