"""Regenerate docs/history.md and docs/figures/history.png:

    python -m sim.hindcast.page [--scenario scenarios/miit_2019.toml]
        [--history scenarios/history/decapacity_2016.toml] [--seeds 4] [--firms 3000]

Runs `sim hindcast` on the 2019 scenario and on the history from 2016, estimates behavioural
assumptions on 2016-2018 and judges them on 2019-2020 (sim.hindcast.fit; the estimates go to
scenarios/history/estimated_2016_2018.toml), writes the two figures
(docs/figures/history.png, docs/figures/history_2016.png) and the whole page: the comparisons, what
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
FIG_2016 = ROOT / "docs" / "figures" / "history_2016.png"
DATA_START, DATA_END = "<!-- history-data:start -->", "<!-- history-data:end -->"
RUN_START, RUN_END = "<!-- history-run:start -->", "<!-- history-run:end -->"
HIST_START, HIST_END = "<!-- history-2016:start -->", "<!-- history-2016:end -->"
FIT_START, FIT_END = "<!-- history-fit:start -->", "<!-- history-fit:end -->"
FRAGMENT = ROOT / "scenarios" / "history" / "estimated_2016_2018.toml"


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


def run_section(ds: xr.Dataset, seconds: float, figure: str = "history.png") -> str:
    meets, partly, misses, none = verdicts(ds)
    n = int(ds.sizes["series"])
    scored = int((ds.n_years > 0).sum())
    in_band = int((ds.band_hits == 1).sum())
    beats = int((ds.rmse <= ds.rmse_random_walk).sum())
    out = [f"Generated by `python -m sim.hindcast.page` ({ds.attrs['scenario']}, seeds {ds.attrs['seeds']} x "
           f"{ds.attrs['firms']} firms, {ds.attrs['scenario_start']} to December {int(ds.year.max())}, "
           f"{seconds:.0f} s): of {n} mapped series, {scored} have a point to score; the observation lies in the "
           f"seeds' band for {in_band} and the model's error is at most the random walk's for {beats}.", "",
           f"![{ds.attrs['scenario']} against history](figures/{figure})", "",
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
the 2019 programme (`scenarios/miit_2019.toml`) against the 2019-2020 outturn, the history from
2016 (`scenarios/history/decapacity_2016.toml`: the de-capacity years, the VAT and tariff cuts and
the 2019 package, from a starting state calibrated to 2016-01) against 2016-2020, and the scores of
the model against two naive benchmarks.

```bash
sim hindcast scenarios/miit_2019.toml --seeds 4 --firms 3000 --out hindcast.nc --plot hindcast.png
sim hindcast scenarios/history/decapacity_2016.toml --seeds 4 --firms 3000
sim hindcast-fit scenarios/history/decapacity_2016.toml --fit-until 2018 --firms 3000 --out estimated.toml
python -m sim.hindcast.page        # regenerates this page and docs/figures/history*.png
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
key, exit code 2, and nothing written. `sim hindcast-fit` estimates a few behavioural assumptions
on the years up to `--fit-until` and judges them on the years after it (the section "Estimation"
below; `sim/hindcast/fit.py`).

## What can be compared, and what cannot

- **Growth rates and ratios, not levels.** The model's firms stand for the NBS population of 2019
  in 2019 prices, while NBS levels change sample every year (the 2018 profits are below 2017's
  although the published growth is +10.3%). So the comparisons are of growth rates (%), ratios and
  rates (%), and errors are in percentage points.
- **From the first full year of the run.** A run from January 2019 (the 2019 calibration) is
  compared in 2019 and 2020, a run from January 2016 (the 2016 calibration) in 2016-2020. A flow's
  growth needs the year before, so growth rates of flows (output, profits, VAT) are comparable from
  the run's second year; stocks (SME loans) use the first month's stock for the previous December,
  so their growth is comparable in the first year too; ratios (utilisation, NPL ratio, loan rate)
  in every year.
- **No point is used to fit and to judge.** A 2019 figure that the 2019 calibration sets
  (utilisation, steel and aluminium utilisation, profit margin, SME loan rate, NPL ratio:
  `docs/validation.md`) is shown and marked *calibrated*, never scored; where the model's 2019 value
  is far from it, the calibration misses (as `docs/validation.md` reports), which is a finding, not
  a score. The 2016 calibration (`sim/data/sectors_2016.toml`) is set from 2015 figures only, the
  year before the first scored year, so in the run from 2016 every year from 2016 on is scored.
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

HISTORY_INTRO = """
## The history from 2016: `scenarios/history/decapacity_2016.toml`

The run starts in January 2016 from the 2016 calibration (`run.calibration = "2016"`:
`sim/data/sectors_2016.toml`, the firms, revenue, profit margin, utilisation and capacity of each
sector from 2015 figures, each with its source; `docs/calibration-research.md` section 12 says which
are weak) and applies on their dates: no new capacity in steel, cement and flat glass with equal
replacement (Guo Fa [2013] No. 41, [2016] No. 6), replacement at 1.25 from 2018 (MIIT 2017-12); the
steel de-capacity quotas (65 Mt in 2016, 50 Mt in 2017, 30 Mt in 2018, then Hebei's plan) and the
cement eliminations from 2017; the aluminium ceiling of 45 Mt from April 2017; VAT 17% until April
2018, 16% from May 2018, 13% from April 2019; the general electricity tariff -10% in 2018 and
another -10% in 2019; the guarantee fund from July 2018; the NEV subsidy steps; the loan prime
rate cuts of 2019-20; and the 2019 package of `scenarios/miit_2019.toml` on its 2019 dates. Every
number's source is in the file's comments.

The rest of the world enters as dated inputs, never fitted to the series scored here:
`policy.world_demand`, world merchandise trade volume (WTO) relative to its 2012-2015 trend of 2.5% a
year (the sectors' demand trends carry the world's), by year and in 2020 by quarter (0.99 in 2016,
1.01-1.02 in 2017-18, 0.99 in 2019, 0.82 in the second quarter of 2020); and `policy.tariff_abroad`,
the US tariffs on China's exports averaged over all of a sector's exports: Section 232 on steel and
aluminium from March 2018 times the US share of those exports (1.1% and 15.9%), and the Section 301
lists of July-September 2018, May and September 2019 and February 2020 as Bown's average additional US
tariff on China (PIIE) times the US share of China's exports (19.2%), for every manufacturing
sector alike (up to 3.3% in September 2019). Exports fall by the factor (1 + T) to the power of minus the
export price elasticity (`economy.export_elasticity`, docs/model.md). World trade is not China's export
market: China's exports in yuan grew 5.0% in 2019 and 4.0% in 2020 (GACC; a weaker yuan, and market
share in 2020) while world trade volume fell 0.1% and 5.3%, so a closed run's exports grow 0.6% and
-3.2% in those years with the inputs against 5.0% and 5.0% without them (2 seeds, 5000 firms), and in
2020 the fall in world demand stands in part for the domestic lockdown the scenario does not contain.

What it leaves out, and why: **China's retaliation and the trade tensions' effect on confidence and
investment** (no channel: import shares are start values); the **~140 Mt of "ditiaogang"**
induction-furnace capacity closed by mid-2017 (it was outside the official capacity and output
statistics the calibration starts from, so there is no model capacity to close; its output passing
to licensed mills would need a one-off demand shift); the **11% -> 10% -> 9% VAT band** (one rate on
purchased inputs in the schema); **coal and coke prices** (no sourced series at hand). Demand trends
are the 2019 table's assumptions, not fitted.

The benchmarks here: the random walk forecasts 2016 from the 2015 observation and each later year
from the year before; the **AR(1) is undefined** for every series, because it is fitted on the
observations before 2016 and the data hold at most one year (2015) before it (three consecutive
pairs are needed), so its column is empty rather than fitted on the years it is judged on.

"""

SPLIT = """
### Estimated and judged: the split

Nothing in the two runs above is estimated from the history series: the starting states are set
from the 2015 (run from 2016) and 2019 (run from 2019) figures, the behavioural parameters are the
calibration's defaults (`docs/validation.md`, set against 2019 moments), and the policy inputs are
the dated measures, so every scored year above is out of sample for the run from 2016. The
estimation of a few behavioural parameters on 2016-2018, judged on 2019-2020 only, is the next
section.
"""

NOT_BUILT = """
## Not built yet (the rest of issue 21)

- **More to estimate on.** The estimation above has three years of six series for three
  parameters; the price boom of 2016-17 (fuel prices) is not an input, so the estimates absorb what
  the scenario leaves out.
- **Dated inputs the schema cannot take.** The ditiaogang closures, fuel prices and the lower VAT
  band (see the history section). World demand and the tariffs abroad are inputs since
  `policy.world_demand` and `policy.tariff_abroad`; China's retaliation and the trade tensions'
  effect on confidence and investment are not.
- **The 2016 calibration's weak rows.** Chemicals, machinery, electronics and textiles hold their 2019
  revenue, nine sectors their 2019 firm counts, and five take a utilisation of 74% (no 2015 sector
  table was found); the aluminium capacity and the steel, cement and glass profit margins of 2015
  are weak (`docs/calibration-research.md`, section 12).
- **Data.** The gaps below, chiefly: cement, flat glass and aluminium before 2019, capacity series,
  prices by sector, the share of loss-making firms, quarterly series other than utilisation.

## The observed data

"""


def side_by_side(ds19: xr.Dataset, ds16: xr.Dataset) -> str:
    """RMSE of each series in the two runs, with the random walk's on the same years."""
    rows = []
    for s in ds16.series.values:
        r = [f"`{s}`"]
        for ds in (ds19, ds16):
            if s in ds.series.values:
                x = ds.sel(series=s)
                yrs = ",".join(map(str, scored_years(x))) or "none"
                r += [yrs, _n(float(x.rmse), 2), _n(float(x.rmse_random_walk), 2)]
            else:
                r += ["-", "-", "-"]
        rows.append(r)
    return _md(["series", "2019 run: years", "RMSE", "random walk", "2016 run: years", "RMSE", "random walk"], rows)


def _v(ds: xr.Dataset, var: str, series: str, year: int) -> float:
    if series not in ds.series.values or year not in ds.year.values:
        return float("nan")
    return float(ds[var].sel(series=series, year=year))


def history_reading(ds: xr.Dataset) -> str:
    """What the run from 2016 gets and misses, in a few sentences whose numbers come from the run."""
    def m(s, y):
        return _n(_v(ds, "sim_median", s, y))

    def o(s, y):
        return _n(_v(ds, "observed", s, y))

    def err(s):
        return f"{_n(float(ds.rmse.sel(series=s)))} pp"

    def rw(s):
        return f"{_n(float(ds.rmse_random_walk.sel(series=s)))} pp"

    out = ["### Reading the run from 2016", ""]
    if {"utilisation_steel", "crude_steel_output_growth"} <= set(ds.series.values):
        out.append(
            f"- **Steel, the de-capacity years.** The quotas close steel capacity in 2016-2018 while no capacity "
            f"may be added except by replacement, and final demand grows at its assumed trend, so the model's "
            f"steel utilisation climbs from {m('utilisation_steel', 2016)}% in 2016 to "
            f"{m('utilisation_steel', 2018)}% in 2018 and {m('utilisation_steel', 2020)}% in 2020, against "
            f"{o('utilisation_steel', 2019)}% and {o('utilisation_steel', 2020)}% observed in 2019 and 2020 (no "
            f"sourced figure for 2016-2018; 69.9% in 2015). Output growth is nearer (error "
            f"{err('crude_steel_output_growth')} against the random walk's {rw('crude_steel_output_growth')}), so "
            "the miss is on the side of capacity: in the record, capacity came back through replacement projects "
            "and the closed induction-furnace output entered the statistics, and the run has neither.")
    if "ppi" in ds.series.values:
        out.append(
            f"- **Prices.** The 2016-2017 price boom is missed: producer prices rose {o('ppi', 2017)}% in 2017, the "
            f"model's {m('ppi', 2017)}%. The model's prices follow its own costs and utilisation; the coal, coke "
            "and ore prices that drove the boom are not an input (fuel prices are held at their 2016 level).")
    if "industrial_profit_growth" in ds.series.values:
        out.append(
            f"- **Profits.** The model's industrial profits grow {m('industrial_profit_growth', 2017)}% in 2017 "
            f"(observed {o('industrial_profit_growth', 2017)}%, the price boom) and "
            f"{m('industrial_profit_growth', 2019)}% in 2019 (observed {o('industrial_profit_growth', 2019)}%): "
            "in the run the VAT cut and tight heavy industry lift margins in 2019; world trade and the US tariffs "
            "are inputs, the domestic demand slowdown of 2018-2019 is not.")
    if "vat_revenue_growth" in ds.series.values:
        out.append(
            f"- **VAT.** VAT revenue growth beats the random walk (error {err('vat_revenue_growth')} against "
            f"{rw('vat_revenue_growth')}) mostly because the random walk carries 2016's "
            f"{o('vat_revenue_growth', 2016)}% (VAT replaced the business tax on services in May 2016) into "
            f"2017; the model's 2019 fall ({m('vat_revenue_growth', 2019)}% against {o('vat_revenue_growth', 2019)}%) "
            "is the April 2019 cut on manufacturing alone, while observed VAT includes services.")
    if "inclusive_sme_loan_growth" in ds.series.values:
        out.append(
            f"- **Credit.** SME loans grow {m('inclusive_sme_loan_growth', 2018)}% in 2018 and "
            f"{m('inclusive_sme_loan_growth', 2020)}% in 2020 in the model against "
            f"{o('inclusive_sme_loan_growth', 2018)}% and {o('inclusive_sme_loan_growth', 2020)}% observed: the "
            "targets for inclusive loans (themselves a policy, binding on quantities since issue 20 part 6) lift "
            "the model's SME lending in 2019 by a few per cent. "
            "The NPL ratio starts at zero in the model and stays below the observed stock of past bad loans.")
    return "\n".join(out)


def estimate_rows(res) -> list[list[str]]:
    """parameter, default, estimate (marked when on a bound), bounds: one row per estimated parameter."""
    e = res.estimate
    rows = []
    for p in e.params:
        v = e.values[p.name]
        edge = " (at the bound)" if v in (p.lo, p.hi) else ""
        rows.append([p.name, f"{e.defaults[p.name]:.3g}", f"{v:.3g}{edge}", f"[{p.lo:g}, {p.hi:g}]"])
    return rows


def judged_rows(res) -> list[list[str]]:
    """series, judged years, RMSE with the estimates, with the defaults, random walk, AR(1)."""
    rows = []
    for s in res.ds_defaults.series.values:
        x0, x1 = res.ds_defaults.sel(series=s), res.ds_estimates.sel(series=s)
        judged = [int(y) for y in x0.year.values if np.isfinite(float(x0.in_band.sel(year=y)))]
        rows.append([str(s), ",".join(map(str, judged)) or "none", _n(float(x1.rmse), 2),
                     _n(float(x0.rmse), 2), _n(float(x0.rmse_random_walk), 2), _n(float(x0.rmse_ar1), 2)])
    return rows


def estimation_section(res, fragment_path: str) -> str:
    """Issue 21 part 5: the split, the parameters, the estimates, the in-sample loss and the
    out-of-sample scores against the defaults and the benchmarks, worded from the numbers."""
    from .fit import SCALE_FLOOR

    e = res.estimate
    y0, y1, j0, j1 = e.targets.years[0], e.targets.until, res.judged[0], res.judged[-1]
    better_in = e.loss < e.loss_defaults
    better_out = res.loss_judged_estimates < res.loss_judged_defaults
    rows = judged_rows(res)
    n_est = sum(1 for r in rows if r[2] != "-" and r[3] != "-" and float(r[2]) < float(r[3]))
    n_rw = sum(1 for r in rows if r[2] != "-" and r[4] != "-" and float(r[2]) <= float(r[4]))
    n_ar = sum(1 for r in rows if r[2] != "-" and r[5] != "-" and float(r[2]) <= float(r[5]))
    n_arok = sum(1 for r in rows if r[5] != "-")
    points = ", ".join(f"`{n}` {','.join(map(str, sorted(v)))}" for n, v in e.targets.observed.items())
    n_pts = sum(len(v) for v in e.targets.observed.values())
    at_bound = [p.name for p in e.params if e.values[p.name] in (p.lo, p.hi)]
    edge = (" " + ", ".join(f"`{n}`" for n in at_bound) + " sits on a bound of its search range: the "
            "estimation sample pushes past it, and the estimate there is a bound, not a point estimate."
            if at_bound else "")
    rw_word = "below" if res.loss_judged_estimates < res.loss_judged_random_walk else "above"
    verdict = ("The estimates lower the loss out of sample too" if better_out else
               "The estimates do not lower the loss out of sample: what they gain on the estimation years is "
               "not there in the judged years")
    return "\n".join([
        f"## Estimation: fitted on {y0}-{y1}, judged on {j0}-{j1}", "",
        f"Generated by `python -m sim.hindcast.page` with `sim.hindcast.fit` ({res.scenario}, {res.firms} firms, "
        f"{res.seconds:.0f} s in all; the command is `sim hindcast-fit scenarios/history/decapacity_2016.toml "
        f"--fit-until {y1} --firms {res.firms} --seeds {len(res.judge_seeds)} --out {fragment_path}`). The "
        f"estimates are written to `{fragment_path}`, a scenario fragment to extend after the history "
        "scenario.", "",
        f"- **The split.** The estimation sees the observations of {y1} and before only "
        f"(`observations_until`), and its runs end in December {y1}; the estimates are judged on {j0}-{j1} "
        f"only, on other seeds ({', '.join(map(str, res.judge_seeds))}) than those of the estimation "
        f"({', '.join(map(str, e.seeds))}). No observed point is used both to fit and to judge: the fitted "
        f"points are {points}; the judged points are the same series in {j0}-{j1}.",
        "- **The parameters.** Behavioural assumptions that no source pins (\"assumption\" in "
        "`docs/scenario-reference.md`) and that act on the fitted series: " + "; ".join(
            f"`{p.name}` ({p.why})" for p in e.params) + ".",
        "- **The loss.** The mean over the fitted series of the mean over their fitted years of the squared "
        "error of the mean over seeds, in units of the series' typical one-year observed change up to "
        f"{y1} (root mean square of the observed changes, at least {SCALE_FLOOR} pp), so each series weighs "
        "the same and 1 is an error of the size of a year's change. The NPL ratio, SME loans and VAT are not "
        "fitted (a stock of past defaults, a lending target, services in observed VAT: no behavioural "
        "parameter here bears on those gaps).",
        f"- **The search.** The defaults, a scrambled Sobol design of {e.design} points in the box below "
        f"(scipy.stats.qmc, seed {e.rng_seed}), then {e.refine} rounds of compass search from the best point "
        f"(steps of a quarter, then an eighth, of each range): {len(e.search.rows)} candidates, every one on the "
        f"same seeds (common random numbers), {e.seconds:.0f} s.", "",
        _md(["parameter", "default", "estimate", "searched in"], [[f"`{r[0]}`", *r[1:]] for r in estimate_rows(res)]),
        "",
        _md(["loss", f"in sample ({y0}-{y1})", f"out of sample ({j0}-{j1})"],
            [["defaults", f"{e.loss_defaults:.3f}", f"{res.loss_judged_defaults:.3f}"],
             ["estimates", f"{e.loss:.3f}", f"{res.loss_judged_estimates:.3f}"],
             ["random walk", "-", f"{res.loss_judged_random_walk:.3f}"]]),
        "",
        f"Out of sample, RMSE in percentage points on {j0}-{j1} (seeds {', '.join(map(str, res.judge_seeds))}); "
        f"the random walk forecasts each year from the observed year before it and the AR(1) is fitted on "
        f"the observations up to {y1} (undefined with fewer than three consecutive pairs):", "",
        _md(["series", "years judged", "estimates", "defaults", "random walk", "AR(1)"],
            [[f"`{r[0]}`", *r[1:]] for r in rows]),
        "",
        f"Reading: in sample the estimates {'lower' if better_in else 'do not lower'} the loss "
        f"({e.loss:.3f} against {e.loss_defaults:.3f}). {verdict} ({res.loss_judged_estimates:.3f} against "
        f"{res.loss_judged_defaults:.3f}), and the estimates' loss is {rw_word} the random walk's "
        f"({res.loss_judged_random_walk:.3f}); their RMSE is below the defaults' for {n_est} of {len(rows)} "
        f"series, at most the random walk's for {n_rw} and at most the AR(1)'s for {n_ar} of the {n_arok} series "
        f"that have one.{edge} The judged years hold 2020's lockdown, which no scenario contains, and "
        f"{n_pts} observed points of {len(e.targets.observed)} series are few for {len(e.params)} parameters, "
        "so the estimates are a diagnosis of where the defaults miss, not values to carry into the 2019 "
        "baseline."])


def history_section(ds19: xr.Dataset, ds16: xr.Dataset, seconds: float) -> str:
    return "\n".join([run_section(ds16, seconds, FIG_2016.name), "", history_reading(ds16), "",
                       "### The two runs side by side (RMSE in percentage points, scored years only)", "",
                       side_by_side(ds19, ds16), "", SPLIT.strip()])


def render_page(h: History, run_text: str, history_text: str = "", fit_text: str = "") -> str:
    """The whole page: the fixed text, the generated run sections and the data table."""
    gap = ("- **Series without a model counterpart.** Levels (tonnes, yuan, cases: the model's money is in "
           "2019 prices and its firms stand for the 2019 population), trade (an open run has no export or import "
           "series; a closed run records the modelled industries' exports, not yet mapped onto "
           "`china_exports_growth`) and the debt ratio (a run's output holds loans and net "
           "worth, not total liabilities), and growth rates observed only in years a run from 2019 cannot compare: "
           + ", ".join(unmapped(h)) + ".\n")
    history = HISTORY_INTRO + f"{HIST_START}\n{history_text}\n{HIST_END}\n" if history_text else ""
    if fit_text:
        history += f"\n{FIT_START}\n{fit_text}\n{FIT_END}\n"
    return (INTRO + f"{RUN_START}\n{run_text}\n{RUN_END}\n" + history
            + NOT_BUILT.replace("- **Data.**", gap + "- **Data.**")
            + f"{DATA_START}\n{data_table(h)}\n{DATA_END}\n")


def data_section(text: str) -> str:
    return text.split(DATA_START, 1)[1].split(DATA_END, 1)[0].strip("\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "miit_2019.toml"))
    ap.add_argument("--history", default=str(ROOT / "scenarios" / "history" / "decapacity_2016.toml"))
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
    t0 = time.perf_counter()
    ds16 = hindcast(a.history, seeds, firms=a.firms)
    secs16 = time.perf_counter() - t0
    plot(ds16, FIG_2016, overwrite=True)
    from .fit import fit, fragment

    res = fit(a.history, firms=a.firms, judge_seeds=seeds)
    rel = str(FRAGMENT.relative_to(ROOT))
    FRAGMENT.write_text(fragment(res, f"python -m sim.hindcast.page (sim hindcast-fit "
                                      f"scenarios/history/decapacity_2016.toml --firms {a.firms} --seeds {a.seeds} "
                                      f"--out {rel})", "decapacity_2016.toml", FRAGMENT.name))
    DOC.write_text(render_page(h, run_section(ds, secs) + "\n\n" + relief_section(h, relief, seeds),
                               history_section(ds, ds16, secs16), estimation_section(res, rel)))
    print(f"wrote {DOC.relative_to(ROOT)}, {FIG.relative_to(ROOT)}, {FIG_2016.relative_to(ROOT)} and {rel}")


if __name__ == "__main__":
    main()
