"""The committed baseline summary: a seeded run reduced to yearly sector means.

`python -m sim.baseline_summary --write` regenerates tests/data/baseline_summary.json; the test
suite compares a fresh run with it, so any change that moves the baseline shows in the diff of that
file and has to be regenerated on purpose (the Starsim habit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PATH = ROOT / "tests" / "data" / "baseline_summary.json"
SETTINGS = {"scenario": "scenarios/baseline.toml", "firms": 5000, "months": 60, "seed": 0}
VARIABLES = ("output", "capacity", "utilization", "price_index", "profit_margin", "n_firms", "investment",
             "productivity_mean", "energy_intensity_mean", "entries", "upgrades", "loans")
TOTALS = ("gdp", "tax_revenue", "gov_balance", "credit_total")


def compute() -> dict:
    import sim

    ds = sim.run(ROOT / SETTINGS["scenario"], seed=SETTINGS["seed"], firms=SETTINGS["firms"],
                 months=SETTINGS["months"])
    yearly = ds.groupby("time.year").mean()
    out: dict = {"settings": SETTINGS, "engine_version": ds.attrs["engine_version"], "sectors": {}, "totals": {}}
    for v in VARIABLES:
        out["sectors"][v] = {str(s): [float(f"{x:.6g}") for x in yearly[v].sel(sector=s).values]
                             for s in ds.sector.values}
    for v in TOTALS:
        out["totals"][v] = [float(f"{x:.6g}") for x in yearly[v].values]
    return out


def compare(new: dict, old: dict, rtol: float = 1e-5) -> list[str]:
    diffs = []
    for group in ("sectors", "totals"):
        for v, val in old[group].items():
            a = np.asarray(new[group][v] if group == "totals" else list(new[group][v].values()), float)
            b = np.asarray(val if group == "totals" else list(val.values()), float)
            if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=1e-9):
                diffs.append(v)
    return diffs


if __name__ == "__main__":
    data = compute()
    if "--write" in sys.argv:
        PATH.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {PATH}")
    else:
        old = json.loads(PATH.read_text())
        d = compare(data, old)
        print("baseline unchanged" if not d else f"baseline moved: {', '.join(d)}")
        sys.exit(1 if d else 0)
