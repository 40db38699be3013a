"""Which model output answers which observed series, and how (issue 21).

Each `Measure` turns one run (monthly Dataset of `sim.run`) into one value per calendar year that
the run covers in full, in the observed series' units (all %). Levels of the model (yuan, firms)
are not comparable with the observed levels: the model's firms stand for the NBS population in
2019 and its money is in 2019 prices, while NBS levels change sample each year. So the comparisons
are of growth rates, ratios and rates, as each `how` says.

`calibrated` lists the years in which the model's starting state was set to the observed figure
(docs/validation.md, sim/data/sectors.toml): those points are shown but never scored, so that no
observed number is used both to fit and to judge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class Measure:
    series: str                       # the observed series (sim/data/history)
    group: str                        # panel group of the figure and the page
    how: str                          # what is compared, in words
    fn: Callable[[xr.Dataset], dict[int, float]]
    calibrated: tuple[int, ...] = ()  # years the starting state was set to the observed figure
    caveat: str = ""                  # why the two may differ whatever the model does


def full_years(ds: xr.Dataset) -> list[int]:
    """Calendar years with all twelve months in the run."""
    years = ds.time.dt.year.values
    return [int(y) for y in np.unique(years) if int((years == y).sum()) == 12]


def _annual(da: xr.DataArray, how: str) -> dict[int, float]:
    years = full_years(da.to_dataset(name="x"))
    g = da.sel(time=da.time.dt.year.isin(years)).groupby("time.year")
    out = getattr(g, how)("time")
    return {int(y): float(out.sel(year=y)) for y in years}


def _december(da: xr.DataArray, ds: xr.Dataset) -> dict[int, float]:
    """Year-end stocks: the December value of every year whose December the run holds."""
    dec = ds.time.dt.month.values == 12
    return {int(y): float(v) for y, v in zip(ds.time.dt.year.values[dec], da.values[dec], strict=True)}


def _growth(level: dict[int, float]) -> dict[int, float]:
    return {y: 100.0 * (v / level[y - 1] - 1.0) for y, v in level.items() if y - 1 in level and level[y - 1]}


def _ratio(num: dict[int, float], den: dict[int, float]) -> dict[int, float]:
    return {y: 100.0 * num[y] / den[y] for y in num if den.get(y)}


def utilisation(sector: str | None) -> Callable[[xr.Dataset], dict[int, float]]:
    def fn(ds):
        out, cap = ds.output, ds.capacity
        if sector:
            out, cap = out.sel(sector=sector), cap.sel(sector=sector)
        else:
            out, cap = out.sum("sector"), cap.sum("sector")
        return _ratio(_annual(out, "sum"), _annual(cap, "sum"))
    return fn


def _pretax_profit(ds: xr.Dataset, sector: str | None = None) -> xr.DataArray:
    """NBS total profits are before income tax; the model's `profit` is after it."""
    p = ds.profit + ds.cit_revenue
    return p.sel(sector=sector) if sector else p.sum("sector")


def profit_growth(sector: str | None) -> Callable[[xr.Dataset], dict[int, float]]:
    return lambda ds: _growth(_annual(_pretax_profit(ds, sector), "sum"))


def profit_to_revenue(ds: xr.Dataset) -> dict[int, float]:
    return _ratio(_annual(_pretax_profit(ds), "sum"), _annual(ds.revenue.sum("sector"), "sum"))


def output_growth(sector: str | None) -> Callable[[xr.Dataset], dict[int, float]]:
    def fn(ds):
        out = ds.output.sel(sector=sector) if sector else ds.output.sum("sector")
        return _growth(_annual(out, "sum"))
    return fn


def ppi(ds: xr.Dataset) -> dict[int, float]:
    """Output-weighted producer price index of the ten sectors, yearly mean, change over the year."""
    w = ds.output
    idx = (ds.price_index * w).sum("sector") / w.sum("sector")
    return _growth(_annual(idx, "mean"))


def vat_growth(ds: xr.Dataset) -> dict[int, float]:
    return _growth(_annual(ds.vat_revenue.sum("sector"), "sum"))


def sme_loan_growth(ds: xr.Dataset) -> dict[int, float]:
    """Stock of SME loans in December over the previous December. For the run's first year the
    first month's stock stands for the previous December (the model starts from the observed
    stock), and the growth over those eleven months is annualised."""
    stock = ds.credit.sel(size_class="sme")
    dec = _december(stock, ds)
    out = _growth(dec)
    years = full_years(ds)
    if years and years[0] == int(ds.time.dt.year[0]) and int(ds.time.dt.month[0]) == 1:
        first = float(stock.isel(time=0))
        if first:
            out[years[0]] = 100.0 * ((dec[years[0]] / first) ** (12 / 11) - 1.0)
    return out


def sme_loan_rate(ds: xr.Dataset) -> dict[int, float]:
    rate = ds.loan_rate_new.sel(size_class="sme")
    years = full_years(ds)
    g = rate.sel(time=rate.time.dt.year.isin(years)).groupby("time.year")
    mean = g.mean("time", skipna=True)
    return {y: 100.0 * float(mean.sel(year=y)) for y in years}


def npl_ratio(ds: xr.Dataset) -> dict[int, float]:
    return {y: 100.0 * v for y, v in _december(ds.npl_ratio, ds).items()}


LOCKDOWN = "2020 holds the first-quarter lockdown (utilisation 67.3% in Q1 2020, NBS), which no scenario contains"

MEASURES: tuple[Measure, ...] = (
    Measure("utilisation_industry", "industry",
            "level: output over capacity, all ten sectors, summed over the year", utilisation(None), (2019,),
            f"{LOCKDOWN}; NBS covers mining and utilities too"),
    Measure("industrial_va_growth", "industry",
            "growth: real gross output of the ten sectors (the model has no real value added)",
            output_growth(None), caveat=f"gross output of ten manufacturing sectors against value added of all "
                                        f"industry; {LOCKDOWN}"),
    Measure("industrial_profit_growth", "industry",
            "growth: profit before income tax (profit + CIT), ten sectors", profit_growth(None),
            caveat=f"profits are a small difference of large numbers; NBS growth is on a comparable sample; "
                   f"{LOCKDOWN}"),
    Measure("profit_to_revenue", "industry",
            "ratio: profit before income tax over sales, ten sectors", profit_to_revenue, (2019,),
            f"NBS covers mining and utilities and counts profit over all revenue; {LOCKDOWN}"),
    Measure("ppi", "industry", "growth: yearly mean of the output-weighted producer price index", ppi,
            caveat="the model's prices are ten sectors' ex-VAT prices; the NBS index includes mining and oil"),
    Measure("crude_steel_output_growth", "steel", "growth: real output of the steel sector", output_growth("steel"),
            caveat=f"crude steel tonnes against the steel sector's real output; {LOCKDOWN}"),
    Measure("utilisation_steel", "steel", "level: output over capacity, steel", utilisation("steel"), (2019,),
            "NBS division 31 includes rolling and processing; the 2019 figure is derived (2020 value + 1.2 pp)"),
    Measure("utilisation_aluminium", "materials", "level: output over capacity, non-ferrous sector",
            utilisation("nonferrous"), (2019,),
            "only 2019 was found, the year the 2019 calibration sets; the model's sector is all non-ferrous metals"),
    Measure("steel_profit_growth", "steel", "growth: steel profit before income tax", profit_growth("steel"),
            caveat="a sector's profit growth swings by tens of percent with a few points of margin"),
    Measure("cement_output_growth", "materials", "growth: real output of the cement sector", output_growth("cement"),
            caveat=f"tonnes against real output; {LOCKDOWN}"),
    Measure("aluminium_output_growth", "materials",
            "growth: real output of the non-ferrous sector, aluminium among it", output_growth("nonferrous"),
            caveat="the model's sector is all non-ferrous metals and its aluminium capacity is capped at 45 Mt; the "
                   "observed figures are weak (news pages)"),
    Measure("vat_revenue_growth", "taxes",
            "growth: VAT remitted by the ten sectors (observed: all domestic VAT, services included)", vat_growth,
            caveat="observed VAT includes services and construction; a run's first year has no year before "
                   f"it, so a cut in that year (April 2019 in a run from 2019) shows in no growth rate; {LOCKDOWN}"),
    Measure("inclusive_sme_loan_growth", "credit",
            "growth: December stock of loans to model SMEs (revenue < 400 m yuan, so medium firms too)",
            sme_loan_growth, caveat="inclusive loans are loans of at most 10 m yuan to small and micro firms, "
                                    "whose growth was itself a target for banks (docs/calibration-facts.md #47)"),
    Measure("inclusive_sme_loan_rate", "credit", "rate: yearly mean rate on new SME loans", sme_loan_rate, (2019,),
            "the model's SMEs include medium firms, which borrow cheaper; 2020 observed is January-November"),
    Measure("npl_ratio", "credit",
            "ratio: non-performing over all loans in December (the model's counter starts at zero in "
            "its first month)", npl_ratio, (2019,),
            "the observed ratio is a stock of past defaults; the model's starts empty and builds up"),
)

BY_NAME = {m.series: m for m in MEASURES}

# the measures whose observed figure the 2016 calibration (sim/data/sectors_2016.toml, the state at
# 2016-01) sets from 2015: utilisation and profit margins; the banks' loan book starts without bad
# loans and SME loans are priced by the banks, as in 2019, but no 2015 rate or ratio is set
SET_BY_2016 = ("utilisation_industry", "utilisation_steel", "utilisation_aluminium", "profit_to_revenue")


def calibrated_years(m: Measure, calibration: str = "2019") -> tuple[int, ...]:
    """The years of `m` whose observed figure the starting state of `calibration` was set to (shown,
    never scored): `m.calibrated` for the 2019 tables, 2015 for the measures SET_BY_2016 under the
    2016 tables."""
    if calibration == "2019":
        return m.calibrated
    return (2015,) if calibration == "2016" and m.series in SET_BY_2016 else ()
