"""Sensitivity indices from a sampled sweep (SALib), returned as xarray.

`analyze(store)` reads a store made from a `[sample]` design, reduces each output to one number
per sample (by default: the mean over seeds and over the last 12 months), and computes, for each
remaining coordinate (sector, size class, scenario), the design's indices:

- sobol  -> S1, S1_conf, ST, ST_conf (SALib.analyze.sobol)
- morris -> mu, mu_star, mu_star_conf, sigma (SALib.analyze.morris)
- latin  -> S1, S1_conf (SALib.analyze.rbd_fast)

The result is a Dataset with one variable per output, dims (index, param, ...), e.g.
`res.gdp.sel(index="ST")`; units are those of the indices (1 for Sobol, output units for Morris).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

INDICES = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu", "mu_star", "mu_star_conf", "sigma"),
    "latin": ("S1", "S1_conf"),
}


def last_months(n: int = 12) -> Callable[[xr.DataArray], xr.DataArray]:
    def reduce(da: xr.DataArray) -> xr.DataArray:
        return da.isel(time=slice(-n, None)).mean("time") if "time" in da.dims else da
    return reduce


def analyze(store: str | Path | xr.Dataset, outputs: list[str] | None = None, *,
            reduce: Callable[[xr.DataArray], xr.DataArray] | None = None, seed: int = 0,
            num_resamples: int = 100) -> xr.Dataset:
    """Sensitivity indices per output (see the module text).

    `reduce` maps an output (with `time` and its other dims) to one value per sample and seed and
    remaining coordinate; default: mean of the last 12 months. Seeds are averaged after it.
    `seed` seeds SALib's bootstrap for the confidence intervals.
    """
    ds = xr.open_zarr(store) if isinstance(store, str | Path) else store
    design = json.loads(ds.attrs.get("design", '{"method": "grid"}'))
    method = design["method"]
    if method not in INDICES:
        raise ValueError("analyze needs a sweep with a [sample] design (sobol, morris or latin); this store "
                         f"is a {method} sweep")
    names: list[str] = design["names"]
    problem = {"num_vars": len(names), "names": names, "bounds": design["bounds"]}
    X = np.stack([ds[n].values for n in names], axis=1)
    outputs = outputs or [v for v in ds.attrs.get("outputs", "").split(",") if v in ds]
    reduce = reduce or last_months(12)
    status = ds["status"].values
    if not (status == "done").all():
        bad = int((status != "done").sum())
        raise ValueError(f"{bad} runs are not done (status '' or 'failed'); finish or re-run the sweep "
                         "before analysing it")

    res = {}
    for name in outputs:
        y = reduce(ds[name]).mean("seed")
        other = [d for d in y.dims if d != "sample"]
        y = y.transpose("sample", *other).load()
        idx_names = INDICES[method]
        out = np.full((len(idx_names), len(names), *[y.sizes[d] for d in other]), np.nan)
        for pos in itertools.product(*[range(y.sizes[d]) for d in other]):
            Y = np.asarray(y.values[(slice(None), *pos)], dtype=float)
            if not np.all(np.isfinite(Y)) or np.ptp(Y) == 0:
                continue  # a constant output has no indices (e.g. a sector the design does not touch)
            r = _salib(method, problem, X, Y, design, seed, num_resamples)
            for i, k in enumerate(idx_names):
                out[(i, slice(None), *pos)] = np.asarray(r[k], dtype=float)
        units = "1" if method != "morris" else ds[name].attrs.get("units", "")
        res[name] = xr.DataArray(out, dims=("index", "param", *other), attrs={
            "units": units, "long_name": f"{method} indices of {ds[name].attrs.get('long_name', name)}"})
    coords = {"index": list(INDICES[method]), "param": names}
    for d in ("scenario", "sector", "size_class"):
        if d in ds.coords:
            coords[d] = ds[d].values
    out_ds = xr.Dataset(res, coords={k: v for k, v in coords.items() if any(k in r.dims for r in res.values())
                                     or k in ("index", "param")})
    out_ds.attrs.update(method=method, sweep=ds.attrs.get("sweep", ""), n_samples=int(ds.sizes["sample"]),
                        n_seeds=int(ds.sizes["seed"]), reduce=getattr(reduce, "__name__", "custom"),
                        param_keys=json.dumps(dict(zip(names, design["keys"], strict=True))))
    return out_ds


def _salib(method: str, problem: dict, X: np.ndarray, Y: np.ndarray, design: dict, seed: int,
           num_resamples: int) -> dict:
    if method == "sobol":
        from SALib.analyze import sobol

        return sobol.analyze(problem, Y, calc_second_order=design["second_order"],
                             num_resamples=num_resamples, seed=seed)
    if method == "morris":
        from SALib.analyze import morris

        return morris.analyze(problem, X, Y, num_levels=design["levels"], num_resamples=num_resamples,
                              seed=seed)
    from SALib.analyze import rbd_fast

    return rbd_fast.analyze(problem, X, Y, num_resamples=num_resamples, seed=seed)
