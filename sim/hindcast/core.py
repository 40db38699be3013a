"""`hindcast()`: run a scenario over seeds up to the last observed year and score each mapped
series (sim.hindcast.measures) against the observed points (sim/data/history) and against the
random-walk and AR(1) benchmarks (sim.hindcast.score).

The result is one Dataset over (series, year, seed): observed and simulated values, the band over
seeds, the benchmarks' forecasts, and per series the scores; every variable has `units` and
`long_name`. All compared quantities are in % (growth rates, ratios, rates), so errors are in
percentage points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ..scenario import Scenario, ScenarioError, load_scenario
from .data import History, load_history
from .measures import BY_NAME, MEASURES, Measure, calibrated_years
from .score import score

SCORES = {  # name: (units, long_name)
    "n_years": ("year", "Years scored (observed, simulated, not calibrated)"),
    "rmse": ("%", "Root mean square error of the median over seeds, percentage points"),
    "mae": ("%", "Mean absolute error of the median over seeds, percentage points"),
    "band_hits": ("1", "Share of scored years whose observation lies within the seeds' min-max band"),
    "sign_hits": ("1", "Share of scored years with the sign of the change right (growth: its own sign)"),
    "rmse_random_walk": ("%", "RMSE of the random walk (last observed value before the year)"),
    "mae_random_walk": ("%", "MAE of the random walk"),
    "rmse_ar1": ("%", "RMSE of the AR(1) fitted on observations before the scenario's first year"),
    "mae_ar1": ("%", "MAE of the AR(1)"),
    "ar1_const": ("%", "AR(1) intercept c in y_t = c + phi y_(t-1)"),
    "ar1_phi": ("1", "AR(1) coefficient phi"),
}


def select(names: Sequence[str] | None, history: History) -> list[Measure]:
    """The measures to score: those named (an unknown name is an error naming it), else every
    measure whose series is in the history data."""
    if names is None:
        found = [m for m in MEASURES if m.series in history.annual]
        if not found:
            raise ScenarioError(history.folder, None, "none of the series the model maps onto is in these files "
                                f"({', '.join(BY_NAME)})")
        return found
    out = []
    for n in names:
        if n not in BY_NAME:
            raise ScenarioError("--series", n, f"no such series; choose from {', '.join(BY_NAME)}")
        if n not in history.annual:
            raise ScenarioError("--series", n, "this series is not in the history data (--data) as an annual series")
        out.append(BY_NAME[n])
    if not out:
        raise ScenarioError("--series", None, "name at least one series")
    return out


def first_full_year(sc: Scenario) -> int:
    y, m = (int(x) for x in sc.run.start.split("-"))
    return y if m == 1 else y + 1


def plan(scenario: str | Path | Scenario, measures: list[Measure], history: History,
         firms: int | None = None) -> tuple[Scenario, int, int]:
    """The scenario resolved to run from its start to December of the last observed year; raises a
    ScenarioError naming the file and `run.start` when no full calendar year can be compared."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, firms=firms)
    where = scenario if isinstance(scenario, str | Path) else "<scenario>"
    last = max(history.last_year(m.series) for m in measures)
    first = first_full_year(sc)
    if first > last:
        raise ScenarioError(where, "run.start", f"starts {sc.run.start}: its first full year ({first}) is after "
                            f"the last observed year ({last}), so there is nothing to compare")
    y, m = (int(x) for x in sc.run.start.split("-"))
    months = (last - y) * 12 + 13 - m
    data = sc.model_dump()
    data["run"]["months"] = months
    if firms is not None:
        data["run"]["firms"] = firms
    from ..scenario.load import validate_document

    return validate_document(data, str(where)), first, last


def hindcast(scenario: str | Path | Scenario, seeds: Sequence[int] = (0, 1), *, firms: int | None = None,
             series: Sequence[str] | None = None, data: str | Path | None = None,
             progress: Callable[[int, int], None] | None = None,
             judged: tuple[int, int] | None = None) -> xr.Dataset:
    """Run `scenario` once per seed and score it; see the module docstring. `judged` = (first, last)
    scores those years only, with the AR(1) fitted on the observations before `first` (the
    out-of-sample judgement of sim.hindcast.fit)."""
    from .. import api

    history = load_history(data)
    measures = select(series, history)
    sc, first, last = plan(scenario, measures, history, firms)
    obs_years = sorted({p.year for m in measures for p in history.series[m.series].points})
    years = list(range(min(obs_years[0], first), last + 1))
    seeds = list(seeds)
    sim = np.full((len(measures), len(years), len(seeds)), np.nan)
    for k, seed in enumerate(seeds):
        ds = api.run(sc, seed=seed, quiet=True)
        for i, m in enumerate(measures):
            for y, v in m.fn(ds).items():
                if first <= y <= last:  # the AR(1) is fitted on the years before `first`
                    sim[i, years.index(y), k] = v
        if progress is not None:
            progress(k + 1, len(seeds))
    return build(measures, history, years, seeds, sim, first, sc, firms=sc.run.firms, judged=judged)


def build(measures: list[Measure], history: History, years: list[int], seeds: list[int], sim: np.ndarray,
          first: int, sc: Scenario | None = None, firms: int | None = None,
          judged: tuple[int, int] | None = None) -> xr.Dataset:
    """The Dataset from simulated values (series, year, seed); separate from the runs so that a
    hand-made case can be scored. `judged` (first, last): only those years are scored."""
    from ..units import provenance

    obs = np.array([history.values(m.series, years) for m in measures])
    cal = sc.run.calibration if sc is not None else "2019"
    calibrated = np.array([[y in calibrated_years(m, cal) for y in years] for m in measures])
    window = np.array([judged is None or judged[0] <= y <= judged[1] for y in years])
    fit_before = first if judged is None else judged[0]
    per_year = {k: np.full((len(measures), len(years)), np.nan)
                for k in ("median", "min", "max", "in_band", "sign_hit", "random_walk", "ar1")}
    scores = {k: np.full(len(measures), np.nan) for k in SCORES}
    for i, m in enumerate(measures):
        s, arrays = score(years, obs[i], sim[i].T, history.series[m.series].kind, fit_before,
                          scored=~calibrated[i] & window)
        for k, v in arrays.items():
            per_year[k][i] = v
        for k in SCORES:
            scores[k][i] = getattr(s, k)
    S, SY, SYK = ("series",), ("series", "year"), ("series", "year", "seed")
    pct = "%"
    var = {
        "observed": (SY, obs, pct, "Observed value (sim/data/history)"),
        "simulated": (SYK, sim, pct, "Model value for the year, each seed"),
        "sim_median": (SY, per_year["median"], pct, "Median over seeds"),
        "sim_min": (SY, per_year["min"], pct, "Smallest value over seeds"),
        "sim_max": (SY, per_year["max"], pct, "Largest value over seeds"),
        "in_band": (SY, per_year["in_band"], "1", "Observation within the seeds' band (1), outside (0), "
                    "not scored (NaN)"),
        "sign_hit": (SY, per_year["sign_hit"], "1", "Sign of the change right (1), wrong (0), not scored (NaN)"),
        "random_walk": (SY, per_year["random_walk"], pct, "Random-walk forecast for a scored year"),
        "ar1": (SY, per_year["ar1"], pct, "AR(1) forecast for a scored year"),
        "calibrated": (SY, calibrated.astype(np.int8), "1", "The model's starting state was set to this "
                       "observation (1): shown, not scored"),
    }
    for k, (u, ln) in SCORES.items():
        var[k] = (S, scores[k], u, ln)
    hs = history.series
    ds = xr.Dataset(
        {k: (dims, v, {"units": u, "long_name": ln}) for k, (dims, v, u, ln) in var.items()},
        coords={"series": [m.series for m in measures], "year": years, "seed": seeds,
                "long_name_series": ("series", [hs[m.series].long_name for m in measures]),
                "group": ("series", [m.group for m in measures]),
                "kind": ("series", [hs[m.series].kind for m in measures]),
                "how": ("series", [m.how for m in measures]),
                "source": (SY, np.array([[_source(history, m.series, y) for y in years] for m in measures]))})
    ds.year.attrs.update(units="year", long_name="Calendar year")
    ds.seed.attrs.update(units="1", long_name="Seed of the run")
    name = sc.name if sc is not None else "<hand-made>"
    ds.attrs.update(provenance(f"sim hindcast of scenario {name}",
                               f"hindcast {name}: seeds {seeds}, {firms} firms, scored from {first}"))
    ds.attrs.update({"sim_output": "hindcast", "scenario": name, "first_year": first,
                     "seeds": ",".join(map(str, seeds)), "firms": firms or 0,
                     "scenario_start": sc.run.start if sc is not None else "",
                     "calibration": cal,
                     "judged_years": "" if judged is None else f"{judged[0]}-{judged[1]}",
                     "scenario_toml": _toml(sc)})
    return ds


def _source(history: History, name: str, year: int) -> str:
    for p in history.series[name].points:
        if p.year == year and p.quarter is None:
            return f"{p.source} [{p.quality}]"
    return ""


def _toml(sc: Scenario | None) -> str:
    if sc is None:
        return ""
    from ..scenario import scenario_toml

    return scenario_toml(sc)
