"""The firm panel: snapshots of every active firm, one column per firm over its life.

A Dataset over (`time`, `firm`): `firm` is the firm's identity (`firm_id`, its number in order of
entry), not a row of the state arrays (an entrant reuses an exited firm's row), so one firm is one
column from entry to exit. A firm's values are NaN in the snapshots where it is not active (before
entry, after exit) and `alive` is 0 there. `sector` (names) and `ownership` are coordinates along
`firm`; `p.where(p.sector == "steel", drop=True)` keeps the steel firms. Values are per simulated
firm, which stands for `weight` real firms (a coordinate along `firm`).

`snapshot_every` months (12 by default) and the last month are taken; `variables` chooses the
columns (all of PANEL_VARS by default; `sector`, `ownership`, `alive` and `firm_id` always come).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .records import index_coords
from .state import FIRM_FIELDS


# name: (units, long_name, value from the firm arrays); units parse with sim.units.registry(). A firm
# field's units and meaning come from its declaration (sim.state.FIRM_FIELDS, the one place); the
# rest are made from several fields here.
def _state(name: str, long_name: str | None = None) -> tuple[str, str, Callable[[Any], np.ndarray]]:
    _, units, meaning = FIRM_FIELDS[name]
    return units, long_name or meaning[0].upper() + meaning[1:], lambda F: getattr(F, name)


PANEL_FIELDS: dict[str, tuple[str, str, Callable[[Any], np.ndarray]]] = {
    "output": _state("output"),
    "capacity": _state("capacity"),
    "productivity": _state("productivity"),
    "energy_intensity": _state("energy_intensity"),
    "profit": _state("profit"),
    "profit_year": _state("profit_year"),
    "cost_wedge": _state("cost_wedge"),
    "order_shock": _state("order_shock"),
    "equity": ("yuan", "Equity at the end of the month: assets less liabilities",
               lambda F: F.cash + F.capital + F.other_assets - F.loans - F.other_liab),
    "net_worth": _state("net_worth", "Net worth as the investment step stored it, yuan (forced closures later in "
                        "the month are in equity, not here)"),
    "assets": ("yuan", "Assets: deposits, fixed capital, receivables and inventories",
               lambda F: F.cash + F.capital + F.other_assets),
    "liabilities": ("yuan", "Liabilities: bank loans, trade credit and other liabilities",
                    lambda F: F.loans + F.other_liab),
    "loans": _state("loans"),
    "cash": _state("cash"),
    "age": _state("age"),
    "sme": _state("sme"),
    "interest_coverage_weak_months": _state("weak_months"),
    "zombie": ("1", "1 if a zombie firm (OECD, McGowan, Andrews and Millot 2017: at least ten years old, interest "
               "coverage below one for three consecutive years; kernels.exit_entry.is_zombie)",
               lambda F: _zombie(F)),
    "price": _state("price"),
    "markup": _state("markup"),
}
PANEL_VARS = tuple(PANEL_FIELDS)


def _zombie(F) -> np.ndarray:
    from .kernels.exit_entry import zombie_flags

    return zombie_flags(F.age, F.weak_months)


def check_variables(variables: Sequence[str] | None) -> tuple[str, ...]:
    """The panel columns asked for, checked (ValueError naming an unknown one)."""
    if variables is None:
        return PANEL_VARS
    unknown = [v for v in variables if v not in PANEL_FIELDS]
    if unknown:
        raise ValueError(f"unknown panel variable(s) {', '.join(unknown)} (known: {', '.join(PANEL_VARS)})")
    return tuple(dict.fromkeys(variables))


def snapshot(model: Any, variables: Sequence[str]) -> dict[str, np.ndarray]:
    """The active firms' identities and the chosen values, copied (rows of exited firms left out)."""
    F = model.firms
    rows = np.flatnonzero(F.alive)
    snap = {"firm_id": F.firm_id[rows].astype(np.int64), "sector": F.sector[rows].copy(),
            "ownership": F.soe[rows].astype(np.int8)}
    for name in variables:
        snap[name] = np.asarray(PANEL_FIELDS[name][2](F))[rows].astype(np.float64)
    return snap


def build(snaps: list[tuple[int, dict[str, np.ndarray]]], start: str, variables: Sequence[str],
          weight: np.ndarray, attrs: dict[str, Any]) -> xr.Dataset:
    """One Dataset over (time, firm) from the snapshots taken at months `t` (0 = the first)."""
    from .scenario.schema import SECTORS

    ids = np.unique(np.concatenate([s["firm_id"] for _, s in snaps])) if snaps else np.zeros(0, np.int64)
    sector = np.zeros(len(ids), dtype=np.int8)
    soe = np.zeros(len(ids), dtype=np.int8)
    alive = np.zeros((len(snaps), len(ids)), dtype=np.int8)
    data = {name: np.full((len(snaps), len(ids)), np.nan) for name in variables}
    for k, (_, s) in enumerate(snaps):
        col = np.searchsorted(ids, s["firm_id"])
        sector[col], soe[col], alive[k, col] = s["sector"], s["ownership"], 1
        for name in variables:
            data[name][k, col] = s[name]
    t0 = np.datetime64(start, "M")
    times = np.array([t0 + t for t, _ in snaps]).astype("datetime64[ns]")
    # ready-made variables and indexes, as records.to_dataset makes them: handed plain arrays, xarray asks
    # of each whether it is a dask or pint array, which imports dask and pint (a quarter of a second)
    var = lambda dims, values, attrs=None: xr.Variable(dims, values, attrs=attrs, fastpath=True)  # noqa: E731
    coords = index_coords({"time": times, "firm": ids})
    coords = coords.assign(sector=var("firm", np.array(SECTORS, dtype=object)[sector].astype(str)),
                           ownership=var("firm", soe))
    ds = xr.Dataset(
        {name: var(("time", "firm"), data[name], {"units": PANEL_FIELDS[name][0],
                                                 "long_name": PANEL_FIELDS[name][1], "cell_methods": "time: point"})
         for name in variables}, coords=coords)
    ds["alive"] = var(("time", "firm"), alive, {"units": "1", "long_name": "1 if the firm is active in this snapshot"})
    ds["firm"].attrs.update(long_name="Firm (firm_id: its number in order of entry)")
    ds["sector"].attrs.update(long_name="Sector of the firm")
    ds["ownership"].attrs.update(units="1", long_name="1 state-owned, 0 private")
    ds["time"].attrs.update(long_name="Month of the snapshot (start of month)", standard_name="time", axis="T")
    ds.coords["weight"] = var("firm", np.asarray(weight, dtype=float)[sector])
    ds["weight"].attrs.update(units="firm/firm", long_name="Real firms the simulated firm stands for")
    ds.attrs.update(attrs)
    return ds
