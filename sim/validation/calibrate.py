"""Method of simulated moments over a few free parameters: re-run it when new data arrive.

    python -m sim.validation.calibrate                       # defaults below, about a minute
    python -m sim.validation.calibrate --target npl_ratio=0.02 --param behaviour.loss_months_exit=3:24 \\
        --design 16 --refine 16 --seeds 2 --out calib.json

The distance is sum_k ((m_k - e_k) / s_k)^2 over the chosen moments, where m_k is the model value
averaged over seeds (common random numbers: the same seeds at every point), e_k the empirical value
(from sim/validation/targets.py unless --target overrides it) and s_k half the width of the target's
pass band. The search is a Latin-hypercube design over the parameter box followed by a bounded
Nelder-Mead refinement from the best design point (scipy). Integer parameters are rounded.

The result (best parameters, moments, distance) is printed and optionally written as JSON; the
engine's defaults are never changed: copy the values into a scenario file to use them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import optimize
from scipy.stats import qmc

from ..scenario import Scenario
from .check import evaluate
from .collect import resolve, simulate, with_params
from .targets import BY_KEY

# free parameter: (lower, upper, log scale)
DEFAULT_PARAMS: dict[str, tuple[float, float, bool]] = {
    "sectors.*.entry_rate_scale": (0.5, 8.0, True),  # multiplies every sector's entry_rate
    "behaviour.loss_months_exit": (3, 24, False),
    "banking.pd_intercept": (-7.0, -4.0, False),
}
DEFAULT_MOMENTS = ("entry_rate", "exit_rate", "npl_ratio", "loan_rate_large", "loan_rate_sme", "utilisation")


@dataclass
class Calibration:
    params: dict[str, float]
    distance: float
    moments: dict[str, float]
    targets: dict[str, float]
    scales: dict[str, float]
    start_distance: float
    start_moments: dict[str, float]
    evaluations: int
    seconds: float
    history: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        d = {k: v for k, v in self.__dict__.items()}
        return json.dumps(d, indent=2, default=float)


def _moments(sc: Scenario, seeds: Sequence[int], keys: Sequence[str]) -> dict[str, float]:
    targets = [BY_KEY[k] for k in keys]
    vals = evaluate([simulate(sc, s) for s in seeds], targets)
    with np.errstate(all="ignore"):
        return {
            k: float(np.nanmean(v)) if np.isfinite(v).any() else np.nan
            for k, v in zip(keys, vals, strict=True)
        }


def distance(moments: dict[str, float], targets: dict[str, float], scales: dict[str, float]) -> float:
    d = 0.0
    for k, e in targets.items():
        m = moments[k]
        d += ((m - e) / scales[k]) ** 2 if np.isfinite(m) else 1e6
    return float(d)


def calibrate(
    scenario: Scenario | str | Path = "scenarios/baseline.toml",
    *,
    params: dict[str, tuple[float, float, bool]] | None = None,
    moments: Sequence[str] = DEFAULT_MOMENTS,
    target_values: dict[str, float] | None = None,
    seeds: Sequence[int] = (0, 1),
    firms: int = 5000,
    months: int = 72,
    design: int = 12,
    refine: int = 12,
    rng_seed: int = 0,
    verbose: bool = True,
) -> Calibration:
    """Fit `params` (key path -> (lo, hi, log)) to `moments` by simulated moments. Returns the best
    point found within `design` + `refine` evaluations."""
    t0 = time.perf_counter()
    params = dict(DEFAULT_PARAMS if params is None else params)
    keys = list(params)
    sc0 = resolve(scenario, firms=firms, months=months)
    targets = {k: float(BY_KEY[k].empirical_value) for k in moments}
    targets.update(target_values or {})
    scales = {k: (BY_KEY[k].hi - BY_KEY[k].lo) / 2 for k in moments}
    for k, s in scales.items():
        if not np.isfinite(s) or s <= 0:
            raise ValueError(f"moment {k!r} has no finite band; it cannot be a calibration moment")
    lo = np.array([params[k][0] for k in keys], float)
    hi = np.array([params[k][1] for k in keys], float)
    logs = np.array([params[k][2] for k in keys], bool)

    def to_params(u: np.ndarray) -> dict[str, float]:
        u = np.clip(u, 0, 1)
        x = np.where(
            logs,
            np.exp(
                np.log(np.where(logs, lo, 1))
                + u * (np.log(np.where(logs, hi, 1)) - np.log(np.where(logs, lo, 1)))
            ),
            lo + u * (hi - lo),
        )
        return {k: float(v) for k, v in zip(keys, x, strict=False)}

    history: list[dict] = []
    cache: dict[tuple, float] = {}

    def f(u: np.ndarray) -> float:
        p = to_params(u)
        sc = with_params(sc0, p)
        p = {k: (v if k.startswith("sectors.*") else _get(sc, k)) for k, v in p.items()}  # integers rounded
        key = tuple(repr(_get(sc, k)) for k in keys)  # rounding of integers makes points coincide
        if key in cache:
            return cache[key]
        m = _moments(sc, seeds, moments)
        d = distance(m, targets, scales)
        cache[key] = d
        history.append({"params": p, "moments": m, "distance": d})
        if verbose:
            ps = ", ".join(f"{k.split('.')[-1]}={v:.3g}" for k, v in p.items())
            print(f"[{len(history):3d}] distance {d:10.3f}  {ps}", file=sys.stderr)
        return d

    start_m = _moments(sc0, seeds, moments)
    start_d = distance(start_m, targets, scales)
    if verbose:
        print(f"[  0] distance {start_d:10.3f}  (the scenario as it is)", file=sys.stderr)
    pts = (
        qmc.LatinHypercube(d=len(keys), seed=rng_seed).random(design)
        if design > 0
        else np.empty((0, len(keys)))
    )
    vals = [f(u) for u in pts]
    best_u = pts[int(np.argmin(vals))] if len(vals) else np.full(len(keys), 0.5)
    if refine > 0:
        res = optimize.minimize(
            f,
            best_u,
            method="Nelder-Mead",
            bounds=[(0, 1)] * len(keys),
            options={
                "maxfev": refine,
                "xatol": 1e-3,
                "fatol": 1e-3,
                "initial_simplex": _simplex(best_u, 0.15),
            },
        )
        best_u = res.x if res.fun <= min(vals, default=np.inf) else best_u
    best = (
        min(history, key=lambda h: h["distance"])
        if history
        else {"params": {}, "moments": start_m, "distance": start_d}
    )
    return Calibration(
        params=best["params"],
        distance=best["distance"],
        moments=best["moments"],
        targets=targets,
        scales=scales,
        start_distance=start_d,
        start_moments=start_m,
        evaluations=len(history),
        seconds=round(time.perf_counter() - t0, 1),
        history=history,
    )


def _get(sc: Scenario, key: str):
    """The value a parameter key resolves to in `sc` (for the evaluation cache)."""
    parts = key.split(".")
    if parts[0] == "sectors" and parts[1] == "*":
        name = parts[2].removesuffix("_scale")
        return sum(getattr(s, name) for s in sc.sectors.values())
    node = sc
    for p in parts:
        node = getattr(node, p)
    return node


def _simplex(u: np.ndarray, step: float) -> np.ndarray:
    pts = [u]
    for i in range(u.size):
        v = u.copy()
        v[i] = v[i] + step if v[i] + step <= 1 else v[i] - step
        pts.append(v)
    return np.array(pts)


def _parse_kv(items: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for it in items:
        if "=" not in it:
            raise SystemExit(f"error: --{what} {it!r}: expected KEY=VALUE")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m sim.validation.calibrate", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("scenario", nargs="?", default="scenarios/baseline.toml")
    ap.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=LO:HI[:log]",
        help="free parameter and its box (repeatable; replaces the defaults)",
    )
    ap.add_argument(
        "--moment",
        action="append",
        default=[],
        metavar="TARGET",
        help=f"target key to match (repeatable; default {', '.join(DEFAULT_MOMENTS)})",
    )
    ap.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="TARGET=VALUE",
        help="new empirical value for a moment (e.g. npl_ratio=0.02)",
    )
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--firms", type=int, default=5000)
    ap.add_argument("--months", type=int, default=72)
    ap.add_argument("--design", type=int, default=12, help="Latin-hypercube points")
    ap.add_argument("--refine", type=int, default=12, help="Nelder-Mead evaluations after the design")
    ap.add_argument("--out", type=Path, default=None, help="write the result as JSON")
    a = ap.parse_args(argv)
    params = None
    if a.param:
        params = {}
        for k, v in _parse_kv(a.param, "param").items():
            parts = v.split(":")
            params[k] = (float(parts[0]), float(parts[1]), len(parts) > 2 and parts[2] == "log")
    moments = tuple(a.moment) or DEFAULT_MOMENTS
    for m in moments:
        if m not in BY_KEY:
            raise SystemExit(f"error: unknown target {m!r}; known: {', '.join(BY_KEY)}")
    tv = {k: float(v) for k, v in _parse_kv(a.target, "target").items()}
    res = calibrate(
        a.scenario,
        params=params,
        moments=moments,
        target_values=tv,
        seeds=range(a.seeds),
        firms=a.firms,
        months=a.months,
        design=a.design,
        refine=a.refine,
    )
    print(
        f"distance {res.start_distance:.3f} (scenario as is) -> {res.distance:.3f} "
        f"(best of {res.evaluations} points, {res.seconds:.0f} s)"
    )
    print("best parameters:")
    for k, v in res.params.items():
        print(f"  {k} = {v:.4g}")
    print(f"{'moment':<22}{'target':>10}{'start':>10}{'best':>10}")
    for k in res.targets:
        print(f"{k:<22}{res.targets[k]:>10.4f}{res.start_moments[k]:>10.4f}{res.moments[k]:>10.4f}")
    if a.out:
        a.out.write_text(res.to_json())
        print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
