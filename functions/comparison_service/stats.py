"""stats holds the statistics of A/B results in pure Python (no scipy in the image).

Distributions: the normal CDF and quantile, Student's t CDF through the regularized
incomplete beta function (Lentz's continued fraction), the chi-square survival function
through the regularized incomplete gamma function. Tests: Wilson intervals, the pooled
two-proportion z-test, Welch's t-test with the Welch-Satterthwaite degrees of freedom,
the chi-square goodness-of-fit test, and the mixture SPRT's always-valid p-value
(Johari et al. 2017, "Peeking at A/B tests": normal mixing distribution N(0, tau^2)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 500


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def norm_ppf(p: float) -> float:
    """The standard normal quantile: a rational first guess refined by Halley steps."""
    if not 0.0 < p < 1.0:
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        raise ValueError(f"A probability must be in [0, 1], got {p}.")
    if p > 0.5:  # 1 - p is exact here; the lower tail keeps full relative precision
        return -norm_ppf(1.0 - p)
    # Abramowitz & Stegun 26.2.23 (error < 4.5e-4), then Halley to machine precision
    t = math.sqrt(-2.0 * math.log(p))
    x = -t + (2.515517 + 0.802853 * t + 0.010328 * t * t) / (
        1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t**3
    )
    for _ in range(4):
        error = norm_cdf(x) - p
        u = error * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
        x -= u / (1.0 + x * u / 2.0)
    return x


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), evaluated with the modified Lentz method."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, _MAX_ITER + 1):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            result *= c * d
        if abs(c * d - 1.0) < _EPS:
            break
    return result


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Student's t CDF: P(T <= t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t > 0."""
    if math.isinf(df):
        return norm_cdf(t)
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_sf(t: float, df: float) -> float:
    return t_cdf(-t, df)


def t_ppf(p: float, df: float) -> float:
    """The t quantile, in a time that does not grow with ``df``.

    From ``_EXPANSION_DF`` on, the Cornish-Fisher series (exact to ~1e-12 there); ``df`` 1
    and 2 have closed forms; in between, Newton steps on the lower tail ``t_cdf`` from the
    series' value (two or three: from df 3 on the series is already close), each kept inside
    the bracket the earlier steps proved, so a poor start (df < 3, extreme p) still
    converges. The lower tail keeps full relative precision for p near 0 and 1.
    """
    if not 0.0 < p < 1.0:
        if p in (0.0, 1.0):
            return math.copysign(math.inf, p - 0.5)
        raise ValueError(f"A probability must be in [0, 1], got {p}.")
    if p == 0.5:
        return 0.0
    if math.isinf(df) or df > 1e7:
        return norm_ppf(p)
    if df >= _EXPANSION_DF:
        return _t_ppf_expansion(norm_ppf(p), df)
    tail = min(p, 1.0 - p)  # 1 - p is exact for p > 0.5
    sign = 1.0 if p > 0.5 else -1.0
    if df == 1.0:
        return sign / math.tan(math.pi * tail)
    if df == 2.0:
        return sign * (1.0 - 2.0 * tail) / math.sqrt(2.0 * tail * (1.0 - tail))
    z = norm_ppf(tail)
    x = _t_ppf_expansion(z, df) if df >= 3.0 else z  # x < 0: the lower tail
    log_norm = math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
    low, high = -math.inf, 0.0
    for _ in range(200):
        error = t_cdf(x, df) - tail
        if error > 0:
            high = x
        else:
            low = x
        if abs(error) <= 1e-13 * tail:  # t_cdf itself is exact to a few 1e-16
            break
        density = math.exp(log_norm - (df + 1.0) / 2.0 * math.log1p(x * x / df))
        step = x - error / density
        if abs(step - x) <= 1e-14 * abs(x) or high - low <= 1e-14 * abs(x):
            x = step
            break
        if low < step < high:
            x = step
        else:
            x = (low + high) / 2.0 if math.isfinite(low) else 2.0 * min(x, -1.0)
    return -x if p > 0.5 else x


_EXPANSION_DF = 1000.0
"""From here on the Cornish-Fisher series is exact to ~1e-12; Newton steps on the
incomplete-beta CDF grow slow with df (5 ms at df 25,000, per confidence interval)."""


def _t_ppf_expansion(z: float, df: float) -> float:
    """The t quantile from the normal one (Abramowitz & Stegun 26.7.5, four terms)."""
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def gammaincc(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x)."""
    if x <= 0.0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:  # series for P(a, x)
        term = total = 1.0 / a
        for n in range(1, _MAX_ITER + 1):
            term *= x / (a + n)
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    b = x + 1.0 - a  # continued fraction for Q(a, x), modified Lentz
    c, d = 1.0 / _TINY, 1.0 / b
    result = d
    for n in range(1, _MAX_ITER + 1):
        an = -n * (n - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        result *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return math.exp(log_front) * result


def chi2_sf(x: float, df: float) -> float:
    return gammaincc(df / 2.0, x / 2.0)


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ((0, 1) when there is no trial)."""
    if n <= 0:
        return 0.0, 1.0
    z = norm_ppf(0.5 + confidence / 2.0)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class TestResult:
    statistic: float
    p_value: float
    df: float | None = None


def two_proportion_ztest(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """Two-sided pooled z-test of p1 == p2; the statistic is for p1 - p2."""
    if n1 <= 0 or n2 <= 0:
        return TestResult(0.0, 1.0)
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return TestResult(0.0, 1.0)
    z = (x1 / n1 - x2 / n2) / se
    return TestResult(z, 2.0 * norm_sf(abs(z)))


def welch_df(var1: float, n1: int, var2: float, n2: int) -> float:
    """The Welch-Satterthwaite degrees of freedom."""
    a, b = var1 / n1, var2 / n2
    denominator = a * a / (n1 - 1) + b * b / (n2 - 1)
    return (a + b) ** 2 / denominator if denominator > 0 else math.inf


def welch_ttest(
    mean1: float, var1: float, n1: int, mean2: float, var2: float, n2: int
) -> TestResult:
    """Two-sided Welch t-test of mean1 == mean2 from summary statistics (sample variances)."""
    if n1 < 2 or n2 < 2:
        return TestResult(0.0, 1.0)
    se = math.sqrt(var1 / n1 + var2 / n2)
    if se == 0.0:
        return TestResult(0.0, 1.0 if mean1 == mean2 else 0.0)
    df = welch_df(var1, n1, var2, n2)
    t = (mean1 - mean2) / se
    return TestResult(t, min(1.0, 2.0 * t_sf(abs(t), df)), df)


def chi_square_gof(observed: Sequence[float], expected: Sequence[float]) -> TestResult:
    """Pearson's goodness-of-fit test; cells expecting nothing are left out (any count
    there makes the statistic infinite)."""
    statistic, cells = 0.0, 0
    for seen, wanted in zip(observed, expected, strict=True):
        if wanted > 0:
            statistic += (seen - wanted) ** 2 / wanted
            cells += 1
        elif seen > 0:
            return TestResult(math.inf, 0.0, float(max(cells - 1, 1)))
    df = cells - 1
    if df < 1:
        return TestResult(0.0, 1.0, 0.0)
    return TestResult(statistic, chi2_sf(statistic, df), float(df))


def mean_variance(n: int, total: float, total_squares: float) -> tuple[float, float]:
    """Mean and sample variance (ddof 1) from a count, a sum and a sum of squares."""
    if n <= 0:
        return 0.0, 0.0
    mean = total / n
    if n < 2:
        return mean, 0.0
    # sums of squares cancel badly when the spread is tiny next to the mean: clamp at 0
    return mean, max(0.0, (total_squares - n * mean * mean) / (n - 1))


def msprt_p_value(difference: float, variance: float, tau2: float) -> float:
    """The mixture SPRT's p-value 1/Lambda for an estimated difference and its variance.

    Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 * d^2 / (2 V (V + tau^2))), the likelihood
    ratio of N(d; theta, V) mixed over theta ~ N(0, tau^2) against theta = 0. Lambda is a
    martingale under the null, so P(any Lambda_n >= 1/alpha) <= alpha (Ville): the running
    minimum of 1/Lambda is a p-value valid at every look.
    """
    if variance <= 0.0 or tau2 <= 0.0:
        return 1.0
    log_ratio = 0.5 * math.log(variance / (variance + tau2)) + (
        tau2 * difference * difference / (2.0 * variance * (variance + tau2))
    )
    return 1.0 if log_ratio <= 0.0 else math.exp(-log_ratio)


def difference_interval(
    difference: float, variance: float, *, df: float = math.inf, confidence: float = 0.95
) -> tuple[float, float]:
    """A symmetric interval for a difference with the given variance (t or normal)."""
    quantile = (
        t_ppf(0.5 + confidence / 2.0, df)
        if not math.isinf(df)
        else norm_ppf(0.5 + confidence / 2.0)
    )
    half = quantile * math.sqrt(max(variance, 0.0))
    return difference - half, difference + half


def lift_interval(
    treatment: float,
    treatment_var: float,
    control: float,
    control_var: float,
    *,
    confidence: float = 0.95,
) -> tuple[float, float, float] | None:
    """Relative lift (t - c) / c with a delta-method interval; None when c is 0.

    ``*_var`` are the variances of the two estimates (not of single observations).
    """
    if control == 0.0:
        return None
    lift = treatment / control - 1.0
    variance = treatment_var / control**2 + treatment**2 * control_var / control**4
    low, high = difference_interval(lift, variance, confidence=confidence)
    return lift, low, high
