"""stats: every formula checked against scipy.stats and statsmodels on random inputs."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats as sp
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from functions.comparison_service import stats

RANDOM = random.Random(20240611)
DFS = [1, 2, 3, 4.5, 7, 12, 30, 99.5, 500, 5000]


def close(ours: float, theirs: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=abs_)


@pytest.mark.parametrize("x", [RANDOM.uniform(-9, 9) for _ in range(200)])
def test_normal_cdf_and_survival_match_scipy(x: float) -> None:
    assert close(stats.norm_cdf(x), sp.norm.cdf(x)), x
    assert close(stats.norm_sf(x), sp.norm.sf(x)), x


@pytest.mark.parametrize(
    "p", [*(RANDOM.random() for _ in range(200)), 1e-12, 1e-6, 0.975, 1 - 1e-9]
)
def test_normal_quantile_matches_scipy(p: float) -> None:
    assert close(stats.norm_ppf(p), sp.norm.ppf(p), rel=1e-10, abs_=1e-10), p


@pytest.mark.parametrize("df", DFS)
def test_t_cdf_and_quantile_match_scipy(df: float) -> None:
    for _ in range(60):
        t = RANDOM.uniform(-12, 12)
        assert close(stats.t_cdf(t, df), sp.t.cdf(t, df), rel=1e-9, abs_=1e-13), (t, df)
        p = RANDOM.uniform(0.001, 0.999)
        assert close(stats.t_ppf(p, df), sp.t.ppf(p, df), rel=1e-7, abs_=1e-9), (p, df)


def test_incomplete_beta_matches_scipy() -> None:
    from scipy.special import betainc

    for _ in range(300):
        a, b, x = RANDOM.uniform(0.1, 80), RANDOM.uniform(0.1, 80), RANDOM.random()
        assert close(stats.betainc(a, b, x), betainc(a, b, x), rel=1e-9, abs_=1e-13), (a, b, x)


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 20, 60])
def test_chi_square_survival_matches_scipy(df: int) -> None:
    for _ in range(60):
        x = RANDOM.uniform(0, 4 * df + 40)
        assert close(stats.chi2_sf(x, df), sp.chi2.sf(x, df), rel=1e-9, abs_=1e-14), (x, df)


def test_wilson_interval_matches_statsmodels() -> None:
    for _ in range(300):
        n = RANDOM.randint(1, 5000)
        k = RANDOM.randint(0, n)
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        ours = stats.wilson_interval(k, n)
        assert close(ours[0], low, abs_=1e-12) and close(ours[1], high, abs_=1e-12), (k, n)


def test_two_proportion_ztest_matches_statsmodels() -> None:
    for _ in range(300):
        n1, n2 = RANDOM.randint(5, 5000), RANDOM.randint(5, 5000)
        x1, x2 = RANDOM.randint(1, n1 - 1), RANDOM.randint(1, n2 - 1)
        z, p = proportions_ztest([x1, x2], [n1, n2])
        ours = stats.two_proportion_ztest(x1, n1, x2, n2)
        assert close(ours.statistic, z) and close(ours.p_value, p, abs_=1e-14), (x1, n1, x2, n2)


def test_welch_ttest_from_summaries_matches_scipy_on_raw_samples() -> None:
    rng = np.random.default_rng(7)
    for _ in range(150):
        a = rng.normal(rng.uniform(0, 5), rng.uniform(0.1, 3), rng.integers(2, 400))
        b = rng.normal(rng.uniform(0, 5), rng.uniform(0.1, 3), rng.integers(2, 400))
        expected = sp.ttest_ind(a, b, equal_var=False)
        n1, n2 = len(a), len(b)
        m1, v1 = stats.mean_variance(n1, float(a.sum()), float((a * a).sum()))
        m2, v2 = stats.mean_variance(n2, float(b.sum()), float((b * b).sum()))
        ours = stats.welch_ttest(m1, v1, n1, m2, v2, n2)
        assert close(ours.statistic, expected.statistic, rel=1e-7), (n1, n2)
        assert close(ours.p_value, expected.pvalue, rel=1e-6, abs_=1e-12), (n1, n2)
        assert ours.df is not None and close(ours.df, expected.df, rel=1e-7)


def test_chi_square_goodness_of_fit_matches_scipy() -> None:
    for _ in range(100):
        k = RANDOM.randint(2, 6)
        observed = [RANDOM.randint(0, 3000) for _ in range(k)]
        weights = [RANDOM.uniform(0.1, 3) for _ in range(k)]
        total = sum(observed)
        expected = [total * w / sum(weights) for w in weights]
        statistic, p = sp.chisquare(observed, expected)
        ours = stats.chi_square_gof(observed, expected)
        assert close(ours.statistic, statistic, rel=1e-9) and close(ours.p_value, p, abs_=1e-14)


def test_mean_interval_is_the_t_interval_of_scipy() -> None:
    rng = np.random.default_rng(11)
    sample = rng.exponential(0.02, 57)
    mean, variance = stats.mean_variance(57, float(sample.sum()), float((sample**2).sum()))
    ours = stats.difference_interval(mean, variance / 57, df=56)
    theirs = sp.t.interval(0.95, 56, loc=sample.mean(), scale=sp.sem(sample))
    assert close(ours[0], theirs[0], rel=1e-8) and close(ours[1], theirs[1], rel=1e-8)


def test_msprt_p_value_is_one_over_the_mixture_likelihood_ratio() -> None:
    """Lambda = integral of N(d; theta, V) N(theta; 0, tau^2) dtheta / N(d; 0, V)."""
    from scipy.integrate import quad

    for difference, variance, tau2 in [
        (0.03, 1e-4, 0.0025),
        (-0.08, 4e-4, 0.01),
        (0.01, 1e-3, 0.0025),
    ]:
        sd = math.sqrt(variance)
        mixed, _ = quad(
            lambda theta, d=difference, s=sd, t2=tau2: (
                sp.norm.pdf(d, theta, s) * sp.norm.pdf(theta, 0, math.sqrt(t2))
            ),
            -1,
            1,
            points=[0.0, difference],
        )
        ratio = mixed / sp.norm.pdf(difference, 0, sd)
        assert close(stats.msprt_p_value(difference, variance, tau2), min(1.0, 1 / ratio), rel=1e-6)


def test_lift_interval_uses_the_delta_method() -> None:
    lift, low, high = stats.lift_interval(0.46, 0.0001, 0.40, 0.0001) or (0, 0, 0)
    sd = math.sqrt(0.0001 / 0.16 + 0.46**2 * 0.0001 / 0.40**4)
    assert close(lift, 0.15) and close(high - lift, 1.959963984540054 * sd, rel=1e-9)
    assert stats.lift_interval(0.1, 0.01, 0.0, 0.01) is None, "no lift against a zero control"


@pytest.mark.parametrize("df", [1000.0, 1500.0, 25_000.0, 1e6])
def test_the_t_quantile_at_large_degrees_of_freedom_matches_scipy(df: float) -> None:
    from scipy import stats as reference

    for p in (0.001, 0.025, 0.5, 0.9, 0.975, 0.9999):
        ours, theirs = stats.t_ppf(p, df), float(reference.t.ppf(p, df))
        assert abs(ours - theirs) < 1e-10, (p, df, ours, theirs)


@pytest.mark.parametrize("df", [1.0, 1.3, 2.0, 2.5, 3.0, 4.5, 12.0, 99.5, 999.0, 1000.0, 1e5])
def test_the_t_quantile_keeps_its_precision_in_the_tails(df: float) -> None:
    from scipy import stats as reference

    for p in (1e-12, 1e-9, 1e-6, 0.3, 0.7, 1 - 1e-6, 1 - 1e-9):
        ours, theirs = stats.t_ppf(p, df), float(reference.t.ppf(p, df))
        assert close(ours, theirs, rel=1e-9), (p, df, ours, theirs)


def test_the_t_quantile_costs_the_same_at_every_degree_of_freedom(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its cost is its t_cdf evaluations (each a bounded continued fraction): a handful of
    Newton steps from the series below 1,000 degrees of freedom, none above; the A/B
    results call it for each metric's interval, with df growing with the events."""
    calls: list[float] = []
    t_cdf = stats.t_cdf

    def counted(t: float, df: float) -> float:
        calls.append(df)
        return t_cdf(t, df)

    monkeypatch.setattr(stats, "t_cdf", counted)
    most = {}
    for df in (3.0, 7.0, 30.0, 120.0, 500.0, 999.0, 1e3, 1e4, 1e6, 1e9):
        before = len(calls)
        for p in (0.9, 0.95, 0.975, 0.995, 0.9995):
            stats.t_ppf(p, df)
        most[df] = (len(calls) - before) / 5
    assert max(most.values()) <= 4, most
    assert all(most[df] == 0 for df in (1e3, 1e4, 1e6, 1e9)), most
    assert stats.t_ppf(0.975, 1.0) == pytest.approx(12.706204736174698, rel=1e-12)
    assert stats.t_ppf(0.5, 7.0) == 0.0 and stats.t_ppf(1.0, 7.0) == math.inf
    with pytest.raises(ValueError, match="probability"):
        stats.t_ppf(1.5, 7.0)
