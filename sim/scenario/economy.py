"""Scenario section `[economy]`: the institutions around the modelled industries (households,
government, central bank, rest of the world, rest of the domestic economy) and how they close the
accounts (docs/model.md, "The whole economy").

Figures are for China in 2019; each carries its source. Shares by sector are of a sector's final
demand at the start (what is left after intermediate and investment demand), split between the
buyers that pay for it.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from .schema import SECTORS, SectorId, Strict, meta

Share = Annotated[float, Field(ge=0, le=1)]
ShareTable = dict[SectorId, Share]

# Who buys each sector's final demand in 2019 (shares of final demand, the rest bought by the rest of
# the domestic economy: construction, infrastructure and the equipment other industries install).
# Inferred from the structure of NBS's 2017 input-output table and the trade figures below; the
# exports add up to 16.5 trn yuan a year against goods exports of 17.23 trn (GACC 2019, of which
# manufactures ~94%).
_HOUSEHOLD = {"steel": 0.0, "nonferrous": 0.0, "cement": 0.0, "flat_glass": 0.0, "chemicals": 0.3,
              "machinery": 0.05, "autos": 0.75, "nev": 0.85, "electronics": 0.3, "textiles": 0.55}
_GOVERNMENT = {"steel": 0.0, "nonferrous": 0.0, "cement": 0.0, "flat_glass": 0.0, "chemicals": 0.0,
               "machinery": 0.05, "autos": 0.05, "nev": 0.1, "electronics": 0.05, "textiles": 0.05}
# steel exports 64.3 Mt of 996 Mt output (NBS/GACC 2019): ~0.11 of steel's final demand
_EXPORT = {"steel": 0.11, "nonferrous": 0.1, "cement": 0.0, "flat_glass": 0.1, "chemicals": 0.4,
           "machinery": 0.35, "autos": 0.05, "nev": 0.05, "electronics": 0.55, "textiles": 0.3}
# imported share of domestic buyers' purchases of each good (inferred: steel imports 12.3 Mt of ~950 Mt
# used, GACC 2019; imported cars 1.05 m of 25.8 m sold, CAAM 2019; chips and parts dominate electronics)
_IMPORT = {"steel": 0.02, "nonferrous": 0.15, "cement": 0.005, "flat_glass": 0.05, "chemicals": 0.2,
           "machinery": 0.15, "autos": 0.1, "nev": 0.02, "electronics": 0.25, "textiles": 0.08}

# what buyers import of the orders a sector at capacity cannot fill (by tradability: metals at import
# parity, all of it: when China's steel and aluminium ran short in 2020, imports of finished steel rose
# 64% to 20.2 Mt and of semis from 3.1 Mt to about 18 Mt (GACC via SteelOrbis, 2021-01-14), of primary
# aluminium 6.6-fold in January-July to 0.35 Mt (GACC via MetalTorg, 2020); cement local; manufactures
# half, an assumption)
_SHORTAGE = {"steel": 1.0, "nonferrous": 1.0, "cement": 0.1, "flat_glass": 0.3, "chemicals": 0.5,
             "machinery": 0.5, "autos": 0.5, "nev": 0.5, "electronics": 0.5, "textiles": 0.5}


class Economy(Strict):
    model_config = ConfigDict(validate_default=True)
    _section: ClassVar[str] = "economy"

    closure: Literal["open", "closed"] = meta(
        "closed", "How final demand is paid. 'open': final demand follows trend, prices and an income index "
        "(nobody's budget; the accounts of firms and banks close, the economy's do not). 'closed': households, "
        "government, the rest of the world and the rest of the domestic economy buy it out of their budgets, and "
        "the transaction-flow matrix closes every month (output tfm, balance_sheet).", "-",
        "Godley and Lavoie, Monetary Economics (2007); issue 19")
    budget_rule: Literal["deficit", "revenue", "debt_target"] = meta(
        "deficit", "Government purchases: 'deficit' on their trend path whatever the revenue (a tax cut is "
        "financed with bonds); 'revenue' follow revenue with a lag (behaviour.income_smoothing); 'debt_target' "
        "close a share of the gap between debt and its target each month.", "-", "issue 19; MODEL.md")
    debt_target: float = meta(0.38, "Government debt the 'debt_target' rule aims at, share of annual GDP.",
                              "share of GDP", "MOF 2019: central 16.8 trn + local 21.3 trn yuan, GDP 99.1 trn",
                              ge=0, le=3)
    debt_adjustment: float = meta(0.02, "Share of the gap between debt and its target closed a month by "
                                  "purchases under 'debt_target'.", "1/month", "assumption", ge=0, le=1)
    growth_learning: float = meta(
        1.0 / 36.0, "Monthly weight of the latest growth of households' smoothed disposable income in the growth "
        "they expect; the propensity to consume out of income is set each month so that saving keeps deposits at "
        "deposits_to_income times income at that growth (0: the trend growth of the start throughout).", "1/month",
        "adaptive expectations (Nerlove, JFE 1958); the stock-flow norm of Godley and Lavoie (2007, ch. 3); a "
        "three-year mean lag, assumption (a faster one reads a jump in income as growth and saves it)", ge=0, le=1)
    propensity_wealth: float = meta(0.04, "Households' spending out of deposits a year.", "1/yr",
                                    "Godley and Lavoie (2007) model PC use 0.4 on a wider wealth; deposits "
                                    "assumed", ge=0, le=1)
    deposits_to_income: float = meta(1.91, "Households' deposits over annual disposable income at the start; "
                                     "the propensity to consume out of income is set so that this ratio is "
                                     "stationary at the growth households expect.", "yr",
                                     "PBoC 2019: household deposits 82.1 trn; NBS 2019: disposable income "
                                     "30,733 yuan x 1,400 m", ge=0.1, le=10)
    disposable_income: float = meta(43.0, "Households' disposable income in the start year.", "trn yuan/yr",
                                    "NBS 2019 communique: 30,733 yuan per person x 1,400.05 m people", gt=0,
                                    le=1000)
    gdp: float = meta(99.09, "GDP in the start year (scales the rest of the economy).", "trn yuan/yr",
                      "NBS 2019 communique (preliminary): 99,086.5 bn yuan", gt=0, le=1000)
    debt_to_gdp: float = meta(0.38, "Government debt at the start, share of annual GDP.", "share of GDP",
                              "MOF 2019: 38.1 trn yuan", ge=0, le=3)
    government_share_of_gdp: float = meta(0.165, "Government purchases (consumption and the investment it "
                                          "pays for) at the start, share of GDP.", "share of GDP",
                                          "NBS 2019: government consumption ~16.5% of GDP (inferred)", ge=0,
                                          le=0.8)
    transfers_share_of_gdp: float = meta(0.03, "Transfers to households at the start, share of GDP; they grow "
                                         "with the trend.", "share of GDP", "assumption", ge=0, le=0.5)
    bond_rate: float = meta(0.032, "Yield on government bonds.", "1/yr",
                            "ChinaBond 2019: 10-year yield 3.1-3.3%", ge=0, le=0.3)
    required_reserve_ratio: float = meta(0.094, "Required reserves over deposits.", "share",
                                         "PBoC 2020-01: weighted average 9.4% after the January cut", ge=0, le=1)
    reserve_rate: float = meta(0.0162, "Interest the central bank pays on required reserves.", "1/yr",
                               "PBoC: 1.62% on required reserves", ge=0, le=0.3)
    excess_reserve_rate: float = meta(0.0035, "Interest the central bank pays on excess reserves.", "1/yr",
                                      "PBoC: 0.35% on excess reserves", ge=0, le=0.3)
    advance_spread: float = meta(0.0, "Spread over the policy rate of central-bank advances to banks short of "
                                 "funds (re-lending).", "1/yr", "assumption", ge=0, le=0.3)
    export_elasticity: float = meta(1.0, "Price elasticity of exports to the ex-VAT domestic price.", "-",
                                    "Cheung, Chinn and Qian, Review of International Economics 2012 (~1)",
                                    ge=0, le=10)
    current_account_share_of_gdp: float = meta(
        0.01, "Exports less imports at the start, share of GDP; the rest of the economy's imported share of what "
        "it sells to the modelled industries (crude oil, ores, concentrates, parts) is set to meet it.",
        "share of GDP", "SAFE 2019 balance of payments: current account 141.3 bn USD (~0.98 trn yuan)", ge=-0.2,
        le=0.2)
    shortage_import_share: ShareTable = meta(
        dict(_SHORTAGE), "Share of the orders a sector could not fill (at capacity, final and intermediate) that "
        "buyers import instead; the rest is rationed (the budget is saved). A number applies to every sector.",
        "share", "by tradability: metals trade at import parity, so a shortage is imported in full (steel imports "
        "12.3 Mt and exports 64.3 Mt in 2019, GACC; when domestic steel and aluminium ran short in 2020, finished "
        "steel imports rose 64% to 20.2 Mt and semis from 3.1 to ~18 Mt, GACC via SteelOrbis 2021, primary aluminium "
        "imports 6.6-fold in Jan-Jul, GACC via MetalTorg 2020); cement hardly travels (imports ~1% of use, 22.6 Mt "
        "of 2.33 bn t, GACC/NBS 2019); manufactures half (assumption)")
    firm_liquidity_target: float = meta(
        0.12, "Deposits a firm keeps, share of its annual revenue; above it, part of the excess is paid to its "
        "owners each month (firms' saving is spent, not hoarded).", "share of annual revenue",
        "inferred: NBS 2019 current assets of industrial enterprises (the set-up's deposits-to-revenue)", ge=0,
        le=5)
    excess_cash_payout: float = meta(0.05, "Share of deposits above the liquidity target paid to owners a month.",
                                     "1/month", "assumption", ge=0, le=1)
    household_share: ShareTable = meta(dict(_HOUSEHOLD), "Share of the sector's final demand at the start "
                                       "bought by households (a table by sector).", "share",
                                       "inferred from NBS input-output table 2017 structure")
    government_share: ShareTable = meta(dict(_GOVERNMENT), "Share of the sector's final demand at the start "
                                        "bought by the government.", "share",
                                        "inferred from NBS input-output table 2017 structure")
    export_share: ShareTable = meta(dict(_EXPORT), "Share of the sector's final demand at the start exported.",
                                    "share", "inferred; steel 64.3 Mt exported (GACC 2019); in all 16.5 of "
                                    "17.23 trn yuan (GACC 2019)")
    import_share: ShareTable = meta(dict(_IMPORT), "Imported share of domestic buyers' purchases of the "
                                    "sector's goods.", "share",
                                    "inferred; steel 12.3 Mt (GACC 2019), cars 1.05 m of 25.8 m (CAAM 2019)")

    @field_validator("household_share", "government_share", "export_share", "import_share",
                     "shortage_import_share", mode="before")
    @classmethod
    def _complete(cls, v: Any, info: Any) -> Any:
        """A table that names some sectors keeps the defaults of the others; shortage_import_share
        also takes one number for every sector."""
        if info.field_name == "shortage_import_share" and isinstance(v, int | float) and not isinstance(v, bool):
            return dict.fromkeys(SECTORS, v)
        if isinstance(v, dict):
            base = {"household_share": _HOUSEHOLD, "government_share": _GOVERNMENT, "export_share": _EXPORT,
                    "import_share": _IMPORT, "shortage_import_share": _SHORTAGE}[info.field_name]
            return {**base, **v}
        return v

    @model_validator(mode="after")
    def _buyers(self) -> Economy:
        for s in SECTORS:
            if self.import_share[s] >= 1:
                raise ValueError(f"import_share of {s} is {self.import_share[s]}: it must be below 1 (some of "
                                 "the domestic buyers' purchases come from home)")
            total = self.household_share[s] + self.government_share[s] + self.export_share[s]
            if total > 1 + 1e-12:
                raise ValueError(f"household_share + government_share + export_share of {s} is {total:.3f} > 1 "
                                 "(the rest is bought by the rest of the economy)")
        return self
