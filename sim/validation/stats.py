"""Statistics used by the stylized facts: pure functions of numpy arrays, each tested on synthetic
data with a known answer (tests/test_validation.py).

No statsmodels: the Hodrick-Prescott filter is a sparse solve with scipy.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve


def _clean(x) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    return x[np.isfinite(x)]


def skewness(x) -> float:
    """Sample skewness (third standardised moment; 0 for a symmetric distribution)."""
    x = _clean(x)
    if x.size < 3:
        return np.nan
    d = x - x.mean()
    s = np.sqrt(np.mean(d**2))
    return float(np.mean(d**3) / s**3) if s > 0 else np.nan


def kurtosis(x) -> float:
    """Pearson kurtosis (fourth standardised moment): 3 for a normal, 6 for a Laplace distribution."""
    x = _clean(x)
    if x.size < 4:
        return np.nan
    d = x - x.mean()
    v = np.mean(d**2)
    return float(np.mean(d**4) / v**2) if v > 0 else np.nan


def hill(x, frac: float = 0.05, k: int | None = None) -> float:
    """Hill estimator of the Pareto tail exponent alpha from the k largest positive values:
    alpha = k / sum_{i<=k} ln(x_(i) / x_(k+1)), x_(1) >= x_(2) >= ... (Hill 1975)."""
    x = _clean(x)
    x = np.sort(x[x > 0])[::-1]
    if k is None:
        k = int(frac * x.size)
    if k < 5 or k + 1 > x.size:
        return np.nan
    logs = np.log(x[:k]) - np.log(x[k])
    s = logs.sum()
    return float(k / s) if s > 0 else np.nan


def rank_size_slope(x, frac: float = 0.05) -> float:
    """Minus the OLS slope of log rank on log size over the top `frac` of positive values; an
    estimate of the Pareto exponent alpha (Zipf's law: alpha = 1). Biased in small samples; the Hill
    estimator is the one used for pass/miss."""
    x = _clean(x)
    x = np.sort(x[x > 0])[::-1]
    k = int(frac * x.size)
    if k < 5:
        return np.nan
    rank = np.arange(1, k + 1) - 0.5  # Gabaix-Ibragimov (2011) shift
    slope = np.polyfit(np.log(x[:k]), np.log(rank), 1)[0]
    return float(-slope)


def laplace_minus_normal_loglik(x) -> float:
    """Mean log-likelihood per observation of the maximum-likelihood Laplace fit minus that of the
    normal fit. Positive: the Laplace (tent-shaped, fat-tailed) distribution fits better."""
    x = _clean(x)
    if x.size < 10:
        return np.nan
    sd = x.std()
    b = np.mean(np.abs(x - np.median(x)))
    if sd <= 0 or b <= 0:
        return np.nan
    ll_normal = -0.5 * np.log(2 * np.pi * sd**2) - 0.5
    ll_laplace = -np.log(2 * b) - 1.0
    return float(ll_laplace - ll_normal)


def log_ratio_90_10(x) -> float:
    """Log of the 90th over the 10th percentile of positive values (the 90-10 gap in logs)."""
    x = _clean(x)
    x = x[x > 0]
    if x.size < 10:
        return np.nan
    p10, p90 = np.percentile(np.log(x), [10, 90])
    return float(p90 - p10)


def hp_filter(y, lamb: float = 1600.0) -> tuple[np.ndarray, np.ndarray]:
    """Hodrick-Prescott filter: the trend minimises sum (y - tau)^2 + lamb * sum (second difference
    of tau)^2, so tau = (I + lamb D'D)^{-1} y. Returns (cycle, trend). lamb = 1600 for quarterly data
    (129,600 for monthly, Ravn and Uhlig 2002)."""
    y = np.asarray(y, dtype=float)
    n = y.size
    if n < 3:
        return np.zeros(n), y.copy()
    D = sparse.diags([np.ones(n - 2), -2 * np.ones(n - 2), np.ones(n - 2)], [0, 1, 2], shape=(n - 2, n))
    A = (sparse.eye(n) + lamb * (D.T @ D)).tocsc()
    trend = spsolve(A, y)
    return y - trend, trend


def to_quarterly(x, how: str = "sum") -> np.ndarray:
    """Monthly series (length a multiple of 3 is used; a trailing part is dropped) to quarters."""
    x = np.asarray(x, dtype=float)
    n = x.size // 3 * 3
    q = x[:n].reshape(-1, 3)
    return q.sum(axis=1) if how == "sum" else q.mean(axis=1)


def corr(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3 or x.std() == 0 or y.std() == 0:
        return np.nan
    return float(np.corrcoef(x, y)[0, 1])


def autocorr(x, lag: int = 1) -> float:
    x = np.asarray(x, float)
    return corr(x[:-lag], x[lag:])


def dispersion_index(counts) -> float:
    """Variance over mean of event counts: 1 for a Poisson process, above 1 when events cluster."""
    c = _clean(counts)
    m = c.mean() if c.size else 0.0
    return float(c.var(ddof=1) / m) if c.size > 1 and m > 0 else np.nan


def hazard_ratio(exited, group_a, group_b, weight=None) -> float:
    """Exit rate of group a over exit rate of group b (boolean masks over the same firms)."""
    exited = np.asarray(exited, bool)
    w = np.ones(exited.size) if weight is None else np.asarray(weight, float)

    def rate(g):
        g = np.asarray(g, bool)
        tot = w[g].sum()
        return w[g & exited].sum() / tot if tot > 0 else np.nan

    ra, rb = rate(group_a), rate(group_b)
    if not np.isfinite(ra) or not np.isfinite(rb):
        return np.nan
    if rb == 0:
        return np.inf if ra > 0 else np.nan
    return float(ra / rb)
