"""coldstart keeps CPython's cyclic garbage collector out of a function's start.

A cold start imports some 1,500 modules and builds their classes: hundreds of thousands
of container objects, each a reason for the collector to run, and every full collection
walks all of them again. None of that is garbage. So a function's ``main`` imports its
service under :func:`importing`, which turns the collector off for the imports and, at the
end, moves everything they made into the permanent generation (``gc.freeze``) before
turning it back on: later collections never walk (or write to) those objects again, which
also keeps the pages the gunicorn master shares with its forked worker shared. This is the
sequence the CPython documentation of ``gc.freeze`` gives for pre-fork servers ("call
gc.disable() early in the parent process, gc.freeze() right before fork(), and
gc.enable() early in child processes"); functions-framework forks the worker right after
importing the target, so the end of :func:`importing` is "right before fork".

The worker's own first work (opening the pools, the first request's lazy imports of
redis-py, joserfc and httpx) runs under :func:`warming`, from the first request the worker
serves until its first answer that is not a health probe, or at most
:data:`WARMING_LIMIT_SECONDS`. Then, once that answer is written (:data:`SETTLE_DELAY_SECONDS`
later), one collection takes what warming dropped, and what it kept is frozen before the
collector is turned back on: no garbage of the worker's is frozen for good.

Cyclic garbage the master's imports themselves make (little: modules and classes live on)
is frozen with them, unlike the worker's: collecting there would cost a full collection,
the very cost this avoids. It is made once per start and shared with the worker, never a
leak that grows with traffic.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager

WARMING_LIMIT_SECONDS = 10.0
"""The longest the worker keeps the collector off while it warms up."""

SETTLE_DELAY_SECONDS = 0.05
"""How long after the first real answer the collection runs: long enough for that
answer to be written first (it is still being sent when the handler returns)."""

stage = "cold"
"""``cold`` until the worker's first request, ``warming`` until its first real answer,
``settling`` until the collection after it, then ``warm``."""


def _settle() -> None:
    global stage
    if stage in ("warming", "settling"):
        stage = "warm"
        gc.collect()  # what warming dropped is collected, not frozen
        gc.freeze()
        gc.enable()


@contextmanager
def importing() -> Iterator[None]:
    """Import a function's service with the collector off, then freeze what it made.

    Nested uses and uses while the collector is already off (a test that turned it off)
    change nothing.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def warming() -> None:
    """The worker's first request: keep the collector off until :func:`warm` (or
    :data:`WARMING_LIMIT_SECONDS`), so its pools and lazy imports start without it."""
    global stage
    if stage != "cold":
        return
    if not gc.isenabled():  # someone else turned it off: theirs to turn on
        stage = "warm"
        return
    stage = "warming"
    gc.disable()
    asyncio.get_running_loop().call_later(WARMING_LIMIT_SECONDS, _settle)


def warm() -> None:
    """The first real answer is out: once it is written (:data:`SETTLE_DELAY_SECONDS`),
    collect what warming dropped, freeze what it kept, collector back on."""
    global stage
    if stage == "warming":
        stage = "settling"  # scheduled once, whatever other answers come meanwhile
        asyncio.get_running_loop().call_later(SETTLE_DELAY_SECONDS, _settle)
