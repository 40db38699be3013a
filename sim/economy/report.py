"""The transaction-flow matrix and balance sheets of a closed-economy run as text tables
(`sim accounts RUN.nc`)."""

from __future__ import annotations

import numpy as np
import xarray as xr

SHORT = {"firms": "firms", "households": "house", "government": "gov", "banks": "banks", "central_bank": "cbank",
         "rest_of_world": "world", "rest_of_economy": "rest"}


def pick_month(ds: xr.Dataset, month: str | None) -> int:
    """Index of `month` ("YYYY-MM") on the time axis, the last month if None."""
    if month is None:
        return ds.sizes["time"] - 1
    stamps = [str(t)[:7] for t in ds.time.values]
    if month not in stamps:
        raise ValueError(f"month {month} is not in the run ({stamps[0]} to {stamps[-1]})")
    return stamps.index(month)


def matrix_table(ds: xr.Dataset, month: str | None = None, what: str = "tfm") -> str:
    """One month of `tfm` (flows, trn yuan a year) or `balance_sheet` (stocks, trn yuan) as a
    Markdown table, with the row sums (zero for every flow and financial item) and column sums."""
    if what not in ds:
        raise ValueError(f"the run has no {what}: it was not run with [economy] closure = \"closed\"")
    k = pick_month(ds, month)
    da = ds[what].isel(time=k)
    rows = da.dims[0]
    scale = 12e-12 if what == "tfm" else 1e-12
    m = da.values * scale
    cols = [SHORT[str(c)] for c in da.institution.values]
    unit = "trn yuan/yr" if what == "tfm" else "trn yuan"
    head = f"| {rows} ({unit}, {str(ds.time.values[k])[:7]}) | " + " | ".join(cols) + " | sum |"
    out = [head, "|---|" + "---:|" * (len(cols) + 1)]
    for name, row in zip(da[rows].values, m, strict=True):
        if not np.any(np.abs(row) > 5e-3):
            continue
        out.append(f"| {name} | " + " | ".join(_num(v) for v in row) + f" | {_num(row.sum())} |")
    out.append("| **sum** | " + " | ".join(_num(v) for v in m.sum(axis=0)) + f" | {_num(m.sum())} |")
    return "\n".join(out)


def _num(v: float) -> str:
    return "0" if abs(v) < 5e-3 else f"{v:.2f}"
