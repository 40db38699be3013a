"""Scores of simulated series against observed points, and the naive benchmarks, on the same years.

Everything here works on plain arrays so that a hand-made case can be checked by hand
(tests/test_hindcast.py):

- the band: the smallest, median and largest value over seeds; a point is in the band when
  min <= observed <= max;
- errors of the median over seeds: root mean square and mean absolute error;
- the sign of each year's change: for a growth series the sign of the growth itself (did the
  quantity rise or fall); for a level or ratio, the sign of the difference from the previous year,
  where the model's previous year is its own value when it simulated that year and the observed
  value otherwise (the model starts from the observed state);
- benchmarks, forecasting each scored year from observed data only: the random walk (the last
  observed value before the year) and an AR(1), y_t = c + phi * y_(t-1), fitted by least squares on
  the observed years before `fit_before` (the scenario's first year) and iterated from the last
  observed value before the year. Both use the observed value of the previous year when there is
  one, so they are one-step-ahead forecasts; the model sees no observation after its start, which
  favours the benchmarks.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

MIN_AR1_PAIRS = 3  # consecutive-year pairs needed to fit c and phi with one degree of freedom left


@dataclass(frozen=True)
class AR1:
    const: float
    phi: float
    pairs: int

    def forecast(self, last: float, steps: int) -> float:
        v = last
        for _ in range(steps):
            v = self.const + self.phi * v
        return v


def fit_ar1(years, values, before: int) -> AR1:
    """Least-squares AR(1) on the observed (year, value) points with year < `before`; NaN
    coefficients when fewer than MIN_AR1_PAIRS consecutive-year pairs exist."""
    obs = {int(y): float(v) for y, v in zip(years, values, strict=True) if np.isfinite(v) and y < before}
    pairs = [(obs[y - 1], obs[y]) for y in sorted(obs) if y - 1 in obs]
    if len(pairs) < MIN_AR1_PAIRS:
        return AR1(float("nan"), float("nan"), len(pairs))
    x, y = np.array(pairs).T
    if np.ptp(x) == 0:
        return AR1(float("nan"), float("nan"), len(pairs))
    phi, const = np.polyfit(x, y, 1)
    return AR1(float(const), float(phi), len(pairs))


def last_before(years, values, year: int) -> tuple[int, float] | None:
    """The last observed (year, value) before `year`, or None."""
    best = None
    for y, v in zip(years, values, strict=True):
        if np.isfinite(v) and y < year and (best is None or y > best[0]):
            best = (int(y), float(v))
    return best


def benchmarks(years, observed, fit_before: int) -> tuple[np.ndarray, np.ndarray, AR1]:
    """Random-walk and AR(1) forecasts for every year of `years` (NaN where no observation precedes)."""
    ar = fit_ar1(years, observed, fit_before)
    rw = np.full(len(years), np.nan)
    ar1 = np.full(len(years), np.nan)
    for i, y in enumerate(years):
        prev = last_before(years, observed, y)
        if prev is None:
            continue
        rw[i] = prev[1]
        ar1[i] = ar.forecast(prev[1], y - prev[0])
    return rw, ar1, ar


def _err(pred, obs, mask) -> tuple[float, float]:
    ok = mask & np.isfinite(pred) & np.isfinite(obs)
    if not ok.any():
        return float("nan"), float("nan")
    e = pred[ok] - obs[ok]
    return float(np.sqrt(np.mean(e ** 2))), float(np.mean(np.abs(e)))


def sign_hits(years, observed, median, kind: str, mask) -> np.ndarray:
    """1.0 where the sign of the simulated change matches the observed one, 0.0 where not, NaN where
    the observed change is not defined (no observation for the year, or for the year before when the
    series is a level or ratio)."""
    out = np.full(len(years), np.nan)
    idx = {int(y): i for i, y in enumerate(years)}
    for i, y in enumerate(years):
        if not mask[i] or not np.isfinite(observed[i]) or not np.isfinite(median[i]):
            continue
        if kind == "growth":
            d_obs, d_sim = observed[i], median[i]
        else:
            j = idx.get(int(y) - 1)
            if j is None or not np.isfinite(observed[j]):
                continue
            prev_sim = median[j] if np.isfinite(median[j]) else observed[j]
            d_obs, d_sim = observed[i] - observed[j], median[i] - prev_sim
        out[i] = float(np.sign(d_obs) == np.sign(d_sim))
    return out


@dataclass(frozen=True)
class Scores:
    n_years: int
    rmse: float
    mae: float
    band_hits: float
    sign_hits: float
    rmse_random_walk: float
    mae_random_walk: float
    rmse_ar1: float
    mae_ar1: float
    ar1_const: float
    ar1_phi: float


def score(years, observed, simulated, kind: str, fit_before: int, scored=None):
    """Score one series. `simulated` is (seed, year); `scored` marks the years that count (default:
    every year with both an observation and a simulated value). Returns (Scores, per-year arrays:
    median, min, max, in_band, sign_hit, random_walk, ar1)."""
    years = np.asarray(years, dtype=int)
    observed = np.asarray(observed, dtype=float)
    sim = np.atleast_2d(np.asarray(simulated, dtype=float))
    has = np.isfinite(sim).any(axis=0)
    with warnings.catch_warnings():  # a year no seed simulated is NaN, without a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        med, lo, hi = np.nanmedian(sim, axis=0), np.nanmin(sim, axis=0), np.nanmax(sim, axis=0)
    mask = has & np.isfinite(observed)
    if scored is not None:
        mask &= np.asarray(scored, dtype=bool)
    in_band = np.where(mask, ((lo <= observed) & (observed <= hi)).astype(float), np.nan)
    signs = sign_hits(years, observed, med, kind, mask)
    rw, ar1, ar = benchmarks(years, observed, fit_before)
    rmse, mae = _err(med, observed, mask)
    rmse_rw, mae_rw = _err(rw, observed, mask)
    rmse_ar, mae_ar = _err(ar1, observed, mask)
    s = Scores(int(mask.sum()), rmse, mae,
               float(np.nanmean(in_band)) if mask.any() else float("nan"),
               float(np.nanmean(signs)) if np.isfinite(signs).any() else float("nan"),
               rmse_rw, mae_rw, rmse_ar, mae_ar, ar.const, ar.phi)
    return s, {"median": med, "min": lo, "max": hi, "in_band": in_band, "sign_hit": signs,
               "random_walk": np.where(mask, rw, np.nan), "ar1": np.where(mask, ar1, np.nan)}
