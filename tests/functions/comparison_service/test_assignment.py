"""assignment: the deterministic hash split and log-spaced latency buckets (pure parts)."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

from functions.comparison_service import assignment, histogram


def test_the_same_unit_always_gets_the_same_variant() -> None:
    weights = [("a", 1.0), ("b", 1.0), ("c", 2.0)]
    first = [assignment.pick("t1", f"unit-{i}", weights) for i in range(500)]
    again = [assignment.pick("t1", f"unit-{i}", weights) for i in range(500)]
    other_test = [assignment.pick("t2", f"unit-{i}", weights) for i in range(500)]
    assert first == again
    assert first != other_test, "another test splits the same units independently"


def test_the_point_is_the_first_eight_bytes_of_sha256_of_test_and_unit() -> None:
    digest = hashlib.sha256(b"test-id:project-9").digest()
    assert assignment.point("test-id", "project-9") == int.from_bytes(digest[:8], "big") / 2**64


def test_ten_thousand_units_follow_the_weights() -> None:
    weights = [("control", 1.0), ("treatment", 3.0)]
    counts = Counter(assignment.pick("weights", f"p{i}", weights) for i in range(10_000))
    assert 2300 <= counts["control"] <= 2700, counts
    assert counts["control"] + counts["treatment"] == 10_000


def test_a_zero_weight_variant_gets_no_units() -> None:
    weights = [("control", 1.0), ("off", 0.0), ("treatment", 1.0)]
    counts = Counter(assignment.pick("zero", f"p{i}", weights) for i in range(2000))
    assert counts["off"] == 0 and counts["control"] > 800 and counts["treatment"] > 800, counts


def test_bucket_percentiles_are_within_five_percent_of_the_exact_ones() -> None:
    rng = random.Random(5)
    latencies = sorted(rng.lognormvariate(6, 1.2) for _ in range(20_000))
    buckets = [0] * histogram.BUCKETS
    for latency in latencies:
        buckets[histogram.bucket(latency)] += 1
    for q in (0.5, 0.95, 0.99):
        exact = latencies[int(q * len(latencies)) - 1]
        estimate = histogram.quantile(buckets, q)
        assert estimate is not None and abs(estimate / exact - 1) < 0.05, (q, estimate, exact)


def test_buckets_cover_sub_millisecond_and_huge_latencies() -> None:
    assert histogram.bucket(0) == 0 and histogram.bucket(0.99) == 0
    assert histogram.bucket(1.0) == 1 and histogram.bucket(1e12) == histogram.BUCKETS - 1
    low, high = histogram.bounds(histogram.bucket(1234.5))
    assert low <= 1234.5 < high
    assert histogram.quantile([0] * histogram.BUCKETS, 0.5) is None
