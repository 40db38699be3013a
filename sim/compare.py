"""Compare policy scenarios against a baseline on common random numbers (CONTRACT.md `sim compare`).

Every scenario runs on the same seeds; with the same seed two scenarios draw the same random
numbers, so the difference between them is the policy's effect, not noise. The result is one
xarray Dataset with dimensions `scenario` and `seed` in front of each run's own dimensions, plus
the effects against the baseline and a summary of the main aggregates (mean and band across seeds).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from .scenario import Scenario, ScenarioError, load_scenario

# name: (label, how to reduce a run to one number per time step, unit of the effect)
METRICS: dict[str, tuple[str, Callable[[xr.Dataset], xr.DataArray], str]] = {
    "gdp": ("value added (current prices)", lambda d: d.gdp, "%"),
    "output": ("gross output (2019 prices)", lambda d: d.output.sum("sector"), "%"),
    "price_tax_inclusive": ("buyers' price (incl. VAT)",
                            lambda d: (d.price_index_tax_inclusive * d.output).sum("sector") / d.output.sum("sector"),
                            "%"),
    "profit": ("profits", lambda d: d.profit.sum("sector"), "%"),
    "employment": ("employment", lambda d: d.employment.sum("sector"), "%"),
    "investment": ("investment", lambda d: d.investment.sum("sector"), "%"),
    "productivity": ("productivity (mean)",
                     lambda d: (d.productivity_mean * d.capacity).sum("sector") / d.capacity.sum("sector"), "%"),
    "energy_intensity": ("energy intensity (mean)",
                         lambda d: (d.energy_intensity_mean * d.output).sum("sector") / d.output.sum("sector"), "%"),
    "energy_cost": ("energy cost per unit", lambda d: d.energy_cost.sum("sector") / d.output.sum("sector"), "%"),
    "capacity_heavy": ("capacity: steel, cement, glass, aluminium",
                       lambda d: d.capacity.sel(sector=["steel", "cement", "flat_glass", "nonferrous"]).sum("sector"),
                       "%"),
    "utilization_heavy": ("utilisation: steel, cement, glass, aluminium",
                          lambda d: (d.output.sel(sector=["steel", "cement", "flat_glass", "nonferrous"]).sum("sector")
                                     / (d.output / d.utilization).sel(sector=["steel", "cement", "flat_glass",
                                                                               "nonferrous"]).sum("sector")),
                          "pp"),
    "credit_sme": ("credit to SMEs", lambda d: d.credit.sel(size_class="sme"), "%"),
    "loan_rate_sme": ("SME loan rate", lambda d: d.loan_rate.sel(size_class="sme"), "pp"),
    "bankruptcies_sme": ("SME bankruptcies", lambda d: d.bankruptcies.sel(size_class="sme"), "%"),
    "entries": ("entries", lambda d: d.entries.sum("sector"), "%"),
    "output_emerging": ("output: NEV and electronics",
                        lambda d: d.output.sel(sector=["nev", "electronics"]).sum("sector"), "%"),
    "gov_balance": ("government balance", lambda d: d.gov_balance, "bn yuan/yr"),
}


def _resolve(paths: Sequence[str | Path | Scenario], baseline: str | Path | None,
             overrides: dict) -> tuple[list[Scenario], int]:
    scs = [p if isinstance(p, Scenario) else load_scenario(p, **overrides) for p in paths]
    names = [s.name for s in scs]
    stems = [Path(p).stem if not isinstance(p, Scenario) else s.name for p, s in zip(paths, scs, strict=True)]
    want = baseline or "baseline"
    for i, (n, st) in enumerate(zip(names, stems, strict=True)):
        if want in (n, st):
            return scs, i
    # a path, or baseline.toml next to the first file
    cand = Path(want)
    if not cand.suffix and paths and not isinstance(paths[0], Scenario):
        cand = Path(paths[0]).parent / f"{want}.toml"
    if cand.exists():
        scs.insert(0, load_scenario(cand, **overrides))
        return scs, 0
    raise ScenarioError(str(want), "--baseline", "baseline scenario not found among the files or next to them")


def _check_together(scs: list[Scenario], paths: Sequence[str | Path | Scenario]) -> None:
    """Scenarios compared month by month must have distinct names and one time axis."""
    names = [s.name for s in scs]
    if len(set(names)) != len(names):
        raise ScenarioError("<scenarios>", "name", f"scenario names must differ: {names}")
    first = scs[0]
    for sc in scs[1:]:
        if (sc.run.start, sc.run.months) != (first.run.start, first.run.months):
            where = next((str(p) for p in paths if not isinstance(p, Scenario) and Path(p).stem == sc.name),
                         sc.name)
            raise ScenarioError(where, "run", f"{sc.name} runs {sc.run.months} months from {sc.run.start}, "
                                f"{first.name} {first.run.months} months from {first.run.start}: compared "
                                "scenarios need one time axis (set [run] start and months alike, or --months)")


def resolve(scenarios: Sequence[str | Path | Scenario], baseline: str | Path | None = None,
            firms: int | None = None, months: int | None = None, banks: int | None = None,
            ) -> tuple[list[Scenario], str]:
    """The scenarios a comparison runs, baseline included, loaded and checked (names, time axes), and
    the baseline's name; raises ScenarioError naming the file and key."""
    over = {k: v for k, v in dict(firms=firms, months=months, banks=banks).items() if v is not None}
    scs, ib = _resolve(scenarios, baseline, over)
    _check_together(scs, scenarios)
    return scs, scs[ib].name


def _run_quiet(sc: Scenario, seed: int) -> xr.Dataset:
    from .api import run

    return run(sc, seed=seed, quiet=True)


def compare(scenarios: Sequence[str | Path | Scenario], baseline: str | Path | None = None,
            seeds: int | Sequence[int] = 3,
            firms: int | None = None, months: int | None = None, seed0: int = 0,
            progress: Callable[[int, int], None] | None = None, workers: int | None = None,
            scheduler: str | None = None) -> xr.Dataset:
    """Run every scenario on seeds seed0..seed0+seeds-1 (or on the list `seeds`) and return levels,
    effects and a summary.

    With `workers` (local processes) or `scheduler` (a Dask scheduler's address) the runs go to Dask
    workers, as a sweep's do; the result is the same, bit for bit.

    Output variables: every run variable over (scenario, seed, ...); `effect_<metric>` over
    (scenario, seed, time) against the baseline; `summary_mean`, `summary_low`, `summary_high` over
    (scenario, metric): the effect averaged over the last 12 months, mean and 5-95% band across seeds.
    """
    from .api import run

    over = {k: v for k, v in dict(firms=firms, months=months).items() if v is not None}
    scs, ib = _resolve(scenarios, baseline, over)
    _check_together(scs, scenarios)
    names = [s.name for s in scs]
    seed_list = list(range(seed0, seed0 + seeds)) if isinstance(seeds, int) else [int(x) for x in seeds]
    jobs = [(sc, sd) for sc in scs for sd in seed_list]
    if workers is not None or scheduler:
        from .sweep.runner import map_runs

        results = map_runs(_run_quiet, jobs, workers=workers, scheduler=scheduler, progress=progress)
    else:
        results = []
        for sc, sd in jobs:
            results.append(run(sc, seed=sd))
            if progress:
                progress(len(results), len(jobs))
    runs = []
    for i in range(len(scs)):
        per_seed = [ds.drop_vars("firm_weight") for ds in results[i * len(seed_list):(i + 1) * len(seed_list)]]
        runs.append(xr.concat(per_seed, dim="seed", combine_attrs="drop_conflicts"))
    levels = xr.concat(runs, dim="scenario", combine_attrs="drop_conflicts")
    levels = levels.assign_coords(scenario=np.array(names), seed=np.array(seed_list))
    base_name = names[ib]
    out = levels.copy()
    metric_names = list(METRICS)
    mean = np.zeros((len(names), len(metric_names)))
    low, high = np.zeros_like(mean), np.zeros_like(mean)
    base = levels.sel(scenario=base_name)
    for j, m in enumerate(metric_names):
        label, f, unit = METRICS[m]
        lv = f(levels)
        bv = f(base)
        if unit == "%":
            eff = 100.0 * (lv - bv) / np.abs(bv).where(np.abs(bv) > 0)
            eff = eff.fillna(0.0)
        elif unit == "pp":
            eff = 100.0 * (lv - bv)
        else:
            eff = (lv - bv) * 12 / 1e9
        eff.attrs = {"units": unit, "long_name": f"Effect on {label} against {base_name}"}
        out[f"effect_{m}"] = eff
        last = eff.isel(time=slice(-12, None)).mean("time")
        mean[:, j] = last.mean("seed").values
        low[:, j] = last.quantile(0.05, dim="seed").values
        high[:, j] = last.quantile(0.95, dim="seed").values
    coords = {"scenario": names, "metric": metric_names}
    for name, arr, what in (("summary_mean", mean, "mean"), ("summary_low", low, "5th percentile"),
                            ("summary_high", high, "95th percentile")):
        out[name] = xr.DataArray(arr, dims=("scenario", "metric"), coords=coords,
                                 attrs={"units": "see metric_units", "long_name": f"Effect over the last 12 months, "
                                        f"{what} across seeds"})
    out["metric_units"] = xr.DataArray([METRICS[m][2] for m in metric_names], dims=("metric",))
    out["metric_label"] = xr.DataArray([METRICS[m][0] for m in metric_names], dims=("metric",))
    from .units import provenance

    out.attrs.update(provenance(f"sim comparison of {', '.join(names)} against {base_name}",
                                f"compare {' '.join(names)}: baseline {base_name}, seeds "
                                f"{','.join(map(str, seed_list))}"))
    out.attrs.update(baseline=base_name, seeds=",".join(map(str, seed_list)),
                     # each scenario's resolved text as its first seed ran it (the runs differ in `seed` only;
                     # concatenating over seeds drops the differing attribute)
                     scenarios_toml="\n\n".join(
                         f"# --- {n}\n{results[i * len(seed_list)].attrs.get('scenario_toml', '')}"
                         for i, n in enumerate(names)),
                     engine_version=levels.attrs.get("engine_version", ""), sim_output="compare")
    for k in ("scenario_toml", "scenario", "seed", "description", "warnings"):
        out.attrs.pop(k, None)
    return out


def summary_rows(cmp: xr.Dataset, metrics: Sequence[str] | None = None) -> list[tuple[str, dict[str, str]]]:
    """The summary as text, one row per metric: ("label (unit)", {scenario: "mean [5%, 95%]"}), the
    effect over the last 12 months across seeds (what `sim compare` prints and the explorer shows)."""
    rows = []
    for m in (cmp.metric.values if metrics is None else metrics):
        unit = str(cmp.metric_units.sel(metric=m).values)
        cells = {}
        for s in cmp.scenario.values:
            mu, lo, hi = (float(cmp[v].sel(scenario=s, metric=m)) for v in ("summary_mean", "summary_low",
                                                                            "summary_high"))
            cells[str(s)] = f"{mu:+.2f} [{lo:+.2f}, {hi:+.2f}]"
        rows.append((f"{cmp.metric_label.sel(metric=m).values} ({unit})", cells))
    return rows


def plot(cmp: xr.Dataset, path: str | Path | None = None,
         metrics: Sequence[str] = ("output", "price_tax_inclusive", "capacity_heavy", "credit_sme", "productivity",
                                   "output_emerging"), *, overwrite: bool = False):
    """Effects against the baseline over time (sim.plot.effects). With `path`, the figure is written
    there (.png, .pdf or .svg; an existing file only if `sim compare` made it, or with overwrite=True)."""
    from .plot import effects

    return effects(cmp, metrics, path=path, overwrite=overwrite)


class _CallableModule(types.ModuleType):
    """`sim.compare(...)` is `sim.compare.compare(...)`; `plot`, `resolve` and `METRICS` stay reachable."""

    def __call__(self, *args, **kwargs) -> xr.Dataset:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
