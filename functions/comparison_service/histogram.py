"""histogram keeps latencies in log-spaced buckets, so percentiles need no raw events.

Bucket 0 holds everything below 1 ms; bucket ``i >= 1`` holds
``[GROWTH**(i-1), GROWTH**i)`` ms with ``GROWTH = 2**(1/8)``, so a percentile read from
the buckets is within about 4.5% of the exact one. The last bucket also takes every
latency above its lower bound (``2**(198/8)`` ms, about 4.7 hours).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BUCKETS = 200
GROWTH = 2.0 ** (1.0 / 8.0)
_LOG_GROWTH = math.log(GROWTH)


def bucket(latency_ms: float) -> int:
    """The 0-based bucket of one latency."""
    if latency_ms < 1.0:
        return 0
    return min(BUCKETS - 1, 1 + int(math.log(latency_ms) / _LOG_GROWTH))


def bounds(index: int) -> tuple[float, float]:
    if index == 0:
        return 0.0, 1.0
    return GROWTH ** (index - 1), GROWTH**index


def quantile(counts: Sequence[int], q: float) -> float | None:
    """The ``q`` quantile (0..1), interpolated geometrically inside its bucket."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            low, high = bounds(index)
            share = (rank - seen) / count
            if index == 0:
                return high * share
            return float(low * (high / low) ** share)
        seen += count
    return bounds(len(counts) - 1)[1]
