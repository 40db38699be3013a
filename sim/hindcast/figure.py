"""The hindcast figure: one row of panels per group of series (industry, steel, taxes, credit),
each panel the observed points, the seeds' band and median, and the benchmarks' forecasts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import xarray as xr

from ..plot import _pyplot, _save


def plot(ds: xr.Dataset, path: str | Path | None = None, *, overwrite: bool = False):
    plt = _pyplot(path)
    groups = list(dict.fromkeys(str(g) for g in ds.group.values))
    per = {g: [str(s) for s in ds.series.values[ds.group.values == g]] for g in groups}
    ncols = max(len(v) for v in per.values())
    fig, axes = plt.subplots(len(groups), ncols, figsize=(3.3 * ncols, 2.7 * len(groups)), squeeze=False,
                             layout="constrained")
    years = ds.year.values
    first = int(ds.attrs.get("first_year", years[0]))
    for r, g in enumerate(groups):
        for c in range(ncols):
            ax = axes[r][c]
            if c >= len(per[g]):
                ax.set_axis_off()
                continue
            x = ds.sel(series=per[g][c])
            sim_years = years[np.isfinite(x.sim_median.values)]
            ax.fill_between(sim_years, x.sim_min.sel(year=sim_years), x.sim_max.sel(year=sim_years),
                            color="tab:blue", alpha=0.25, lw=0, label="model: min-max over seeds")
            ax.plot(sim_years, x.sim_median.sel(year=sim_years), color="tab:blue", marker="o", ms=3, lw=1.2,
                    label="model: median")
            ax.plot(years, x.observed, color="black", marker="s", ms=3.5, lw=1, label="observed")
            cal = x.calibrated.values.astype(bool) & np.isfinite(x.observed.values)
            ax.plot(years[cal], x.observed.values[cal], ls="none", marker="s", ms=7, mfc="none", mec="tab:orange",
                    label="calibrated to (not scored)")
            ax.plot(years, x.random_walk, ls="none", marker="x", color="tab:green", label="random walk")
            ax.plot(years, x.ar1, ls="none", marker="+", ms=8, color="tab:red", label="AR(1)")
            ax.axvline(first - 0.5, color="grey", lw=0.6, ls=":")
            ax.set_title(textwrap.fill(str(x.long_name_series.values), 42), fontsize=8)
            ax.set_ylabel("%", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.set_xticks(years[:: max(1, len(years) // 6)])
        axes[r][0].annotate(g, xy=(-0.35, 0.5), xycoords="axes fraction", rotation=90, va="center",
                            fontsize=10, fontweight="bold")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=6, fontsize=8, frameon=False)
    fig.suptitle(f"{ds.attrs.get('scenario', '')}: model against history (seeds {ds.attrs.get('seeds', '')}, "
                 f"{ds.attrs.get('firms', '')} firms); dotted line: the model's first year", fontsize=10)
    return _save(fig, path, "hindcast", overwrite)
