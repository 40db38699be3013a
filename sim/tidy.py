"""Tidy tables from any output of sim: one row per observation, nothing repeated.

`Dataset.to_dataframe()` broadcasts every variable over every dimension of the Dataset: a run's
`gdp` (time) is repeated for each of 10 sectors and 2 size classes, and a panel gives a row for
every firm in every snapshot, active or not. `sim.tidy(ds)` instead groups the variables by their
own dimensions and returns

- long (default): one row per value, columns = the value's coordinates (dimensions it does not
  have are left empty), `variable`, `value` and `units`; rows whose value is missing (a panel firm
  not active then, a sweep run not done) are left out;
- wide (`wide=True`): a dict {dimensions: DataFrame} with one column per variable.

Works for runs, comparisons (`scenario`, `seed` in front), sweep stores (their leading dimensions)
and firm panels (the firm's coordinates `sector`, `ownership`, `weight` come along). Also as an
accessor: `ds.sim.to_frame()`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import xarray as xr


def _groups(ds: xr.Dataset, variables: Sequence[str] | None) -> dict[tuple[str, ...], list[str]]:
    names = list(variables) if variables is not None else [
        n for n, v in ds.data_vars.items() if v.dtype.kind in "fiub"]  # numbers (a sweep's texts left out)
    groups: dict[tuple[str, ...], list[str]] = {}
    for n in names:
        groups.setdefault(tuple(ds[n].dims), []).append(n)
    return groups


def _frame(ds: xr.Dataset, dims: tuple[str, ...], names: list[str]) -> pd.DataFrame:
    sub = ds[names]
    sub = sub.drop_vars([c for c in sub.coords if not set(sub[c].dims) <= set(dims)])
    if not dims:
        return pd.DataFrame({n: [sub[n].item()] for n in names})
    return sub.to_dataframe()


def tidy(ds: xr.Dataset, variables: Sequence[str] | None = None, *, wide: bool = False,
         dropna: bool = True) -> pd.DataFrame | dict[tuple[str, ...], pd.DataFrame]:
    """The variables of `ds` (all numeric ones by default) as tidy tables (see the module)."""
    groups = _groups(ds, variables)
    if wide:
        out = {}
        for dims, names in groups.items():
            df = _frame(ds, dims, names)
            out[dims] = df.dropna(how="all", subset=names) if dropna else df
        return out
    frames = []
    for dims, names in groups.items():
        df = _frame(ds, dims, names).reset_index()
        ids = [c for c in df.columns if c not in names]
        long = df.melt(id_vars=ids, value_vars=names, var_name="variable", value_name="value")
        if dropna:
            long = long[long["value"].notna()]
        long["units"] = long["variable"].map({n: str(ds[n].attrs.get("units", "")) for n in names})
        frames.append(long)
    if not frames:
        return pd.DataFrame(columns=["variable", "value", "units"])
    out = pd.concat(frames, ignore_index=True, sort=False)
    first = [d for d in ds.dims if d in out.columns]
    rest = [c for c in out.columns if c not in first and c not in ("variable", "value", "units")]
    return out[first + rest + ["variable", "value", "units"]]


@xr.register_dataset_accessor("sim")
class SimAccessor:
    """`ds.sim.to_frame()`: sim.tidy(ds)."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    def to_frame(self, variables: Sequence[str] | None = None, *, wide: bool = False, dropna: bool = True):
        return tidy(self._ds, variables, wide=wide, dropna=dropna)
