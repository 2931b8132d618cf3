"""results: the decision under simulation (A/A false winners, a known winner) and its shape."""

from __future__ import annotations

import random

from functions.comparison_service import assignment, histogram
from functions.comparison_service import results as analysis

LOOK_EVERY = 100


def simulate(
    seed: int, rates: tuple[float, float], *, units: int, design: analysis.Design
) -> tuple[str | None, int]:
    """Units split by the real hash; each yields one judged finding; look every 100 units.

    Returns the declared winner (None if none by ``units``) and the units seen then.
    """
    rng = random.Random(seed)
    variants = [analysis.Aggregate("control"), analysis.Aggregate("treatment")]
    weights = [("control", 1.0), ("treatment", 1.0)]
    running: dict[str, float] = {}
    for unit in range(1, units + 1):
        name = assignment.pick(f"sim-{seed}", f"project-{unit}", weights)
        index = 0 if name == "control" else 1
        variant = variants[index]
        variant.units += 1
        if rng.random() < rates[index]:
            variant.accepted += 1
        else:
            variant.dismissed += 1
        if unit % LOOK_EVERY == 0:
            outcome = analysis.decide(design, variants, running)
            running = outcome.running_p
            if outcome.decision == "winner":
                return outcome.winner, unit
    return None, units


def test_aa_tests_checked_after_every_100_units_rarely_declare_a_winner() -> None:
    design = analysis.Design(alpha=0.05, min_samples=100)
    false_winners = [
        seed
        for seed in range(200)
        if simulate(seed, (0.40, 0.40), units=5000, design=design)[0] is not None
    ]
    assert len(false_winners) <= 0.05 * 200, (
        f"{len(false_winners)} of 200 A/A tests: {false_winners}"
    )


def test_naive_peeking_at_the_fixed_horizon_p_value_would_declare_more_false_winners() -> None:
    """Why the decision is sequential: the z-test's p < 0.05 at any of the 50 looks."""
    naive = 0
    for seed in range(200):
        rng = random.Random(seed)
        counts = [[0, 0], [0, 0]]
        for unit in range(1, 5001):
            arm = (
                0
                if assignment.pick(f"sim-{seed}", f"project-{unit}", [("a", 1), ("b", 1)]) == "a"
                else 1
            )
            counts[arm][0] += rng.random() < 0.40
            counts[arm][1] += 1
            if unit % LOOK_EVERY == 0 and min(counts[0][1], counts[1][1]) >= 100:
                from functions.comparison_service import stats

                if stats.two_proportion_ztest(*counts[0], *counts[1]).p_value < 0.05:
                    naive += 1
                    break
    assert naive > 0.05 * 200, f"naive peeking declared {naive} of 200 (expected well over 10)"


def test_a_known_better_variant_is_declared_the_winner() -> None:
    design = analysis.Design(alpha=0.05, min_samples=100)
    outcomes = [
        simulate(1000 + seed, (0.40, 0.46), units=30_000, design=design) for seed in range(20)
    ]
    winners = [winner for winner, _ in outcomes]
    assert winners == ["treatment"] * 20, outcomes


def test_a_lower_false_positive_rate_wins_that_metric() -> None:
    design = analysis.Design(primary_metric="false_positive_rate", min_samples=50)
    control = analysis.Aggregate("control", accepted=500, false_positive=500)
    treatment = analysis.Aggregate("treatment", accepted=700, false_positive=300)
    outcome = analysis.decide(design, [control, treatment], {})
    assert (outcome.decision, outcome.winner) == ("winner", "treatment"), outcome


def test_a_stopped_test_without_a_winner_is_no_difference() -> None:
    control = analysis.Aggregate("control", accepted=50, dismissed=50)
    treatment = analysis.Aggregate("treatment", accepted=51, dismissed=49)
    running = analysis.decide(analysis.Design(min_samples=10), [control, treatment], {})
    stopped = analysis.decide(
        analysis.Design(min_samples=10, status="stopped"), [control, treatment], {}
    )
    assert running.decision == "continue" and stopped.decision == "no_difference", (
        running,
        stopped,
    )


def test_the_horizon_declares_no_difference_only_when_the_lift_is_within_the_margin() -> None:
    design = analysis.Design(min_samples=100, max_samples=20_000, equivalence_margin=0.05)
    tight = [
        analysis.Aggregate("c", accepted=8000, dismissed=12000),
        analysis.Aggregate("t", accepted=8010, dismissed=11990),
    ]
    wide = [
        analysis.Aggregate("c", accepted=8000, dismissed=12000),
        analysis.Aggregate("t", accepted=8000, dismissed=12000),
    ]
    design_wide = analysis.Design(min_samples=100, max_samples=20_000, equivalence_margin=0.01)
    assert analysis.decide(design, tight, {}).decision == "no_difference"
    assert analysis.decide(design_wide, wide, {}).decision == "continue"


def test_the_always_valid_p_value_never_rises_between_looks() -> None:
    design = analysis.Design(min_samples=10)
    control = analysis.Aggregate("control", accepted=40, dismissed=60)
    treatment = analysis.Aggregate("treatment", accepted=60, dismissed=40)
    first = analysis.decide(design, [control, treatment], {})
    treatment.accepted, treatment.dismissed = 41, 59
    second = analysis.decide(design, [control, treatment], first.running_p)
    assert second.running_p["treatment"] == first.running_p["treatment"] < 1.0


def test_results_document_carries_every_metric_with_intervals_and_the_srm_check() -> None:
    buckets = [0] * histogram.BUCKETS
    for latency in (100, 200, 300, 400, 500):
        buckets[histogram.bucket(latency)] += 1
    control = analysis.Aggregate(
        "control",
        units=1000,
        accepted=400,
        dismissed=500,
        false_positive=100,
        cost_n=5,
        cost_sum=0.5,
        cost_sumsq=0.06,
        latency_n=5,
        latency_sum=1500,
        latency_sumsq=550_000,
        latency_buckets=buckets,
    )
    treatment = analysis.Aggregate(
        "treatment", units=600, accepted=460, dismissed=440, false_positive=100
    )
    document, _ = analysis.compute(
        analysis.Design(), [control, treatment], expected_units=[800, 800], previous_p={}
    )
    metrics = document["variants"][0]["metrics"]
    assert metrics["acceptance_rate"]["n"] == 1000 and metrics["acceptance_rate"]["value"] == 0.4
    low, high = metrics["acceptance_rate"]["ci95"]
    assert low < 0.4 < high
    assert metrics["cost_per_analysis"]["value"] == 0.1 and metrics["latency_ms"]["value"] == 300
    assert 280 <= metrics["latency_ms"]["p50"] <= 320, metrics["latency_ms"]
    comparison = document["comparisons"][0]["metrics"]
    assert comparison["acceptance_rate"]["lift"] is not None
    assert comparison["cost_per_analysis"]["p_value"] is None, "no cost data for the treatment"
    assert document["sample_ratio_mismatch"]["flagged"] is True, document["sample_ratio_mismatch"]
    assert document["decision"] in {"continue", "winner", "no_difference"}
