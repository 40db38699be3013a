"""Regenerate docs/validation.md's table and figures:

    python -m sim.validation.figures [SCENARIO] [--seeds 4] [--firms 20000] [--months 120]

Runs the scenario as `sim check-facts` does, writes docs/figures/validation_*.png from the runs and
replaces the text between the table markers of docs/validation.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import stats
from .check import DEFAULT_FIRMS, DEFAULT_MONTHS, DEFAULT_SEEDS, check, markdown
from .targets import BURN_IN, cycles, firm_sizes, growth_rates

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "validation.md"
FIG = ROOT / "docs" / "figures"
START, END = "<!-- validation-table:start -->", "<!-- validation-table:end -->"


def figures(runs, outdir: Path = FIG) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir.mkdir(parents=True, exist_ok=True)
    paths = []

    # 1. size distribution: complementary CDF on log-log axes, with the Hill fit of the top 5%
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for k, run in enumerate(runs):
        x = np.sort(firm_sizes(run))[::-1]
        ccdf = np.arange(1, x.size + 1) / x.size
        ax.loglog(x, ccdf, ".", ms=2, alpha=0.5, label=f"seed {run.seed}" if k < 4 else None)
    x = np.sort(firm_sizes(runs[0]))[::-1]
    a = stats.hill(x, 0.05)
    k5 = int(0.05 * x.size)
    xs = np.geomspace(x[k5], x[0], 20)
    ax.loglog(xs, 0.05 * (xs / x[k5]) ** (-a), "k-", lw=1.5, label=f"Pareto, Hill alpha = {a:.2f} (top 5%)")
    ax.set_xlabel("annual output relative to sector mean")
    ax.set_ylabel("share of firms larger (CCDF)")
    ax.set_title("Firm size distribution, year 10")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(outdir / "validation_size_distribution.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    # 2. growth rates: histogram density on a log scale, with normal and Laplace fits
    g = np.concatenate([growth_rates(r) for r in runs])
    fig, ax = plt.subplots(figsize=(6, 4.2))
    lim = np.percentile(np.abs(g), 99.9)
    bins = np.linspace(-lim, lim, 81)
    dens, edges = np.histogram(g, bins=bins, density=True)
    mid = 0.5 * (edges[1:] + edges[:-1])
    ax.semilogy(mid[dens > 0], dens[dens > 0], "o", ms=3, label="model (all seeds)")
    sd, b, med = g.std(), np.mean(np.abs(g - np.median(g))), np.median(g)
    ax.semilogy(
        mid, np.exp(-0.5 * ((mid - g.mean()) / sd) ** 2) / (sd * np.sqrt(2 * np.pi)), "-", label="normal fit"
    )
    ax.semilogy(mid, np.exp(-np.abs(mid - med) / b) / (2 * b), "--", label="Laplace fit")
    ax.set_ylim(max(dens[dens > 0].min() / 3, 1e-4), dens.max() * 3)
    ax.set_xlabel("annual log growth of output, less the sector-year mean")
    ax.set_ylabel("density (log scale)")
    ax.set_title(f"Firm growth rates (kurtosis {stats.kurtosis(g):.2f}; Laplace: 6)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(outdir / "validation_growth_rates.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    # 3. cycles: HP cyclical components of output, investment, credit and the bankruptcy rate (seed 0)
    run = runs[0]
    c = cycles(run)
    t0 = np.datetime64(str(run.ds.time.values[BURN_IN])[:7], "M")
    q = (t0 + 3 * np.arange(c["output"].size)).astype("datetime64[D]")
    fig, axes = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
    ax = axes[0]
    ax.plot(q, 100 * c["output"], label="output")
    ax.plot(q, 100 * c["investment"], label="investment")
    ax.plot(q, 100 * c["credit"], label="credit (stock)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("% from HP trend")
    ax.set_title(f"Cycles, seed {run.seed} (quarterly, HP lambda 1600)")
    ax.legend(fontsize=8, ncol=3)
    ax = axes[1]
    bank = stats.to_quarterly(c["bankruptcies_monthly"], "sum")
    exits = (run.ds.exits_voluntary.isel(time=slice(BURN_IN, None)).values / run.ds.firm_weight.values).sum(
        axis=1
    )
    ax.bar(q, bank, width=60, label="bankruptcies (simulated firms)")
    ax.plot(q, stats.to_quarterly(exits, "sum"), "k.-", label="voluntary exits (simulated firms)")
    ax.set_ylabel("firms per quarter")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(outdir / "validation_cycles.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths


def misses(ds) -> str:
    """The misses with their reasons, as a markdown list."""
    lines = [
        "**Misses and why** (the reason is the `miss_reason` of each target in `sim/validation/facts.py` "
        "and `china2019.py`):",
        "",
    ]
    for k in ds.target.values:
        r = ds.sel(target=k)
        if int(r.passed):
            continue
        why = str(r.miss_reason.values) or "no reason recorded yet"
        lines.append(f"- **{r.label.values}** (`{k}`): {why}.")
    return "\n".join(lines)


def update_doc(table_md: str, header: str, doc: Path = DOC) -> None:
    text = doc.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"error: {doc}: markers {START} / {END} not found")
    pre, rest = text.split(START, 1)
    _, post = rest.split(END, 1)
    doc.write_text(f"{pre}{START}\n{header}\n\n{table_md}\n{END}{post}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m sim.validation.figures", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "baseline.toml"))
    ap.add_argument("--seeds", type=int, default=DEFAULT_SEEDS)
    ap.add_argument("--firms", type=int, default=DEFAULT_FIRMS)
    ap.add_argument("--months", type=int, default=DEFAULT_MONTHS)
    ap.add_argument("--no-doc", action="store_true", help="figures only; leave docs/validation.md alone")
    a = ap.parse_args(argv)
    t = time.perf_counter()
    ds, runs = check(a.scenario, a.seeds, firms=a.firms, months=a.months, return_runs=True)
    paths = figures(runs)
    header = (
        f"Generated by `python -m sim.validation.figures` ({ds.attrs['scenario']}, {a.seeds} seeds x "
        f"{a.firms} firms x {a.months} months, engine {ds.attrs['engine_version']}): "
        f"**{ds.attrs['n_passed']} of {ds.attrs['n_targets']} targets met**. Model values are the mean "
        "across seeds with the smallest and largest seed in brackets."
    )
    if not a.no_doc:
        update_doc(markdown(ds) + "\n\n" + misses(ds), header)
    print(
        f"{ds.attrs['n_passed']}/{ds.attrs['n_targets']} targets met; wrote "
        f"{', '.join(str(p.relative_to(ROOT)) for p in paths)}"
        f"{'' if a.no_doc else ' and the table in docs/validation.md'} ({time.perf_counter() - t:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
