"""Python entry points: `sim.run` returns the aggregates as an xarray Dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import __version__
from .model import IndustrialEconomy
from .scenario import Scenario, ScenarioError, load_scenario, scenario_toml
from .scenario.load import plain_number, validate_document
from .scenario.schema import SECTORS

PANEL_VARS = ("firm_id", "sector", "ownership", "alive", "output", "capacity", "productivity", "energy_intensity",
              "net_worth", "loans", "cash", "age", "sme", "exit_reason", "price", "markup")


def resolve_scenario(scenario: Scenario | str | Path, **overrides: Any) -> Scenario:
    """A loaded Scenario, or a file loaded, with [run] overrides (firms=, months=, seed=, banks=)."""
    over = {k: plain_number(v) for k, v in overrides.items() if v is not None}
    if isinstance(scenario, str | Path):
        return load_scenario(scenario, **over)
    if over:
        data = scenario.model_dump()
        data["run"].update(over)
        return validate_document(data, "<arguments>")
    return scenario


ENGINES = ("numba", "reference")


def make_model(sc: Scenario, engine: str = "numba", seed: int | None = None) -> IndustrialEconomy:
    """The model object for an engine: the numba engine, or the plain Mesa reference (one Agent per
    firm and bank, the same rules, much slower; sim/reference)."""
    if engine == "numba":
        return IndustrialEconomy(sc, seed=seed)
    if engine == "reference":
        from .reference import ReferenceEconomy

        return ReferenceEconomy(sc, seed=seed)
    raise ScenarioError("<arguments>", "engine", f"engine {engine!r} is not available (use one of {ENGINES})")


def run(scenario: Scenario | str | Path, seed: int | None = None, *, firms: int | None = None,
        months: int | None = None, engine: str = "numba", panel: bool = False, progress: Any = None,
        threads: int | None = None, quiet: bool = False) -> xr.Dataset | tuple[xr.Dataset, xr.Dataset]:
    """Run one scenario and return its Dataset (and the firm panel when panel=True).

    `scenario` is a loaded Scenario or a path to a TOML file; `seed`, `firms` and `months` override
    the file's [run] table. `progress`: True for a progress bar (tqdm: a text bar in a terminal, a
    widget in Jupyter), or a callable `progress(done, total)` called after each month. `threads`:
    kernel threads for this run (default: sim.threads' policy; results do not depend on it). Unless
    `quiet`, a run that must first compile the kernels says so on stderr (the first run on a machine).
    """
    from .threads import using

    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(unit="month", desc="simulating", leave=False)

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)
    elif progress is False:
        progress = None
    elif progress is not None and not callable(progress):
        raise TypeError(f"progress must be True, False, None or a callable (got {progress!r})")
    try:
        with using(threads):
            return _run(scenario, seed, firms, months, engine, panel, progress, quiet)
    finally:
        if bar is not None:
            bar.close()


def _run(scenario, seed, firms, months, engine, panel, progress, quiet):
    sc = resolve_scenario(scenario, firms=firms, months=months, seed=seed)
    if engine == "numba":
        from .compilecache import say_if_cold

        say_if_cold(quiet)
    model = make_model(sc, engine)
    snaps: list[tuple[int, dict[str, np.ndarray]]] = []
    for t in range(sc.run.months):
        model.step()
        if panel and ((t + 1) % 12 == 0 or t == sc.run.months - 1):
            snaps.append((t, _snapshot(model)))
        if progress is not None:
            progress(t + 1, sc.run.months)
    from .scenario.warnings import scenario_warnings
    from .units import provenance

    attrs = {
        **provenance(f"sim run of scenario {sc.name}", f"run {sc.name}: seed {int(model.run_seed)}, "
                     f"{sc.run.firms} firms, {sc.run.months} months from {sc.run.start}, engine {engine}"),
        "warnings": "; ".join(scenario_warnings(sc)),
        "scenario": sc.name,
        "description": sc.description,
        "scenario_toml": scenario_toml(sc),
        "seed": int(model.run_seed),
        "engine": engine,
        "engine_version": __version__,
        "firm_weight": float(np.sum(model.population) / np.sum(model.n_alloc)),
        "firms_simulated": int(np.sum(model.n_alloc)),
        "capacity_units": "; ".join(f"{s}: {sc.sectors[s].capacity_unit}" for s in SECTORS),
        "sim_output": "run",
    }
    ds = model.rec.to_dataset(sc.run.start, attrs)
    ds["firm_weight"] = xr.DataArray(model.weight, dims=("sector",),
                                     attrs={"units": "firm/firm", "long_name": "Real firms each "
                                            "simulated firm stands for"})
    if not panel:
        return ds
    return ds, _panel(snaps, sc, model)


def _snapshot(model: IndustrialEconomy) -> dict[str, np.ndarray]:
    F = model.firms
    return {
        "firm_id": F.firm_id.copy(), "sector": F.sector.copy(), "ownership": np.where(F.soe, 1, 0),
        "alive": F.alive.copy(),
        "output": F.output.copy(), "capacity": F.capacity.copy(), "productivity": F.productivity.copy(),
        "energy_intensity": F.energy_intensity.copy(), "net_worth": F.net_worth.copy(), "loans": F.loans.copy(),
        "cash": F.cash.copy(), "age": F.age.copy(), "sme": F.sme.copy(), "exit_reason": F.exit_reason.copy(),
        "price": F.price.copy(), "markup": F.markup.copy(),
    }


PANEL_ATTRS = {  # per simulated firm; units parse with sim.units.registry()
    "firm_id": ("1", "The firm's number in order of entry (a row is reused by an entrant after an exit)"),
    "sector": ("1", "Sector index into the sector_names attribute"),
    "ownership": ("1", "1 state-owned, 0 private"),
    "alive": ("1", "1 if the row holds an active firm"),
    "output": ("yuan/month", "Output at 2019 prices"),
    "capacity": ("yuan/month", "Capacity at 2019 prices"),
    "productivity": ("1", "Productivity (2019 sector mean = 1)"),
    "energy_intensity": ("1", "Energy intensity (2019 sector mean = 1)"),
    "net_worth": ("yuan", "Net worth"),
    "loans": ("yuan", "Bank loans"),
    "cash": ("yuan", "Deposits"),
    "age": ("month", "Age"),
    "sme": ("1", "1 if small or medium enterprise"),
    "exit_reason": ("1", "0 none, 1 bankruptcy, 2 forced, 3 voluntary"),
    "price": ("1", "Posted ex-VAT price index"),
    "markup": ("1", "Markup over unit cost"),
}


def pad_rows(a: np.ndarray, n: int) -> np.ndarray:
    """A snapshot of firm rows taken before the rows grew, padded with empty rows (zeros) to n."""
    if a.shape[0] == n:
        return a
    out = np.zeros((n,) + a.shape[1:], dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


def _panel(snaps, sc: Scenario, model: IndustrialEconomy) -> xr.Dataset:
    t0 = np.datetime64(sc.run.start, "M")
    times = np.array([(t0 + t) for t, _ in snaps]).astype("datetime64[ns]")
    data = {}
    for name in PANEL_VARS:
        arr = np.stack([pad_rows(s[name], model.firms.n_rows) for _, s in snaps])
        if arr.dtype == bool:
            arr = arr.astype(np.int8)
        units, long = PANEL_ATTRS[name]
        data[name] = xr.DataArray(arr, dims=("time", "firm"), attrs={"units": units, "long_name": long})
    ds = xr.Dataset(data, coords={"time": times, "firm": np.arange(model.firms.n_rows)})
    ds["firm"].attrs.update(units="1", long_name="Row of the firm arrays (an entrant may take an exited firm's row; "
                            "firm_id names the firm)")
    ds.attrs.update(scenario=sc.name, seed=int(model.run_seed), engine_version=__version__,
                    sector_names=",".join(SECTORS), sim_output="panel")
    ds["weight"] = xr.DataArray(model.weight, dims=("sector_id",), attrs={"units": "firm/firm",
                                                                         "long_name": "Weight by sector index"})
    return ds


def write(ds: xr.Dataset, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write to .nc or .zarr under a temporary name, then rename: never a half-written file.

    An existing `path` is replaced only if it is an output of the same kind (the Dataset's
    `sim_output` attribute: a run over a run) or with `overwrite=True`; see `sim.outpaths`.
    Raises `sim.outpaths.OutputError` (a ScenarioError naming the path) otherwise.
    """
    from . import outpaths

    path = Path(path)
    kind = ds.attrs.get(outpaths.ATTR)
    outpaths.check(path, kind, overwrite=overwrite)
    if path.suffix.lower() == ".nc":
        return outpaths.write_atomic(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))
    return outpaths.write_atomic(path, lambda tmp: ds.to_zarr(tmp, mode="w", consolidated=True,
                                                                         zarr_format=2))
