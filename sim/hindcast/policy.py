"""The size of a policy, set beside the official estimate of it: the tax the April 2019 VAT cut
left with manufacturers in its first six months, in the model (a run with the cut less a run
without it, on the same seeds) and according to the State Taxation Administration
(`vat_reform_relief_manufacturing` in sim/data/history/taxes.toml)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..scenario import load_scenario

RELIEF_SERIES = "vat_reform_relief_manufacturing"
MONTHS = ("2019-04", "2019-09")  # the cut took effect on 1 April; the estimate is for January-September


def vat_cut_relief(baseline: str | Path, cut: str | Path, seeds: Sequence[int], firms: int | None = None) -> np.ndarray:
    """VAT the ten sectors remit without the cut less with it, summed over April-September 2019, in
    bn yuan, one value per seed (both runs on the same seed: common random numbers)."""
    from .. import api

    out = []
    for seed in seeds:
        vat = []
        for path in (baseline, cut):
            sc = load_scenario(path, firms=firms, months=9, start="2019-01")
            ds = api.run(sc, seed=seed, quiet=True)
            vat.append(ds.vat_revenue.sum("sector").sel(time=slice(*MONTHS)).sum().item())
        out.append((vat[0] - vat[1]) / 1e9)
    return np.array(out)
