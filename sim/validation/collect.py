"""One run of a scenario with the firm-level data the stylized facts need.

`sim.run(..., panel=True)` keeps a fixed set of panel columns; the facts need more (fixed capital,
other assets and liabilities for the debt-to-asset ratio, output summed over each year for growth
rates, the electricity part of energy costs). So this module steps an `IndustrialEconomy` itself and
reads its arrays; it changes nothing in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import __version__
from ..api import pad_rows, resolve_scenario
from ..model import IndustrialEconomy
from ..scenario import Scenario

SNAP_FIELDS = (
    "alive",
    "sector",
    "soe",
    "sme",
    "age",
    "capacity",
    "productivity",
    "cash",
    "capital",
    "other_assets",
    "other_liab",
    "loans",
    "exit_reason",
)


@dataclass
class RunData:
    """Aggregates (`ds`, the engine's own Dataset) and year-end firm snapshots of one run.

    `snaps[0]` is the state before the first month; `snaps[y]` the state after month 12*y. Each
    snapshot holds the arrays of SNAP_FIELDS plus `output_year` (output summed over the 12 months
    that end at the snapshot; 0 in snaps[0]) and `row_weight` (real firms per simulated firm).
    `elec_share` is the electricity part of each sector's energy cost, by month. `new_rate` is the
    average rate on new money lent this month, by size class (sme, large): the engine's
    `loan_rate_new` also averages in rollovers at a rate of 0, so it is recomputed here from the
    credit market's own arrays (NaN if a month lends nothing or the arrays are not there).
    """

    ds: xr.Dataset
    snaps: list[dict[str, np.ndarray]]
    elec_share: np.ndarray
    seed: int
    weight: np.ndarray
    new_rate: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)


def resolve(scenario: Scenario | str | Path, **run_overrides: Any) -> Scenario:
    """A validated Scenario with [run] overrides (firms=, months=, seed=, banks=) applied."""
    return resolve_scenario(scenario, **run_overrides)


def with_params(sc: Scenario, params: dict[str, float]) -> Scenario:
    """A copy of `sc` with dotted key paths set, e.g. {"behaviour.loss_months_exit": 6}. The special
    key `sectors.*.entry_rate_scale` multiplies every sector's entry_rate."""
    d = sc.model_dump()
    for key, val in params.items():
        parts = key.split(".")
        if parts[0] == "sectors" and parts[1] == "*":
            name = parts[2]
            for s in d["sectors"].values():
                if name.endswith("_scale"):
                    base = name[: -len("_scale")]
                    s[base] = s[base] * float(val)
                else:
                    s[name] = val
            continue
        node = d
        for p in parts[:-1]:
            node = node[p]
        old = node[parts[-1]]
        node[parts[-1]] = int(round(val)) if isinstance(old, int) and not isinstance(old, bool) else val
    return Scenario.model_validate(d)


def _snap(model: IndustrialEconomy, output_year: np.ndarray) -> dict[str, np.ndarray]:
    F = model.firms
    s = {name: getattr(F, name).copy() for name in SNAP_FIELDS}
    s["output_year"] = output_year.copy()
    s["row_weight"] = model.weight[F.sector]
    return s


def simulate(sc: Scenario, seed: int) -> RunData:
    """Run `sc` for sc.run.months months with `seed`, keeping year-end firm snapshots."""
    model = IndustrialEconomy(sc, seed=seed)
    F = model.firms
    months = sc.run.months
    acc = np.zeros(F.n_rows)
    snaps = [_snap(model, acc)]
    elec = np.zeros((months, len(model.weight)))
    new_rate = np.full((months, 2), np.nan)
    for t in range(months):
        model.step()
        acc = pad_rows(acc, F.n_rows)  # entrants may have added rows
        acc += np.where(F.alive, F.output, 0.0)
        pe = model.energy_price_index()
        p = model.policy
        el = (
            1
            + model.large_share * p.electricity_price_change_large
            + (1 - model.large_share) * p.electricity_price_change_general
        )
        elec[t] = model.elec_share * el / pe
        new_rate[t] = _new_loan_rate(model)
        if (t + 1) % 12 == 0:
            snaps.append(_snap(model, acc))
            acc[:] = 0.0
    snaps = [{k: pad_rows(v, F.n_rows) for k, v in s.items()} for s in snaps]
    ds = model.rec.to_dataset(
        sc.run.start, {"scenario": sc.name, "seed": int(seed), "engine_version": __version__}
    )
    ds["firm_weight"] = xr.DataArray(model.weight, dims=("sector",))
    return RunData(
        ds=ds, snaps=snaps, elec_share=elec, seed=int(seed), weight=model.weight.copy(), new_rate=new_rate
    )


def _new_loan_rate(model: IndustrialEconomy) -> np.ndarray:
    """The mean rate of the month's new loans by size class (SME, large), weighted by the amounts."""
    scratch = getattr(model, "scratch", None)
    if scratch is None:
        return np.full(2, np.nan)
    rows, rate = scratch.applicants, scratch.applicant_rate  # kept per applicant
    F = model.firms
    granted = scratch.granted[rows]
    w = model.weight[F.sector[rows]] * granted
    out = np.full(2, np.nan)
    sme = F.sme[rows]
    for k, m in enumerate((sme, ~sme)):
        m = m & (granted > 0)
        if w[m].sum() > 0:
            out[k] = float(np.sum(w[m] * rate[m]) / w[m].sum())
    return out
