"""Run a scenario over several seeds and score every target: `check(...)` returns an xarray Dataset
(dimensions `target` and `seed`), `table(...)` draws it with rich, `markdown(...)` writes it for the
docs."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import __version__
from ..scenario import Scenario, scenario_toml
from .collect import RunData, resolve, simulate
from .targets import BURN_IN, TARGETS, Target

DEFAULT_SEEDS = 4
DEFAULT_FIRMS = 20000
DEFAULT_MONTHS = 120


def evaluate(runs: Sequence[RunData], targets: Sequence[Target] = TARGETS) -> np.ndarray:
    """values[target, seed]; a statistic that fails (too few events) is NaN."""
    vals = np.full((len(targets), len(runs)), np.nan)
    for j, run in enumerate(runs):
        for i, t in enumerate(targets):
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    vals[i, j] = t.compute(run)
                except (ValueError, ZeroDivisionError, FloatingPointError, IndexError):
                    vals[i, j] = np.nan
    return vals


def run_seeds(
    scenario: Scenario | str | Path,
    seeds: int | Sequence[int] = DEFAULT_SEEDS,
    *,
    firms: int | None = DEFAULT_FIRMS,
    months: int | None = DEFAULT_MONTHS,
    progress: Callable[[int, int], Any] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    banks: int | None = None,
) -> tuple[Scenario, list[RunData]]:
    sc = resolve(scenario, firms=firms, months=months, banks=banks)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if workers is not None or scheduler:  # on Dask workers, as a sweep's runs: the same results
        from ..sweep.runner import map_runs

        return sc, map_runs(simulate, [(sc, s) for s in seed_list], workers=workers, scheduler=scheduler,
                            progress=progress)
    runs = []
    for k, s in enumerate(seed_list):
        runs.append(simulate(sc, s))
        if progress is not None:
            progress(k + 1, len(seed_list))
    return sc, runs


def to_dataset(
    values: np.ndarray,
    seeds: Sequence[int],
    sc: Scenario,
    targets: Sequence[Target] = TARGETS,
    elapsed: float | None = None,
) -> xr.Dataset:
    with warnings.catch_warnings():  # all-NaN rows (no events in any seed) give NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=1)
        lo_s = np.nanmin(values, axis=1)
        hi_s = np.nanmax(values, axis=1)
    lo = np.array([t.lo for t in targets])
    hi = np.array([t.hi for t in targets])
    passed = np.isfinite(mean) & (mean >= lo) & (mean <= hi)
    in_band = np.isfinite(values) & (values >= lo[:, None]) & (values <= hi[:, None])

    def s(attr):
        return xr.DataArray(np.array([getattr(t, attr) for t in targets], dtype=object), dims="target")

    ds = xr.Dataset(
        {
            "value": (("target", "seed"), values, {"long_name": "Model value of the target, by seed"}),
            "mean": ("target", mean, {"long_name": "Mean of the model value across seeds"}),
            "seed_min": ("target", lo_s, {"long_name": "Smallest model value across seeds"}),
            "seed_max": ("target", hi_s, {"long_name": "Largest model value across seeds"}),
            "band_lo": ("target", lo, {"long_name": "Lower end of the pass band (-inf: none)"}),
            "band_hi": ("target", hi, {"long_name": "Upper end of the pass band (+inf: none)"}),
            "empirical_value": (
                "target",
                np.array([t.empirical_value for t in targets]),
                {"long_name": "Empirical value (NaN for qualitative facts)"},
            ),
            "passed": (
                "target",
                passed.astype(np.int8),
                {"long_name": "1 if the mean across seeds is in the band"},
            ),
            "share_seeds_in_band": (
                "target",
                in_band.mean(axis=1) if values.size else np.array([]),
                {"long_name": "Share of seeds whose value is in the band"},
            ),
            "kind": s("kind"),
            "label": s("label"),
            "unit": s("unit"),
            "empirical": s("empirical"),
            "source": s("source"),
            "miss_reason": s("miss_reason"),
        },
        coords={"target": [t.key for t in targets], "seed": np.asarray(list(seeds), dtype=np.int64)},
    )
    for name in ("kind", "label", "unit", "empirical", "source", "miss_reason"):
        ds[name] = ds[name].astype(str)
    from ..units import provenance

    ds.attrs.update(provenance(f"sim check-facts of scenario {sc.name}",
                               f"check-facts {sc.name}: seeds {','.join(map(str, seeds))}"))
    ds.attrs.update(
        scenario=sc.name,
        scenario_toml=scenario_toml(sc),
        firms=int(sc.run.firms),
        months=int(sc.run.months),
        burn_in_months=BURN_IN,
        engine_version=__version__,
        pass_rule="passed when the mean across seeds lies in [band_lo, band_hi]",
        n_passed=int(passed.sum()),
        n_targets=len(targets),
        sim_output="check-facts",
    )
    if elapsed is not None:
        ds.attrs["elapsed_seconds"] = round(float(elapsed), 1)
    return ds


def check(
    scenario: Scenario | str | Path,
    seeds: int | Sequence[int] = DEFAULT_SEEDS,
    *,
    firms: int | None = DEFAULT_FIRMS,
    months: int | None = DEFAULT_MONTHS,
    progress: Callable[[int, int], Any] | None = None,
    return_runs: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    banks: int | None = None,
):
    """Run `scenario` over seeds and score every target. Returns the Dataset (and the runs). With
    `workers` or `scheduler` the seeds run on Dask workers (same results)."""
    t0 = time.perf_counter()
    sc, runs = run_seeds(scenario, seeds, firms=firms, months=months, progress=progress, workers=workers,
                         scheduler=scheduler, banks=banks)
    values = evaluate(runs)
    ds = to_dataset(values, [r.seed for r in runs], sc, elapsed=time.perf_counter() - t0)
    return (ds, runs) if return_runs else ds


# ------------------------------------------------------------------------------------------------
# presentation
# ------------------------------------------------------------------------------------------------
def _val(v: float, unit: str) -> str:
    if not np.isfinite(v):
        return "n/a" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    if unit == "%":
        return f"{100 * v:.1f}%" if abs(v) >= 0.1 else f"{100 * v:.2f}%"
    return f"{v:.2f}"


def rows(ds: xr.Dataset) -> list[dict[str, str]]:
    out = []
    for k in ds.target.values:
        r = ds.sel(target=k)
        unit = str(r.unit.values)
        band = _band(float(r.band_lo), float(r.band_hi), unit)
        out.append(
            {
                "key": str(k),
                "kind": str(r.kind.values),
                "target": str(r.label.values),
                "model": f"{_val(float(r['mean']), unit)} [{_val(float(r.seed_min), unit)}, "
                f"{_val(float(r.seed_max), unit)}]",
                "band": band,
                "empirical": str(r.empirical.values),
                "source": str(r.source.values),
                "result": "pass" if int(r.passed) else "miss",
                "miss_reason": str(r.miss_reason.values),
            }
        )
    return out


def _band(lo: float, hi: float, unit: str) -> str:
    if lo == -np.inf:
        return f"< {_val(hi, unit)}"
    if hi == np.inf:
        return f"> {_val(lo, unit)}"
    return f"{_val(lo, unit)} to {_val(hi, unit)}"


def table(ds: xr.Dataset):
    from rich.table import Table

    tab = Table(
        title=f"Stylized facts and calibration targets: {ds.attrs.get('scenario')} "
        f"({ds.sizes['seed']} seeds x {ds.attrs.get('firms')} firms x {ds.attrs.get('months')} months)"
    )
    for col in ("target", "model mean [seed range]", "band", "empirical", "source", "result"):
        tab.add_column(col, overflow="fold")
    kind = None
    for r in rows(ds):
        if r["kind"] != kind:
            kind = r["kind"]
            tab.add_row(
                f"[bold]{'Stylized facts' if kind == 'fact' else 'China ~2019'}[/bold]", "", "", "", "", ""
            )
        res = "[green]pass[/green]" if r["result"] == "pass" else "[red]miss[/red]"
        tab.add_row(r["target"], r["model"], r["band"], r["empirical"], r["source"], res)
    return tab


def markdown(ds: xr.Dataset) -> str:
    lines = [
        "| | target | model mean [seed range] | pass band | empirical | source | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows(ds):
        kind = "fact" if r["kind"] == "fact" else "China 2019"
        res = "pass" if r["result"] == "pass" else "**miss**"
        lines.append(
            f"| {kind} | {r['target']} | {r['model']} | {r['band']} | {r['empirical']} | "
            f"{r['source']} | {res} |"
        )
    return "\n".join(lines)
