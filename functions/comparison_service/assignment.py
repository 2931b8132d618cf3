"""assignment maps a unit to a variant: SHA-256 of ``"<test_id>:<unit>"`` against the weights.

The first 8 bytes of the digest, read as a big-endian integer over 2**64, give a point in
[0, 1) that is uniform across units and the same for a unit every time; the variant is
the first whose cumulative normalized weight exceeds it. This is only the initial choice:
the assignments table keeps it, so a later weight change never moves an assigned unit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def point(test_id: str, unit: str) -> float:
    digest = hashlib.sha256(f"{test_id}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def pick(test_id: str, unit: str, weights: Sequence[tuple[str, float]]) -> str:
    """The variant of ``unit`` for ``(name, weight)`` pairs in order (weights >= 0, sum > 0)."""
    total = sum(w for _, w in weights)
    if total <= 0:
        raise ValueError("At least one weight must be positive.")
    target = point(test_id, unit) * total
    cumulative = 0.0
    for name, weight in weights:
        cumulative += weight
        if weight > 0 and target < cumulative:
            return name
    return next(name for name, weight in reversed(weights) if weight > 0)
