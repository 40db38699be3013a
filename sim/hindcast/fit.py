"""Estimation on the history, judged out of sample (issue 21 part 5).

A few behavioural parameters that no source pins (marked "assumption" in the scenario schema) are
estimated from the run from 2016 on the observed years up to `until` (2018) and judged on the years
after it (2019-2020) only:

- **What the estimation sees.** `observations_until(history, until)` drops every observed point
  after `until`; the targets, the scales and so the loss are built from that view alone, and the
  runs of the estimation end in December of `until`. No observation after `until` can move an
  estimate (tests/test_hindcast_fit.py replaces them all and gets the same estimate).
- **The loss.** For each fitted series i and each fitted year t (observed, simulated, and not a year
  the starting state was set to), the error of the mean over seeds, standardised by the series'
  scale s_i: the root mean square of the observed one-year changes up to `until` (the random walk's
  one-step error, at least SCALE_FLOOR pp). The loss is the mean over series of the mean over years
  of ((model - observed) / s_i)^2, so every series weighs the same whatever its number of years,
  and a loss of 1 is an error of the size of a year's typical change.
- **The search.** The defaults, then a scrambled Sobol design of `design` points in the box of each
  parameter's bounds (scipy.stats.qmc, seeded), then `refine` rounds of a compass search around the
  best point (each parameter up and down by a step that halves each round). Every candidate runs
  on the same seeds (common random numbers), so differences between candidates are not noise of
  the draws.
- **The judgement.** The estimates and the defaults are each run over fresh seeds (not those of the
  estimation) from the scenario's start to the last observed year and scored on the years after
  `until` only (`hindcast(..., judged=...)`), beside the random walk and an AR(1) fitted on the
  observations up to `until`.

`sim hindcast-fit` (sim/hindcast/cli.py) and `python -m sim.hindcast.page` call `fit()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..scenario import Scenario, ScenarioError, load_scenario
from .data import History, load_history
from .measures import Measure, calibrated_years

FIT_UNTIL = 2018
SCALE_FLOOR = 0.5  # pp: a series that hardly moved would otherwise weigh without limit
# the series the loss is built from: those the behavioural parameters below act on. Left out, with
# the reason: the NPL ratio (the model's counter starts at zero while the observed ratio is a stock
# of past defaults), inclusive SME loans (a lending target, itself a policy, and only 2018 observed
# before 2019), VAT revenue (observed VAT includes services and the 2016 reform of the business
# tax); sector series with no observation up to 2018 carry no weight anyway.
FIT_SERIES = ("utilisation_industry", "industrial_va_growth", "industrial_profit_growth", "profit_to_revenue",
              "ppi", "crude_steel_output_growth")


@dataclass(frozen=True)
class Param:
    name: str    # a dotted key of the scenario, e.g. behaviour.expectation_speed
    lo: float
    hi: float
    why: str = ""


# the parameters estimated by default: behavioural assumptions (docs/scenario-reference.md) that act
# on prices and margins (the markup's response to utilisation) and on output and capacity (how fast
# firms revise expected orders and how much of the capacity gap a month's projects close)
PARAMS = (
    Param("behaviour.markup_utilisation_response", 0.0, 1.5, "prices and margins as utilisation moves"),
    Param("behaviour.expectation_speed", 0.03, 0.6, "how fast firms revise the orders they expect"),
    Param("behaviour.investment_adjustment", 0.01, 0.5, "share of the capacity gap closed each month"),
)

Simulator = Callable[[dict[str, float], int], dict[str, dict[int, float]]]


def observations_until(history: History, until: int) -> History:
    """The history with every point after `until` removed (a series left without points is dropped):
    the only view of the data the estimation gets."""
    series = {}
    for name, s in history.series.items():
        pts = [p for p in s.points if p.year <= until]
        if pts:
            series[name] = s.model_copy(update={"points": pts})
    return History(series, {n: f for n, f in history.files.items() if n in series}, history.missing,
                   history.folder)


def scale(history: History, name: str) -> float:
    """Root mean square of the observed one-year changes of an annual series (every point of
    `history`, so pass the truncated view), at least SCALE_FLOOR; SCALE_FLOOR without a pair."""
    obs = {p.year: p.value for p in history.series[name].points if p.quarter is None}
    d = [obs[y] - obs[y - 1] for y in obs if y - 1 in obs]
    return max(SCALE_FLOOR, float(np.sqrt(np.mean(np.square(d))))) if d else SCALE_FLOOR


@dataclass(frozen=True)
class Targets:
    """What the loss compares with: observed values by series and year, and each series' scale."""

    observed: dict[str, dict[int, float]]
    scales: dict[str, float]
    until: int

    @property
    def years(self) -> list[int]:
        return sorted({y for v in self.observed.values() for y in v})


def targets(history: History, measures: Sequence[Measure], first: int, until: int,
            calibration: str = "2019") -> Targets:
    """The fitted points: years first..until of each measure's series, observed and not calibrated,
    read from `observations_until(history, until)` only."""
    seen = observations_until(history, until)
    obs, scales = {}, {}
    for m in measures:
        if m.series not in seen.series:
            continue
        cal = calibrated_years(m, calibration)
        pts = {p.year: p.value for p in seen.series[m.series].points
               if p.quarter is None and first <= p.year <= until and p.year not in cal}
        if pts:
            obs[m.series], scales[m.series] = pts, scale(seen, m.series)
    if not obs:
        raise ScenarioError("--fit-until", str(until), f"no observation of the fitted series in {first}-{until}")
    return Targets(obs, scales, until)


def simulated_only(t: Targets, sims: Sequence[dict[str, dict[int, float]]]) -> Targets:
    """`t` without the points a run cannot give (a flow's growth in the run's first year has no year
    before it), judged from the runs at the defaults: a point stays when every seed simulated it."""
    obs = {n: {y: v for y, v in pts.items() if all(np.isfinite(s.get(n, {}).get(y, np.nan)) for s in sims)}
           for n, pts in t.observed.items()}
    obs = {n: pts for n, pts in obs.items() if pts}
    if not obs:
        raise ScenarioError("--fit-until", str(t.until), "the runs simulate none of the fitted points")
    return Targets(obs, {n: t.scales[n] for n in obs}, t.until)


def loss(sims: Sequence[dict[str, dict[int, float]]], t: Targets) -> float:
    """Mean over series of the mean over fitted years of the squared standardised error of the mean
    over seeds (`sims`: one {series: {year: value}} per seed). A fitted point the model did not
    simulate counts as a miss of 10 scales, so a run that breaks down is never the best."""
    per_series = []
    for name, obs in t.observed.items():
        errs = []
        for y, v in obs.items():
            vals = [s[name][y] for s in sims if name in s and y in s[name] and np.isfinite(s[name][y])]
            errs.append(((np.mean(vals) - v) / t.scales[name]) ** 2 if vals else 100.0)
        per_series.append(np.mean(errs))
    return float(np.mean(per_series))


@dataclass
class Search:
    """Every candidate evaluated (values in PARAMS order, loss, stage), the best first after `best()`."""

    names: list[str]
    rows: list[tuple[tuple[float, ...], float, str]] = field(default_factory=list)

    def best(self) -> tuple[tuple[float, ...], float]:
        v, f, _ = min(self.rows, key=lambda r: r[1])
        return v, f


def search(objective: Callable[[dict[str, float]], float], params: Sequence[Param], defaults: dict[str, float],
           design: int = 16, refine: int = 2, rng_seed: int = 0) -> Search:
    """Minimise `objective` over the box of `params`: the defaults, a scrambled Sobol design of
    `design` points (seed `rng_seed`), then `refine` rounds of compass search from the best point
    (step a quarter of each range, halved each round; a move is taken only if it lowers the loss)."""
    from scipy.stats import qmc

    names = [p.name for p in params]
    lo, hi = np.array([p.lo for p in params]), np.array([p.hi for p in params])
    out = Search(names)
    cache: dict[tuple[float, ...], float] = {}

    def ev(x, stage: str) -> float:
        key = tuple(round(float(v), 10) for v in x)
        if key not in cache:
            cache[key] = float(objective(dict(zip(names, key, strict=True))))
            out.rows.append((key, cache[key], stage))
        return cache[key]

    ev([defaults[n] for n in names], "defaults")
    if design > 0:
        pts = qmc.Sobol(len(params), scramble=True, seed=rng_seed).random(design)
        for x in qmc.scale(pts, lo, hi):
            ev(x, "design")
    x, f = (np.array(v) for v in out.best())
    step = (hi - lo) / 4
    for r in range(refine):
        for i in range(len(params)):
            for sgn in (1, -1):
                y = x.copy()
                y[i] = np.clip(y[i] + sgn * step[i], lo[i], hi[i])
                fy = ev(y, f"refine {r + 1}")
                if fy < f:
                    x, f = y, fy
        step = step / 2
    return out


def with_params(sc: Scenario, values: dict[str, float], where: str = "<fit>") -> Scenario:
    """The scenario with dotted keys set (validated, so a value out of its bounds is an error)."""
    from ..scenario.load import validate_document

    data = sc.model_dump()
    for name, v in values.items():
        node = data
        *path, last = name.split(".")
        for p in path:
            node = node[p]
        node[last] = v if isinstance(v, int) and not isinstance(v, bool) else float(v)
    return validate_document(data, where)


def model_simulator(sc: Scenario, measures: Sequence[Measure], until: int) -> Simulator:
    """Runs of `sc` from its start to December of `until` (nothing after it is simulated), each
    turned into {series: {year: value}}."""
    from .. import api

    y, m = (int(x) for x in sc.run.start.split("-"))
    months = (until - y) * 12 + 13 - m
    data = sc.model_dump()
    data["run"]["months"] = months
    from ..scenario.load import validate_document

    base = validate_document(data, "<fit>")

    def simulate(values: dict[str, float], seed: int) -> dict[str, dict[int, float]]:
        ds = api.run(with_params(base, values), seed=seed, quiet=True)
        return {mm.series: {yy: v for yy, v in mm.fn(ds).items() if yy <= until} for mm in measures}

    return simulate


@dataclass
class Estimate:
    params: list[Param]
    defaults: dict[str, float]
    values: dict[str, float]
    loss: float
    loss_defaults: float
    search: Search
    targets: Targets
    seeds: list[int]
    design: int
    refine: int
    rng_seed: int
    seconds: float = 0.0


def estimate(simulate: Simulator, history: History, measures: Sequence[Measure], first: int, until: int,
             params: Sequence[Param], defaults: dict[str, float], seeds: Sequence[int], *, calibration: str = "2019",
             design: int = 16, refine: int = 2, rng_seed: int = 0) -> Estimate:
    """Estimate `params` on years first..until (see the module text); `simulate(values, seed)` gives
    {series: {year: value}} for one run."""
    t0 = time.perf_counter()
    seeds = list(seeds)
    at_defaults = [simulate(dict(defaults), s) for s in seeds]
    t = simulated_only(targets(history, measures, first, until, calibration), at_defaults)

    def objective(values: dict[str, float]) -> float:
        if values == {p.name: defaults[p.name] for p in params}:
            return loss(at_defaults, t)
        return loss([simulate(values, s) for s in seeds], t)

    res = search(objective, params, defaults, design, refine, rng_seed)
    best, f = res.best()
    f0 = res.rows[0][1]
    return Estimate(list(params), dict(defaults), dict(zip(res.names, best, strict=True)), f, f0, res, t, seeds,
                    design, refine, rng_seed, time.perf_counter() - t0)


def judged_years(history: History, measures: Sequence[Measure], until: int) -> list[int]:
    """The years the estimates are judged on: after `until`, up to the last observed year."""
    last = max(history.last_year(m.series) for m in measures)
    return list(range(until + 1, last + 1))


def parse_param(text: str, sc: Scenario | None = None) -> Param:
    """`behaviour.expectation_speed=0.03:0.6` (or a name of PARAMS, with its bounds): a numeric key
    of the scenario whose source in the schema says "assumption"; anything else is a ScenarioError
    naming --param."""
    name, _, box = text.partition("=")
    name = name.strip()
    known = {p.name: p for p in PARAMS}
    info = _field(name)
    if info is None:
        raise ScenarioError("--param", name, "no such numeric key of the scenario with real values "
                            "(e.g. behaviour.expectation_speed)")
    if "assumption" not in info:
        raise ScenarioError("--param", name, f"not a behavioural assumption (its source: {info}); only keys the "
                            "calibration cannot pin from sources are estimated")
    if not box:
        if name not in known:
            raise ScenarioError("--param", name, "give bounds, NAME=LO:HI")
        return known[name]
    try:
        lo, hi = (float(x) for x in box.split(":"))
    except ValueError:
        raise ScenarioError("--param", name, f"bounds {box!r} are not LO:HI") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ScenarioError("--param", name, f"bounds {box!r}: need finite LO < HI")
    if sc is not None:
        for v in (lo, hi):
            try:
                with_params(sc, {name: v}, "--param")
            except ScenarioError as e:
                raise ScenarioError("--param", name, f"bound {v:g} is outside the key's range ({e.message})") from None
    return Param(name, lo, hi, known[name].why if name in known else "")


def _field(name: str) -> str | None:
    """The schema's source text of a real-valued scenario key (SECTION.KEY), or None."""
    from ..scenario import schema

    parts = name.split(".")
    if len(parts) != 2:
        return None
    section = {f: getattr(schema.Scenario.model_fields[f].annotation, "model_fields", None)
               for f in schema.Scenario.model_fields}.get(parts[0])
    if not section or parts[1] not in section:
        return None
    f = section[parts[1]]
    if f.annotation is not float:  # the search proposes real values; a count (int) is not searched
        return None
    extra = f.json_schema_extra or {}
    return str(extra.get("source", "")) if isinstance(extra, dict) else ""


@dataclass
class FitResult:
    estimate: Estimate
    judged: list[int]
    ds_defaults: object   # xr.Dataset scored on the judged years, defaults
    ds_estimates: object  # the same with the estimates
    loss_judged_defaults: float
    loss_judged_estimates: float
    loss_judged_random_walk: float
    judge_seeds: list[int]
    firms: int
    scenario: str
    seconds: float


def fit(scenario: str | Path | Scenario, *, until: int = FIT_UNTIL, params: Sequence[Param] = PARAMS,
        fit_seeds: Sequence[int] = (1000, 1001, 1002), judge_seeds: Sequence[int] = (0, 1, 2, 3),
        firms: int | None = None, series: Sequence[str] | None = None, data: str | Path | None = None,
        design: int = 16, refine: int = 2, rng_seed: int = 0) -> FitResult:
    """Estimate on the years up to `until`, then judge the estimates and the defaults on the years
    after it (see the module text)."""
    from .core import first_full_year, hindcast, select

    t0 = time.perf_counter()
    history = load_history(data)
    measures = select(list(series) if series is not None else list(FIT_SERIES), history)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, firms=firms)
    if firms is not None and sc.run.firms != firms:
        sc = with_params(sc, {"run.firms": firms})
    where = str(scenario) if isinstance(scenario, str | Path) else "<scenario>"
    first = first_full_year(sc)
    judged = judged_years(history, measures, until)
    if until < first:
        raise ScenarioError("--fit-until", str(until), f"before the scenario's first full year ({first}): "
                            "nothing to estimate on")
    if not judged:
        raise ScenarioError("--fit-until", str(until), f"no observed year after it ({where}): nothing to judge on")
    overlap = sorted(set(fit_seeds) & set(judge_seeds))
    if overlap:
        raise ScenarioError("--fit-seeds", ",".join(map(str, overlap)), "also judging seeds (--seeds): the "
                            "estimates are judged on fresh draws")
    defaults = {p.name: _get(sc, p.name) for p in params}
    est = estimate(model_simulator(sc, measures, until), history, measures, first, until, params, defaults,
                   fit_seeds, calibration=sc.run.calibration, design=design, refine=refine, rng_seed=rng_seed)
    judged_range = (judged[0], judged[-1])
    names = [m.series for m in measures]
    ds0 = hindcast(sc, judge_seeds, series=names, data=data, judged=judged_range)
    ds1 = hindcast(with_params(sc, est.values), judge_seeds, series=names, data=data, judged=judged_range)
    tj = judged_targets(history, measures, judged, until)
    return FitResult(est, judged, ds0, ds1, dataset_loss(ds0, tj), dataset_loss(ds1, tj),
                     dataset_loss(ds0, tj, "random_walk"), list(judge_seeds),
                     sc.run.firms, sc.name, time.perf_counter() - t0)


def judged_targets(history: History, measures: Sequence[Measure], judged: list[int], until: int) -> Targets:
    """The judged points (years after `until`), with the same scales as the estimation (from the
    observations up to `until`)."""
    seen = observations_until(history, until)
    obs, scales = {}, {}
    for m in measures:
        pts = {y: history.value(m.series, y) for y in judged}
        pts = {y: v for y, v in pts.items() if np.isfinite(v)}
        if pts:
            obs[m.series] = pts
            scales[m.series] = scale(seen, m.series) if m.series in seen.series else SCALE_FLOOR
    return Targets(obs, scales, until)


def dataset_loss(ds, t: Targets, var: str = "simulated") -> float:
    """The loss of a hindcast Dataset on the points of `t`, per seed as in the estimation; `var` =
    "random_walk" gives the random walk's loss on the same points."""
    if var != "simulated":
        return loss([{str(s): {int(y): float(ds[var].sel(series=s, year=y)) for y in ds.year.values}
                      for s in ds.series.values}], t)
    sims = []
    for seed in ds.seed.values:
        sims.append({str(s): {int(y): float(ds.simulated.sel(series=s, year=y, seed=seed)) for y in ds.year.values}
                     for s in ds.series.values})
    return loss(sims, t)


def _get(sc: Scenario, name: str) -> float:
    node = sc
    for p in name.split("."):
        node = getattr(node, p)
    return float(node)


def fragment(res: FitResult, command: str, extends: str = "decapacity_2016.toml", name: str = "THIS_FILE") -> str:
    """The estimates as a scenario fragment: `extends = ["<history>.toml", "<this>.toml"]` applies them."""
    e = res.estimate
    lines = [
        f"# Behavioural parameters estimated on {e.targets.years[0]}-{e.targets.until} and judged on "
        f"{res.judged[0]}-{res.judged[-1]} (issue 21 part 5), by",
        f"#   {command}",
        f"# Scenario {res.scenario}, {res.firms} firms. Loss: mean over the series "
        f"{', '.join(e.targets.observed)} of the mean over",
        "# their observed years of the squared error of the mean over seeds, each in units of the series'",
        "# one-year observed change up to the split (sim/hindcast/fit.py).",
        f"# Search: the defaults, a scrambled Sobol design of {e.design} points (seed {e.rng_seed}) and "
        f"{e.refine} rounds of compass",
        f"# search, {len(e.search.rows)} candidates, each on seeds {', '.join(map(str, e.seeds))} "
        "(common random numbers).",
        f"# In-sample loss {e.loss:.3f} (defaults {e.loss_defaults:.3f}); out of sample "
        f"({res.judged[0]}-{res.judged[-1]}, seeds {', '.join(map(str, res.judge_seeds))}):",
        f"# {res.loss_judged_estimates:.3f} with the estimates, {res.loss_judged_defaults:.3f} with the defaults.",
        f'# Use: extends = ["{extends}", "{name}"] in a scenario of the same history.',
        "",
    ]
    sections: dict[str, list[str]] = {}
    for p in e.params:
        sec, key = p.name.split(".")
        v = e.values[p.name]
        sections.setdefault(sec, []).append(
            f"{key} = {v:.6g}   # estimated on {e.targets.years[0]}-{e.targets.until} by sim hindcast-fit, loss "
            f"{e.loss:.3f}; default {e.defaults[p.name]:g}, searched in [{p.lo:g}, {p.hi:g}]")
    for sec, body in sections.items():
        lines += [f"[{sec}]", *body, ""]
    return "\n".join(lines)
