"""counters runs the quota steps in Redis for the quotas function: one Lua script each.

The scripts, the keys and what a reservation is are ``shared.quota``'s (the orchestrator's
direct path runs the same scripts on the same keys); this module binds them to
provider-service's Redis.
"""

from __future__ import annotations

from functions.provider_service.context import redis
from shared.quota import RECLAIM_BATCH, Counters, Entry, Usage

__all__ = ["RECLAIM_BATCH", "commit", "commit_once", "current", "reclaim", "release", "reserve"]

_counters = Counters(redis)


async def reserve(
    reservation_id: str, entries: list[Entry], *, now_ms: int, deadline_ms: int
) -> tuple[bool, str, int]:
    """Hold every entry's amount atomically, or none: ``(admitted, limit name, retry ms)``."""
    return await _counters.reserve(reservation_id, entries, now_ms=now_ms, deadline_ms=deadline_ms)


async def reclaim(*, now_ms: int) -> None:
    """Give back what expired reservations still hold."""
    await _counters.reclaim(now_ms=now_ms)


async def commit(
    reservation_id: str, *, tokens: int, cost_units: int, fallback: list[Entry]
) -> bool:
    """Trade the hold for actual usage; True if the reservation was still held."""
    return await _counters.commit(
        reservation_id, tokens=tokens, cost_units=cost_units, fallback=fallback
    )


async def commit_once(usage: Usage) -> tuple[str, Usage | None]:
    """Commit a held reservation and queue its ledger row, once (``Counters.commit_once``)."""
    return await _counters.commit_once(usage)


async def release(reservation_id: str) -> bool:
    """Give the hold back; False if nothing was held (committed, released or expired)."""
    return await _counters.release(reservation_id)


async def current(keys: list[str]) -> list[int]:
    """The counters' values (0 when absent)."""
    return await _counters.current(keys)
