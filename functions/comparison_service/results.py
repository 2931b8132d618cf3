"""results turns per-variant aggregates into A/B results: estimates, tests and a decision.

Everything here is pure: the ab-tests function reads the incrementally maintained
aggregates (counts, sums, sums of squares, latency buckets) and the running minimum of
each treatment's always-valid p-value, and this module does the arithmetic. The first
variant is the control; every other variant is compared with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from functions.comparison_service import histogram, stats

RATE_METRICS = ("acceptance_rate", "false_positive_rate")
MEAN_METRICS = ("cost_per_analysis", "latency_ms")
METRICS = RATE_METRICS + MEAN_METRICS
HIGHER_IS_BETTER = {"acceptance_rate"}
DEFAULT_RATE_TAU = 0.05
"""Mixture sd for rates: the test is most sensitive near 5 percentage points."""
DEFAULT_RELATIVE_TAU = 0.1
"""Mixture sd for means, relative to the control's mean (a 10% change)."""
SRM_THRESHOLD = 0.001


@dataclass
class Aggregate:
    """One variant's running totals (what the database keeps per variant)."""

    name: str
    version_id: str = ""
    weight: float = 1.0
    units: int = 0
    accepted: int = 0
    dismissed: int = 0
    false_positive: int = 0
    analyses: int = 0
    failed: int = 0
    cost_n: int = 0
    cost_sum: float = 0.0
    cost_sumsq: float = 0.0
    latency_n: int = 0
    latency_sum: float = 0.0
    latency_sumsq: float = 0.0
    latency_buckets: list[int] = field(default_factory=lambda: [0] * histogram.BUCKETS)

    @property
    def judged(self) -> int:
        return self.accepted + self.dismissed + self.false_positive


@dataclass(frozen=True)
class Design:
    primary_metric: str = "acceptance_rate"
    alpha: float = 0.05
    min_samples: int = 100
    max_samples: int | None = None
    tau: float | None = None
    equivalence_margin: float = 0.05
    status: str = "running"


@dataclass(frozen=True)
class Estimate:
    """A metric of one variant: value, the variance of that value, sample size, df."""

    n: int
    value: float | None
    variance: float
    sample_variance: float = 0.0


def estimate(aggregate: Aggregate, metric: str) -> Estimate:
    if metric in RATE_METRICS:
        n = aggregate.judged
        hits = aggregate.accepted if metric == "acceptance_rate" else aggregate.false_positive
        if n == 0:
            return Estimate(0, None, 0.0)
        p = hits / n
        return Estimate(n, p, p * (1.0 - p) / n, p * (1.0 - p))
    if metric == "cost_per_analysis":
        n, total, squares = aggregate.cost_n, aggregate.cost_sum, aggregate.cost_sumsq
    else:
        n, total, squares = aggregate.latency_n, aggregate.latency_sum, aggregate.latency_sumsq
    if n == 0:
        return Estimate(0, None, 0.0)
    mean, variance = stats.mean_variance(n, total, squares)
    return Estimate(n, mean, variance / n, variance)


def _interval(aggregate: Aggregate, metric: str, est: Estimate) -> list[float] | None:
    if est.value is None:
        return None
    if metric in RATE_METRICS:
        hits = aggregate.accepted if metric == "acceptance_rate" else aggregate.false_positive
        return list(stats.wilson_interval(hits, est.n))
    df = est.n - 1 if est.n > 1 else math.inf
    return list(stats.difference_interval(est.value, est.variance, df=df))


def describe_variant(aggregate: Aggregate) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for metric in METRICS:
        est = estimate(aggregate, metric)
        metrics[metric] = {
            "n": est.n,
            "value": est.value,
            "ci95": _interval(aggregate, metric, est),
        }
    buckets = aggregate.latency_buckets
    metrics["latency_ms"]["p50"] = histogram.quantile(buckets, 0.50)
    metrics["latency_ms"]["p95"] = histogram.quantile(buckets, 0.95)
    return {
        "name": aggregate.name,
        "version_id": aggregate.version_id,
        "weight": aggregate.weight,
        "units": aggregate.units,
        "counts": {
            "accepted": aggregate.accepted,
            "dismissed": aggregate.dismissed,
            "false_positive": aggregate.false_positive,
            "judged": aggregate.judged,
            "analyses": aggregate.analyses,
            "failed_analyses": aggregate.failed,
        },
        "metrics": metrics,
    }


def compare_metric(treatment: Aggregate, control: Aggregate, metric: str) -> dict[str, Any]:
    """Difference, relative lift (both with 95% CIs) and the fixed-horizon p-value."""
    t, c = estimate(treatment, metric), estimate(control, metric)
    if t.value is None or c.value is None:
        empty = ("difference", "difference_ci95", "lift", "lift_ci95", "p_value")
        return {**dict.fromkeys(empty), "test": _test_name(metric)}
    difference = t.value - c.value
    if metric in RATE_METRICS:
        hits = "accepted" if metric == "acceptance_rate" else "false_positive"
        test = stats.two_proportion_ztest(
            getattr(treatment, hits), t.n, getattr(control, hits), c.n
        )
        df = math.inf
    else:
        test = stats.welch_ttest(t.value, t.sample_variance, t.n, c.value, c.sample_variance, c.n)
        df = test.df if test.df is not None else math.inf
    lift = stats.lift_interval(t.value, t.variance, c.value, c.variance)
    interval = stats.difference_interval(difference, t.variance + c.variance, df=df)
    return {
        "difference": difference,
        "difference_ci95": list(interval),
        "lift": lift[0] if lift else None,
        "lift_ci95": [lift[1], lift[2]] if lift else None,
        "p_value": test.p_value,
        "test": _test_name(metric),
    }


def _test_name(metric: str) -> str:
    if metric in RATE_METRICS:
        return "two-proportion z-test (fixed-horizon)"
    return "Welch's t-test (fixed-horizon)"


def tau_for(design: Design, control: Estimate) -> float:
    if design.tau is not None:
        return design.tau
    if design.primary_metric in RATE_METRICS:
        return DEFAULT_RATE_TAU
    return DEFAULT_RELATIVE_TAU * abs(control.value or 0.0)


def always_valid_p(design: Design, treatment: Aggregate, control: Aggregate) -> float | None:
    """This look's mSPRT p-value on the primary metric; None until both reach min_samples."""
    t = estimate(treatment, design.primary_metric)
    c = estimate(control, design.primary_metric)
    if t.value is None or c.value is None or min(t.n, c.n) < design.min_samples:
        return None
    tau = tau_for(design, c)
    return stats.msprt_p_value(t.value - c.value, t.variance + c.variance, tau * tau)


def _better(design: Design, a: Estimate, b: Estimate) -> bool:
    """Whether ``a`` beats ``b`` on the primary metric."""
    assert a.value is not None and b.value is not None
    if design.primary_metric in HIGHER_IS_BETTER:
        return a.value > b.value
    return a.value < b.value


def sample_ratio(
    units: Sequence[int], expected: Sequence[float], names: Sequence[str]
) -> dict[str, Any]:
    """Chi-square goodness of fit of assigned units against the weights (SRM check)."""
    test = stats.chi_square_gof(units, expected)
    return {
        "observed": dict(zip(names, units, strict=True)),
        "expected": dict(zip(names, expected, strict=True)),
        "statistic": test.statistic if math.isfinite(test.statistic) else None,
        "df": test.df,
        "p_value": test.p_value,
        "threshold": SRM_THRESHOLD,
        "flagged": test.p_value < SRM_THRESHOLD,
    }


@dataclass
class Outcome:
    """The decision and the running minima to store for the next look."""

    decision: str
    winner: str | None
    reason: str
    running_p: dict[str, float]


def decide(
    design: Design, variants: Sequence[Aggregate], previous_p: Mapping[str, float]
) -> Outcome:
    """``winner`` / ``no_difference`` / ``continue`` from the always-valid p-values.

    Each treatment's always-valid p-value is the running minimum over the looks so far
    (``previous_p``) and this one, compared with ``alpha / (k - 1)`` (Bonferroni over
    the k - 1 treatments). A significant treatment better than the control wins (the
    best of them if several); the control wins when every treatment is significantly
    worse. Otherwise: ``no_difference`` when the test is stopped, or when every variant
    reached ``max_samples`` and every lift's 95% CI lies within +-equivalence_margin.
    """
    control, treatments = variants[0], list(variants[1:])
    alpha = design.alpha / max(1, len(treatments))
    running: dict[str, float] = {}
    for treatment in treatments:
        current = always_valid_p(design, treatment, control)
        previous = previous_p.get(treatment.name, 1.0)
        running[treatment.name] = previous if current is None else min(previous, current)
    c = estimate(control, design.primary_metric)
    significant = [t for t in treatments if running[t.name] < alpha]
    better = [t for t in significant if _better(design, estimate(t, design.primary_metric), c)]
    if better:
        best = better[0]
        for t in better[1:]:
            if _better(
                design, estimate(t, design.primary_metric), estimate(best, design.primary_metric)
            ):
                best = t
        reason = (
            f"'{best.name}' beats '{control.name}' on {design.primary_metric}"
            f" (always-valid p={running[best.name]:.3g} < {alpha:.3g})."
        )
        return Outcome("winner", best.name, reason, running)
    if treatments and len(significant) == len(treatments):
        reason = f"The control '{control.name}' beats every treatment on {design.primary_metric}."
        return Outcome("winner", control.name, reason, running)
    if design.status == "stopped":
        return Outcome(
            "no_difference", None, "The test was stopped without a significant winner.", running
        )
    return _at_horizon(design, control, treatments, running)


def _at_horizon(
    design: Design, control: Aggregate, treatments: list[Aggregate], running: dict[str, float]
) -> Outcome:
    if design.max_samples is None:
        return Outcome("continue", None, "No variant is significantly different yet.", running)
    sizes = [estimate(v, design.primary_metric).n for v in (control, *treatments)]
    if min(sizes) < design.max_samples:
        reason = f"Below the horizon of {design.max_samples} per variant, nothing significant yet."
        return Outcome("continue", None, reason, running)
    margin = design.equivalence_margin
    for treatment in treatments:
        ci = compare_metric(treatment, control, design.primary_metric)["lift_ci95"]
        if ci is None or ci[0] < -margin or ci[1] > margin:
            reason = (
                f"At the horizon, but the lift of '{treatment.name}' is not within +-{margin:.3g}."
            )
            return Outcome("continue", None, reason, running)
    reason = f"Every lift's 95% CI is within +-{margin:.3g} at the horizon of {design.max_samples}."
    return Outcome("no_difference", None, reason, running)


def compute(
    design: Design,
    variants: Sequence[Aggregate],
    *,
    expected_units: Sequence[float],
    previous_p: Mapping[str, float],
) -> tuple[dict[str, Any], dict[str, float]]:
    """The results document and the running p-values to keep."""
    outcome = decide(design, variants, previous_p)
    control = variants[0]
    comparisons = []
    for treatment in variants[1:]:
        comparisons.append(
            {
                "variant": treatment.name,
                "control": control.name,
                "metrics": {m: compare_metric(treatment, control, m) for m in METRICS},
                "always_valid_p": outcome.running_p[treatment.name],
            }
        )
    document = {
        "primary_metric": design.primary_metric,
        "alpha": design.alpha,
        "variants": [describe_variant(v) for v in variants],
        "comparisons": comparisons,
        "sample_ratio_mismatch": sample_ratio(
            [v.units for v in variants], expected_units, [v.name for v in variants]
        ),
        "sequential": {
            "method": "mSPRT, normal mixture (Johari et al. 2017); always-valid p = running "
            "minimum over looks; Bonferroni over treatments",
            "tau": tau_for(design, estimate(control, design.primary_metric)),
            "alpha_per_comparison": design.alpha / max(1, len(variants) - 1),
            "min_samples": design.min_samples,
            "max_samples": design.max_samples,
            "equivalence_margin": design.equivalence_margin,
        },
        "decision": outcome.decision,
        "winner": outcome.winner,
        "reason": outcome.reason,
    }
    return document, outcome.running_p
