"""Regenerate docs/history.md and docs/figures/history.png:

    python -m sim.hindcast.page [--scenario scenarios/miit_2019.toml] [--seeds 4] [--firms 3000]

Runs `sim hindcast` on the scenario, writes the figure and the whole page: the comparison, what
the model meets and misses (worded from the numbers, so it stays true when the model changes), the
observed data with their sources, and what is not built yet. `--data-only` rewrites the page's data
table alone (no runs), which tests/test_hindcast.py checks is current.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import xarray as xr

from .data import History, load_history, period
from .measures import BY_NAME

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "history.md"
FIG = ROOT / "docs" / "figures" / "history.png"
DATA_START, DATA_END = "<!-- history-data:start -->", "<!-- history-data:end -->"
RUN_START, RUN_END = "<!-- history-run:start -->", "<!-- history-run:end -->"


def _n(v: float, d: int = 1) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"


def _link(text: str, url: str) -> str:
    return f"[{text}]({url})" if url else text


def data_table(h: History) -> str:
    """The observed points, one row each, by group and series."""
    lines = [f"{len(h.series)} series, {sum(len(s.points) for s in h.series.values())} points, "
             f"{h.years[0]}-{h.years[-1]}, from `sim/data/history/*.toml` (`python -m sim.hindcast.data` prints "
             "them). Quality: **sourced** (the page states it), **derived** (arithmetic on sourced figures; the "
             "formula is in the file), **weak** (a mirror, an aggregator, or a figure from the project's "
             "calibration tables whose page was not found again).", "",
             "| group | series | units | period | value | quality | source |", "|---|---|---|---|---|---|---|"]
    for name, s, p in h.table():
        note = f" ({p.note})" if p.note and p.quality == "derived" else ""
        lines.append(f"| {s.group} | {s.long_name} (`{name}`) | {s.units} | {period(p)} | {p.value:g} | {p.quality} | "
                     f"{_link(p.source, p.url).replace('|', '/')}{note.replace('|', '/')} |")
    lines += ["", "Searched for and not found (left out rather than guessed):", ""]
    for group, items in sorted(h.missing.items()):
        lines += [f"- {group}: {item}" for item in items]
    return "\n".join(lines)


def scored_years(x: xr.Dataset) -> list[int]:
    """The years a series (one `series` of a hindcast Dataset) is scored on."""
    return [int(y) for y in x.year.values if not int(x.calibrated.sel(year=y))
            and not math.isnan(float(x.observed.sel(year=y))) and not math.isnan(float(x.sim_median.sel(year=y)))]


def _md(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(r) + " |" for r in rows])


def comparison_table(ds: xr.Dataset) -> str:
    rows = []
    for s in ds.series.values:
        x = ds.sel(series=s)
        for y in ds.year.values:
            p = x.sel(year=y)
            obs, med = float(p.observed), float(p.sim_median)
            if y < ds.attrs["first_year"] or (math.isnan(obs) and math.isnan(med)):
                continue
            if int(p.calibrated):
                state = "no: calibrated to it"
            elif math.isnan(obs) or math.isnan(med):
                state = "no: not observed" if math.isnan(obs) else "no: not comparable"
            else:
                state = "yes, in band" if float(p.in_band) == 1 else "yes, outside band"
            band = f"{_n(med)} [{_n(float(p.sim_min))}, {_n(float(p.sim_max))}]" if not math.isnan(med) else "-"
            rows.append([str(x.long_name_series.values), str(x.how.values), str(y), _n(obs, 2), band, state,
                         _n(float(p.random_walk)), _n(float(p.ar1))])
    return _md(["series", "compared as", "year", "observed", "model median [min, max]", "scored", "random walk",
                "AR(1)"], rows)


SCORE_HEADER = ["series", "years scored", "RMSE", "MAE", "random walk RMSE", "AR(1) RMSE", "sign right", "in band"]


def score_rows(ds: xr.Dataset) -> list[list[str]]:
    """One row of SCORE_HEADER per series (also the table `sim hindcast` prints)."""
    def pct(v):
        return "-" if math.isnan(v) else f"{100 * v:.0f}%"

    rows = []
    for s in ds.series.values:
        x = ds.sel(series=s)
        rows.append([str(s), ",".join(map(str, scored_years(x))) or "none", _n(float(x.rmse), 2), _n(float(x.mae), 2),
                     _n(float(x.rmse_random_walk), 2), _n(float(x.rmse_ar1), 2), pct(float(x.sign_hits)),
                     pct(float(x.band_hits))])
    return rows


def score_table(ds: xr.Dataset) -> str:
    return _md(SCORE_HEADER, [[f"`{r[0]}`", *r[1:]] for r in score_rows(ds)])


def verdicts(ds: xr.Dataset) -> tuple[list[str], list[str], list[str], list[str]]:
    """(gets: error at most the random walk's; partly: the observation in the seeds' band but a larger
    error than the random walk; misses: neither; not scored), one sentence each, worded from the numbers."""
    meets, partly, misses, none = [], [], [], []
    for s in ds.series.values:
        x = ds.sel(series=s)
        m = BY_NAME[str(s)]
        if int(x.n_years) == 0:
            none.append(f"**{x.long_name_series.values}**: {m.caveat}.")
            continue
        scored = scored_years(x)
        parts = [f"{y}: observed {_n(float(x.observed.sel(year=y)))}, model {_n(float(x.sim_median.sel(year=y)))} "
                 f"[{_n(float(x.sim_min.sel(year=y)))}, {_n(float(x.sim_max.sel(year=y)))}]" for y in scored]
        rw = float(x.rmse_random_walk)
        beats = not math.isnan(rw) and float(x.rmse) <= rw
        sign = float(x.sign_hits)
        verdict = (f"{'; '.join(parts)}. Error {_n(float(x.rmse), 1)} pp against the random walk's {_n(rw, 1)} pp"
                   f"{' (beaten)' if beats else ''}; sign of the change right in {_n(100 * sign, 0)}% of the years. "
                   f"Why they may differ: {m.caveat}.")
        line = f"**{x.long_name_series.values}** ({m.how}): {verdict}"
        (meets if beats else partly if float(x.band_hits) > 0 else misses).append(line)
    return meets, partly, misses, none


def relief_section(h: History, relief: np.ndarray, seeds: list[int]) -> str:
    from .policy import RELIEF_SERIES

    s = h.series[RELIEF_SERIES]
    p = s.points[0]
    med, lo, hi = (float(f(relief)) for f in (np.median, np.min, np.max))
    return "\n".join([
        "### The size of the April 2019 VAT cut", "",
        "The VAT the ten sectors remit over April-September 2019 in `scenarios/baseline.toml` less in "
        "`scenarios/vat_cut.toml` (same seeds), against the tax administration's estimate of what "
        "manufacturers paid less through the VAT reform in the first three quarters. Both are estimates of a "
        "difference from a world without the cut; the official one is not a model run, and whether it counts "
        "taxes by the month of sale or of filing is not stated on the page.", "",
        _md(["", "bn yuan", "source"],
            [["State Taxation Administration", f"{p.value:g}", _link(p.source, p.url)],
             [f"model, median [min, max] over seeds {', '.join(map(str, seeds))}",
              f"{med:.0f} [{lo:.0f}, {hi:.0f}]", "difference of two runs"]]),
        "", f"The model's relief is {med / p.value:.2f} times the official estimate."])


def run_section(ds: xr.Dataset, seconds: float) -> str:
    meets, partly, misses, none = verdicts(ds)
    n = int(ds.sizes["series"])
    scored = int((ds.n_years > 0).sum())
    in_band = int((ds.band_hits == 1).sum())
    beats = int((ds.rmse <= ds.rmse_random_walk).sum())
    out = [f"Generated by `python -m sim.hindcast.page` ({ds.attrs['scenario']}, seeds {ds.attrs['seeds']} x "
           f"{ds.attrs['firms']} firms, {ds.attrs['scenario_start']} to December {int(ds.year.max())}, "
           f"{seconds:.0f} s): of {n} mapped series, {scored} have a point to score; the observation lies in the "
           f"seeds' band for {in_band} and the model's error is at most the random walk's for {beats}.", "",
           "![The model against history](figures/history.png)", "",
           "### Every comparable point", "", comparison_table(ds), "",
           "### Scores (percentage points; only scored years)", "", score_table(ds), "",
           "### What the model gets (its error is at most the random walk's)", ""]
    out += [f"- {x}" for x in meets] or ["- Nothing yet: no scored series beats the random walk."]
    out += ["", "### Within the band, but worse than the random walk", ""]
    out += [f"- {x}" for x in partly] or ["- None."]
    out += ["", "### What the model misses", ""]
    out += [f"- {x}" for x in misses] or ["- Nothing among the scored series."]
    out += ["", "### Not scored", ""] + ([f"- {x}" for x in none] or ["- None."])
    return "\n".join(out)


def unmapped(h: History) -> list[str]:
    """Observed series (not policy inputs) that no model output is compared with yet."""
    from .policy import RELIEF_SERIES

    return [f"`{n}`" for n, s in h.series.items() if n not in BY_NAME and s.kind != "policy"
            and s.frequency == "annual" and n != RELIEF_SERIES]


INTRO = """# History: the model against what happened

Every number the engine prints elsewhere compares two simulated futures. This page sets the model
beside the observed record of China's industry (issue 21): the observed series with their sources,
the 2019 programme (`scenarios/miit_2019.toml`) against the 2019-2020 outturn, and the scores of the
model against two naive benchmarks.

```bash
sim hindcast scenarios/miit_2019.toml --seeds 4 --firms 3000 --out hindcast.nc --plot hindcast.png
python -m sim.hindcast.page        # regenerates this page and docs/figures/history.png
```

`sim hindcast` runs the scenario on each seed from its start to December of the last observed year
(2020), turns each run into yearly values of the observed series it can stand for
(`sim/hindcast/measures.py`), and scores them (`sim/hindcast/score.py`): the band over seeds
(smallest to largest) against the observed point, the root mean square and mean absolute error of
the seeds' median, the share of years with the sign of the change right (for a growth rate, its own
sign; for a level or ratio, the change from the year before), and the same errors for two
benchmarks on the same years: a **random walk** (the last observed value before the year) and an
**AR(1)** fitted by least squares on the observations before the scenario's first year (no AR(1)
when fewer than three consecutive pairs exist). The output is one Dataset over series, year and
seed (`observed`, `simulated`, `sim_median`, `sim_min`, `sim_max`, `random_walk`, `ar1`, the scores,
each with `units` and `long_name`). Unknown series (`--series`), a scenario whose first full year
is after the data, a missing file or a bad data file stop with one line naming the file and the
key, exit code 2, and nothing written.

## What can be compared, and what cannot

- **Growth rates and ratios, not levels.** The model's firms stand for the NBS population of 2019
  in 2019 prices, while NBS levels change sample every year (the 2018 profits are below 2017's
  although the published growth is +10.3%). So the comparisons are of growth rates (%), ratios and
  rates (%), and errors are in percentage points.
- **Only 2019 and 2020.** The model starts in January 2019 from its 2019 calibration. A flow's
  growth needs the year before, so growth rates of flows (output, profits, VAT) are comparable in
  2020 only; stocks (SME loans) use the first month's stock for the previous December, so their
  growth is comparable in 2019 too; ratios (utilisation, NPL ratio, loan rate) in both years.
- **No point is used to fit and to judge.** A 2019 figure that the calibration sets (utilisation,
  steel and aluminium utilisation, profit margin, SME loan rate, NPL ratio: `docs/validation.md`) is
  shown and marked *calibrated*, never scored; where the model's 2019 value is far from it, the
  calibration misses (as `docs/validation.md` reports), which is a finding, not a score.
- **2020 is not a normal year.** Industrial utilisation was 67.3% in the first quarter of 2020
  ([NBS via MarketScreener](https://www.marketscreener.com/news/The-Utilization-Rate-of-National-Industrial-Capacity-in-the-First-Quarter-of-2020--30442699/?utm_medium=RSS&utm_content=20200419)):
  the lockdown and the stimulus after it are in no scenario, so a 2020 miss says as much about
  the scenario's inputs as about the model.
- **The benchmarks see more than the model.** The random walk and the AR(1) forecast 2020 from the
  observed 2019 value; the model sees no observation after January 2019.

## The 2019 outturn: `scenarios/miit_2019.toml`

The page runs the whole 2019 programme over seeds and scores it; it also sets the size of the April
2019 VAT cut in the model (`scenarios/vat_cut.toml` against `scenarios/baseline.toml`) beside the
tax administration's estimate, at the end of this section.

"""

NOT_BUILT = """
## Not built yet (the rest of issue 21)

- **The 2016 history scenario.** Part 2 of the issue, a starting state calibrated to 2016-01 (the
  sector tables by year, each with sources) and `scenarios/history/`, a scenario from 2016 that applies
  on their dates the steel and cement de-capacity quotas (the steel cuts are in the data:
  `steel_capacity_cut`), the 2018 VAT cut (17% to 16%), the 2018-2019 electricity tariff cuts and the
  2019 package, with the world demand and the 2018-19 trade tensions as dated inputs, is not built.
  Until it is, the de-capacity years 2016-2018 are data without a model run, and every score above
  rests on one or two years.
- **The out-of-sample split.** Parameters estimated on 2016-2018 and judged on 2019-2020 need that
  scenario; nothing is estimated from the history yet, so there is no split to report.
- **Data.** The gaps below, chiefly: cement, flat glass and aluminium before 2019, capacity series,
  prices by sector, the share of loss-making firms, quarterly series other than utilisation.

## The observed data

"""


def render_page(h: History, run_text: str) -> str:
    """The whole page: the fixed text, the generated run section and the data table."""
    gap = ("- **Series without a model counterpart.** Levels (tonnes, yuan, cases: the model's money is in "
           "2019 prices and its firms stand for the 2019 population), trade (a run has no export or import "
           "series: exports are part of final demand) and the debt ratio (a run's output holds loans and net "
           "worth, not total liabilities), and growth rates observed only in years a run from 2019 cannot compare: "
           + ", ".join(unmapped(h)) + ".\n")
    return (INTRO + f"{RUN_START}\n{run_text}\n{RUN_END}\n" + NOT_BUILT.replace("- **Data.**", gap + "- **Data.**")
            + f"{DATA_START}\n{data_table(h)}\n{DATA_END}\n")


def data_section(text: str) -> str:
    return text.split(DATA_START, 1)[1].split(DATA_END, 1)[0].strip("\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "miit_2019.toml"))
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--firms", type=int, default=3000)
    ap.add_argument("--data-only", action="store_true", help="rewrite the data table only (no runs)")
    a = ap.parse_args(argv)
    h = load_history()
    if a.data_only:
        text = DOC.read_text()
        head, rest = text.split(DATA_START, 1)
        DOC.write_text(head + f"{DATA_START}\n{data_table(h)}\n{DATA_END}" + rest.split(DATA_END, 1)[1])
        print(f"wrote {DOC.relative_to(ROOT)} (data table)")
        return
    from .core import hindcast
    from .figure import plot
    from .policy import vat_cut_relief

    seeds = list(range(a.seeds))
    t0 = time.perf_counter()
    ds = hindcast(a.scenario, seeds, firms=a.firms)
    secs = time.perf_counter() - t0
    relief = vat_cut_relief(ROOT / "scenarios" / "baseline.toml", ROOT / "scenarios" / "vat_cut.toml", seeds, a.firms)
    plot(ds, FIG, overwrite=True)
    DOC.write_text(render_page(h, run_section(ds, secs) + "\n\n" + relief_section(h, relief, seeds)))
    print(f"wrote {DOC.relative_to(ROOT)} and {FIG.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
