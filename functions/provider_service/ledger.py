"""ledger writes the usage that callers committed directly in Redis into the PostgreSQL ledger.

The orchestrator's chat gateway commits without calling the quotas function: one Lua
script adjusts the counters and appends the usage row to the Redis stream ``ledger``
(``shared.quota.Counters.commit_and_record``) before the caller gets its answer. The
quotas function's own ``POST /quotas/commit`` does the same for a held reservation
(``Counters.commit_once``, which also marks it committed until its row is written). This
module moves those rows into ``usage_ledger``.

Why a crash cannot lose a row: an entry leaves the stream only through ``XACK`` + ``XDEL``
*after* the transaction that inserted it has committed. A reader that dies between reading
and acknowledging leaves the entry pending in the consumer group: the same process reads
its own pending entries first on its next drain, and any reader claims entries pending
longer than ``CLAIM_IDLE_MS`` from a reader that is gone (``XAUTOCLAIM``). Writing an entry
twice is harmless, the insert skips a reservation already in the ledger. So a row is
either still in Redis or in PostgreSQL; it is as durable as Redis' persistence makes the
stream (the counters beside it are too), and a commit the caller was told about is already
in the stream. ``committed_at`` is the stream entry's time (Redis' clock at the commit),
not the time of the write.

When it runs: ``GET /usage`` drains before it sums (so usage reads see every commit made
before them), and every quotas request starts a drain in the background when none ran in
the last ``DRAIN_INTERVAL_SECONDS`` (the orchestrator calls quotas at least whenever its
copy of the rules grows old, so a running gateway keeps the drains coming).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

from functions.provider_service import repository
from functions.provider_service.context import database, redis
from shared import lifecycle, quota
from shared.cache import down_errors
from shared.errors import ProblemError

logger = logging.getLogger(__name__)

GROUP = "ledger-writers"
BATCH = 500
CLAIM_IDLE_MS = 30_000
DRAIN_INTERVAL_SECONDS = 1.0
_CONSUMER = f"{socket.gethostname()}-{os.getpid()}"
_lock: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
_last = [0.0]
_tasks: set[asyncio.Task[int]] = set()


def stream() -> str:
    return quota.key(redis, quota.LEDGER_STREAM)


async def drain(*, rounds: int = 20) -> int:
    """Write what the stream holds into the ledger (up to ``rounds`` batches); rows added.

    Raises:
        Unavailable: PostgreSQL is down (the entries stay in the stream).
    """
    loop = asyncio.get_running_loop()
    lock = _lock.setdefault(loop, asyncio.Lock())
    added = 0
    async with lock:
        _last[0] = time.monotonic()
        await _ensure_group()
        for _ in range(rounds):
            entries = await _read()
            if not entries:
                break
            added += await _write(entries)
            if len(entries) < BATCH:
                break
    return added


def drain_soon() -> None:
    """Start a background drain unless one ran in the last ``DRAIN_INTERVAL_SECONDS``."""
    if time.monotonic() - _last[0] < DRAIN_INTERVAL_SECONDS:
        return
    _last[0] = time.monotonic()
    task = asyncio.get_running_loop().create_task(_quietly())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _quietly() -> int:
    """A background drain, in flight like a request: SIGTERM waits for it (up to the drain
    timeout) before the pools close under it."""
    try:
        with lifecycle.state.track():
            return await drain()
    except ProblemError as e:
        logger.warning("Ledger drain postponed: %s", e.detail)
    except down_errors() as e:
        logger.warning("Ledger drain postponed, Redis is down: %s", e)
    return 0


async def _ensure_group() -> None:
    from redis.exceptions import ResponseError

    try:
        await redis.client().xgroup_create(stream(), GROUP, id="0", mkstream=True)
    except ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise


Entries = list[tuple[bytes, dict[bytes, bytes] | None]]


def _entries(answer: Any) -> Entries:
    """XREADGROUP's entries of our one stream (RESP2 list or RESP3 map)."""
    if not answer:
        return []
    if isinstance(answer, dict):
        groups = list(answer.values())
        return [(i, f) for i, f in (groups[0][0] if groups and groups[0] else [])]
    return [(i, f) for i, f in answer[0][1]]


async def _read() -> Entries:
    """This reader's pending entries, then ones stuck at a gone reader, then new ones
    (an entry deleted while pending comes back without fields: acknowledged, not written)."""
    client = redis.client()
    found = _entries(await client.xreadgroup(GROUP, _CONSUMER, {stream(): "0"}, count=BATCH))
    if len(found) < BATCH:
        claimed: Any = await client.xautoclaim(
            stream(), GROUP, _CONSUMER, CLAIM_IDLE_MS, "0-0", count=BATCH - len(found)
        )
        found += [(i, f) for i, f in claimed[1]]
    if len(found) < BATCH:
        more = BATCH - len(found)
        found += _entries(await client.xreadgroup(GROUP, _CONSUMER, {stream(): ">"}, count=more))
    return found


async def _write(entries: Entries) -> int:
    rows: list[tuple[quota.Usage, datetime]] = []
    for entry_id, fields in entries:
        if not fields:
            continue
        try:
            ms = int(entry_id.split(b"-")[0])
            rows.append((quota.usage_of(fields), datetime.fromtimestamp(ms / 1000, UTC)))
        except (KeyError, ValueError):
            logger.error("Ledger stream entry %s is not a usage row; dropped", entry_id)
    async with database.connection() as conn:
        added = await repository.record_usages(conn, rows)
    ids = [entry_id for entry_id, _ in entries]
    # the rows are in PostgreSQL now: a repeated commit finds them there, so the markers
    # quotas' commit left for repeats go too (the gateway's rows have none: a no-op)
    markers = [quota.committed_key(redis, usage.reservation_id) for usage, _ in rows]
    async with redis.client().pipeline(transaction=False) as pipe:
        pipe.xack(stream(), GROUP, *ids)
        pipe.xdel(stream(), *ids)
        if markers:
            pipe.delete(*markers)
        await pipe.execute()
    return added
