"""Python entry points: `sim.run` returns the aggregates as an xarray Dataset."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import __version__
from . import panel as panel_mod
from .model import IndustrialEconomy
from .scenario import Scenario, ScenarioError, load_scenario, scenario_toml
from .scenario.load import plain_number, validate_document
from .scenario.schema import SECTORS


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
        from .compilecache import preload

        built: list[IndustrialEconomy] = []  # the run's kernels load from the cache on the other core
        preload(lambda: bool(built) and built[0].t >= 1)  # during the set-up and the first month
        built.append(IndustrialEconomy(sc, seed=seed))
        return built[0]
    if engine == "reference":
        from .reference import ReferenceEconomy

        return ReferenceEconomy(sc, seed=seed)
    raise ScenarioError("<arguments>", "engine", f"engine {engine!r} is not available (use one of {ENGINES})")


def run(scenario: Scenario | str | Path, seed: int | None = None, *, firms: int | None = None,
        months: int | None = None, banks: int | None = None, engine: str = "numba", panel: bool = False,
        progress: Any = None, threads: int | None = None, quiet: bool = False, panel_every: int = 12,
        panel_vars: Sequence[str] | None = None) -> xr.Dataset | tuple[xr.Dataset, xr.Dataset]:
    """Run one scenario and return its Dataset (and the firm panel when panel=True: every active
    firm's values each `panel_every` months and at the end, the columns `panel_vars`, all by default;
    see sim.panel).

    `scenario` is a loaded Scenario or a path to a TOML file; `seed`, `firms` and `months` override
    the file's [run] table, as `banks` does. `progress`: True for a progress bar (tqdm: a text bar in a terminal, a
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
            if done == total:  # tqdm redraws at most every 0.1 s: the last month is always drawn
                bar.refresh()
    elif progress is False:
        progress = None
    elif progress is not None and not callable(progress):
        raise TypeError(f"progress must be True, False, None or a callable (got {progress!r})")
    if panel:
        if isinstance(panel_every, bool) or not isinstance(panel_every, int) or panel_every < 1:
            raise ScenarioError("<arguments>", "panel_every", f"must be a whole number of months >= 1 (got "
                                f"{panel_every!r})")
        try:
            panel = panel_mod.check_variables(panel_vars), panel_every
        except ValueError as e:
            raise ScenarioError("<arguments>", "panel_vars", str(e)) from None
    try:
        with using(threads):
            return _run(scenario, seed, firms, months, banks, engine, panel, progress, quiet)
    finally:
        if bar is not None:
            bar.close()


def _run(scenario, seed, firms, months, banks, engine, panel, progress, quiet):
    sc = resolve_scenario(scenario, firms=firms, months=months, seed=seed, banks=banks)
    if engine == "numba":
        from .compilecache import prepare

        prepare(quiet)
    model = make_model(sc, engine)
    snaps: list[tuple[int, dict[str, np.ndarray]]] = []
    for t in range(sc.run.months):
        model.step()
        if panel and ((t + 1) % panel[1] == 0 or t == sc.run.months - 1):
            snaps.append((t, panel_mod.snapshot(model, panel[0])))
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
        "banks_simulated": int(model.banking.banks.n_rows),
        "bank_weight": float(model.banking.bank_weight),
        "capacity_units": "; ".join(f"{s}: {sc.sectors[s].capacity_unit}" for s in SECTORS),
        "sim_output": "run",
    }
    ds = model.rec.to_dataset(sc.run.start, attrs)
    # (a Variable ready-made, as to_dataset builds them: a DataArray from a plain array costs xarray's
    # import of dask, to ask whether the array is one of dask's)
    ds["firm_weight"] = xr.Variable(("sector",), model.weight, fastpath=True,
                                    attrs={"units": "firm/firm", "long_name": "Real firms each "
                                           "simulated firm stands for"})
    if not panel:
        return ds
    keep = ("title", "history", "source", "Conventions", "git_commit", "library_versions", "scenario",
            "scenario_toml", "seed", "engine", "engine_version", "firm_weight", "capacity_units")
    pattrs = {k: ds.attrs[k] for k in keep if k in ds.attrs}
    pattrs.update(title=f"sim firm panel of scenario {sc.name}", sim_output="panel",
                  snapshot_every=f"{panel[1]} months and the last month")
    return ds, panel_mod.build(snaps, sc.run.start, panel[0], model.weight, pattrs)


def pad_rows(a: np.ndarray, n: int) -> np.ndarray:
    """A snapshot of firm rows taken before the rows grew, padded with empty rows (zeros) to n."""
    if a.shape[0] == n:
        return a
    out = np.zeros((n,) + a.shape[1:], dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


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
