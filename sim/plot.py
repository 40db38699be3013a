"""Figures an economist would put in a paper: `sim.plot.sectors(ds, "output")`, `sim.plot.effects(cmp)`.

Values are shown in the units people read: money flows in bn yuan a year (a monthly rate times 12),
money stocks in bn yuan, shares and rates in %; legends sit outside the data; dates on the x axis.
`sim compare --plot` draws `effects`. matplotlib is needed (`pip install "sim[plot]"`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

PERCENT_UNITS = ("1", "1/year")


def display(da: xr.DataArray) -> tuple[xr.DataArray, str]:
    """`da` in the unit a reader expects, and that unit's label."""
    units = str(da.attrs.get("units", ""))
    if units == "yuan/month":
        return da * 12 / 1e9, "bn yuan/yr"
    if units == "yuan":
        return da / 1e9, "bn yuan"
    if units in PERCENT_UNITS and da.attrs.get("reference") is None and "index" not in da.name:
        return da * 100, "%" if units == "1" else "%/yr"
    return da, units


def _pyplot(path):
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path, kind: str, overwrite: bool):
    if path is None:
        return fig
    import matplotlib.pyplot as plt

    from .outpaths import save_figure

    try:
        save_figure(fig, Path(path), kind, overwrite=overwrite, dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
    return fig


def sectors(ds: xr.Dataset, var: str, sectors: Sequence[str] | None = None, *, ax=None, path=None,
            overwrite: bool = False):
    """One line per sector of a run's `var` over time, in readable units; legend outside on the right."""
    plt = _pyplot(path)
    da, unit = display(ds[var])
    if sectors is not None:
        da = da.sel(sector=list(sectors))
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    for s in da.sector.values:
        ax.plot(da.time.values, da.sel(sector=s).values, lw=1.4, label=str(s))
    ax.set_title(ds[var].attrs.get("long_name", var), fontsize=10)
    ax.set_ylabel(unit)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.figure.autofmt_xdate()
    return _save(fig, path, "run", overwrite) if fig is not None else ax


def effects(cmp: xr.Dataset, metrics: Sequence[str] = ("output", "price_tax_inclusive", "capacity_heavy",
                                                        "credit_sme", "productivity", "output_emerging"),
            *, path=None, overwrite: bool = False):
    """A comparison's effects against its baseline over time: mean across seeds with a 5-95% band,
    one panel per metric (its unit in the axis label), one legend for all below the panels."""
    from .compare import METRICS

    plt = _pyplot(path)
    base = cmp.attrs["baseline"]
    names = [s for s in cmp.scenario.values if s != base]
    ncol = 3
    nrow = int(np.ceil(len(metrics) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 3.2 * nrow + 0.8), sharex=True, squeeze=False,
                             layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, m in zip(axes.flat, metrics, strict=False):
        eff = cmp[f"effect_{m}"]
        for k, s in enumerate(names):
            e = eff.sel(scenario=s)
            c = colors[k % len(colors)]
            ax.plot(e.time.values, e.mean("seed").values, color=c, lw=1.5, label=str(s))
            ax.fill_between(e.time.values, e.quantile(0.05, "seed").values, e.quantile(0.95, "seed").values,
                            color=c, alpha=0.15, lw=0)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(METRICS[m][0], fontsize=10)
        ax.set_ylabel(f"vs {base} ({METRICS[m][2]})", fontsize=9)
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(names), 5), fontsize=8, frameon=False)
    fig.suptitle(f"Effects against {base}: mean and 5-95% band over seeds {cmp.attrs['seeds']}", fontsize=11)
    for ax in axes[-1]:
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")
    return _save(fig, path, "compare", overwrite)
