"""repository holds every SQL statement of ai-orchestrator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import asyncpg


@dataclass(frozen=True)
class Call:
    """One provider attempt or cache hit, as the call log keeps it."""

    user_id: str
    project_id: uuid.UUID | None
    config_version_id: uuid.UUID | None
    source: str
    provider: str
    model: str
    outcome: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    latency_ms: int = 0
    cached: bool = False
    error: str | None = None


async def insert_calls(conn: asyncpg.Connection, calls: list[Call]) -> None:
    await conn.executemany(
        "insert into calls (id, user_id, project_id, config_version_id, source, provider, model,"
        " outcome, input_tokens, output_tokens, cost_usd, latency_ms, cached, error)"
        " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        [
            (
                uuid.uuid4(),
                c.user_id,
                c.project_id,
                c.config_version_id,
                c.source,
                c.provider,
                c.model,
                c.outcome,
                c.input_tokens,
                c.output_tokens,
                c.cost_usd,
                c.latency_ms,
                c.cached,
                c.error,
            )
            for c in calls
        ],
    )


async def insert_cache_key(
    conn: asyncpg.Connection,
    *,
    key: str,
    config_version_id: uuid.UUID | None,
    provider: str,
    model: str,
    max_age_seconds: int,
) -> None:
    """Record a cached key, and drop a few keys whose Redis answers have expired: the
    table holds at most what Redis may still hold, not every chunk ever reviewed."""
    await conn.execute(
        "insert into cache_keys (key, config_version_id, provider, model)"
        " values ($1, $2, $3, $4) on conflict (key) do nothing",
        key,
        config_version_id,
        provider,
        model,
    )
    await conn.execute(
        "delete from cache_keys where key in (select key from cache_keys"
        " where created_at < now() - make_interval(secs => $1) order by created_at limit 10)",
        float(max_age_seconds),
    )
