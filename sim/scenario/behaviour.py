"""Scenario section `[behaviour]`: how firms and banks decide (docs/model.md). Split from schema.py,
which holds the other sections and the Scenario that gathers them."""

from __future__ import annotations

from typing import ClassVar, Literal

from .schema import Strict, meta


class Behaviour(Strict):
    _section: ClassVar[str] = "behaviour"

    replicator_speed: float = meta(0.02, "Replicator-dynamics speed of market shares.", "1/month",
                                   "form from Dosi et al. (JEDC 2010); calibrated (2026-12, issue 20) jointly with "
                                   "min_relative_share to a stationary number of firms at the 2019 entry rates over 16 "
                                   "years (closed baseline, 3,000 firms, seeds 0 and 1): at 0.06 a firm 5% dearer lost "
                                   "about 10% of its share a year, faster than its capacity depreciates, and from the "
                                   "sixth year the loss-making share rose to 16-17%, NPLs to 5-16% and the count fell "
                                   "13-27%; at 0.02 the count stays within -1% to +16% and the loss share 4-10%",
                                   ge=0, le=1)
    share_level_adjustment: float = meta(
        0.0, "Monthly partial adjustment of market shares toward the level relative prices imply for the firm's "
        "customer base, b_i E_i e^x_i / sum_j b_j E_j e^x_j (b_i: the firm's share over its E e^x when it first "
        "sells, fixed after), on top of the replicator (0: the replicator alone; docs/model.md section 3).",
        "1/month", "customer markets: demand with a level elasticity to the relative price and a partial adjustment "
        "of customers toward it (Phelps and Winter 1970; Gottfries, Scand. J. Econ. 1991); firm-specific demand "
        "(Foster, Haltiwanger and Syverson, AER 2008); assumption. Off in the baseline (2026-12, issue 20; closed "
        "baseline, 3,000 firms, seeds 0-5, 16 years): at 0.02 with min_relative_share 0.045 the number of firms "
        "holds (+4%, against +13%) and SME defaults in years 10-16 fall from 2.9% to 1.9% a year, as low as with "
        "shares frozen, but stay above years 2-5 (1.3%), and the loss-making share falls from 7.1% to 5.5% "
        "(docs/model.md, Known simplifications)", ge=0, le=1)
    share_price_sensitivity: float = meta(3.0, "Weight of relative price in competitiveness.", "-",
                                          "Dosi et al. (JEDC 2010), assumption", ge=0, le=50)
    share_backlog_sensitivity: float = meta(1.0, "Weight of unfilled orders in competitiveness.", "-",
                                            "Dosi et al. (JEDC 2010), assumption", ge=0, le=50)
    markup_share_response: float = meta(0.05, "Markup response to market-share growth.", "-",
                                        "Dosi et al. (JEDC 2013) variable markups", ge=0, le=2)
    markup_anchor_speed: float = meta(0.05, "Monthly pull of markups toward the sector norm.", "1/month",
                                      "assumption", ge=0, le=1)
    markup_backlog_response: float = meta(0.0, "Retired and ignored (a warning says so): the markup no "
                                          "longer rises with unfilled orders; prices rise near capacity through "
                                          "overtime costs (overtime_premium) and the utilisation-driven norm.",
                                          "-", "retired (2026-12): was a ratchet", ge=0, le=5)
    markup_utilisation_response: float = meta(0.35, "Markup points added to the sector norm per unit of the "
                                              "sector's smoothed utilisation above its 2019 rate (bounded: "
                                              "utilisation cannot pass 1), times the share of a shortage its "
                                              "buyers cannot import (1 - economy.shortage_import_share: a metal "
                                              "short at home is priced at import parity).", "-", "assumption",
                                              ge=0, le=5)
    normal_utilisation: float = meta(0.766, "Normal capacity utilisation: firms plan capacity so that expected "
                                     "orders use this share of it, and pay overtime above it.", "share",
                                     "NBS 2019: industrial capacity utilisation 76.6% (2018 76.5%, 2017 77.0%)",
                                     gt=0.3, le=1)
    overtime_premium: float = meta(0.5, "Wage premium on the labour that output above normal utilisation "
                                   "takes (unit costs rise as a firm nears capacity).", "share of the wage",
                                   "Labour Law of the PRC (1994) art. 44: 150% of the wage for extended hours",
                                   ge=0, le=3)
    critical_input_threshold: float = meta(0.03, "An input from another sector is critical to a buyer when it "
                                           "takes at least this many yuan per yuan of the buyer's output; a "
                                           "buyer short of a critical input produces less in proportion "
                                           "(above 0.35, the largest coefficient, rationing is off).", "yuan/yuan",
                                           "assumption after Pichler et al. (JEDC 2022), critical inputs",
                                           ge=0, le=1)
    vat_margin_decay: float = meta(0.04, "Monthly erosion of the margin kept from a VAT cut.", "1/month",
                                   "assumption (competition erodes it within ~2 years)", ge=0, le=1)
    expectation_speed: float = meta(0.15, "Adaptive-expectations weight on the latest orders.", "1/month",
                                    "assumption", gt=0, le=1)
    growth_learning: float = meta(
        1.0 / 36.0, "Monthly weight of the latest growth of a sector's smoothed orders in the growth its firms "
        "expect and build capacity for (0: the sector's demand_growth throughout).", "1/month",
        "adaptive expectations (Nerlove, JFE 1958), a three-year mean lag as for households "
        "(economy.growth_learning); assumption", ge=0, le=1)
    investment_adjustment: float = meta(0.05, "Share of the gaps in capacity and in capacity under "
                                        "construction closed by new projects each month.", "1/month",
                                        "stock-management rule (Sterman 1989), assumption", ge=0, le=1)
    max_expansion: float = meta(0.1, "Largest monthly project as a share of current capacity.", "share",
                                "assumption", gt=0, le=5)
    upgrade_review_prob: float = meta(0.02, "Monthly probability that a firm reviews an upgrade.", "1/month",
                                      "assumption (about one review every 3 years)", ge=0, le=1)
    upgrade_lag: int = meta(6, "Months an upgrade takes.", "months", "assumption", ge=0, le=60)
    upgrade_horizon: int = meta(60, "Months of cost savings counted when deciding an upgrade.", "months",
                                "assumption", ge=1, le=600)
    upgrade_discount_rate: float = meta(0.10, "Discount rate for upgrade decisions.", "1/yr", "assumption",
                                        ge=0, le=1)
    upgrade_cost_fixed: float = meta(0.05, "Fixed cost of an upgrade, share of fixed capital.", "share",
                                     "assumption", ge=0, le=5)
    upgrade_cost_per_gap: float = meta(1.0, "Cost of an upgrade per log point closed, share of fixed capital.",
                                       "share", "assumption", ge=0, le=10)
    imitation_prob: float = meta(0.012, "Monthly probability that a firm imitates.", "1/month",
                                 "Dosi et al. (JEDC 2010), assumption", ge=0, le=1)
    imitation_speed: float = meta(0.05, "Share of the log gap to the frontier closed by imitation.", "share",
                                  "assumption", ge=0, le=1)
    frontier_volatility: float = meta(0.01, "Monthly sd of frontier innovation shocks.", "log points",
                                      "assumption", ge=0, le=1)
    loss_months_exit: int = meta(36, "Consecutive loss-making months before a voluntary exit.", "months",
                                 "assumption (2026-12: 12 -> 36 with heterogeneous profitability, issue 20: with 12 "
                                 "the loss-makers left within a year and the loss-making share fell from 15% to 6%; "
                                 "NBS finds ~15% loss-making year after year, and loss-makers persist: Tan, Huang "
                                 "and Woo 2016 on zombie firms)", ge=1, le=240)
    min_relative_share: float = meta(0.02, "A firm exits when its market share falls below this fraction "
                                     "of the sector's average share.", "-",
                                     "rule from Dosi et al. (JEDC 2010); calibrated (2026-12, issue 20) with "
                                     "replicator_speed so that the number of firms holds at the 2019 entry rates: at "
                                     "the old speed (0.06) 0.02 made exits 10-12% of firms a year, and 0.005 let a "
                                     "tail of tiny loss-makers build up; at speed 0.02, 0.005 and 0.01 let the count "
                                     "grow 29-42% in 16 years", ge=0, le=1)
    min_share_reference: Literal["2019", "current"] = meta(
        "2019", "The number of firms the small-share exit threshold divides min_relative_share by: '2019', the "
        "sector's simulated firms at the start (a fixed minimum share, as in Dosi et al. 2010); 'current', the "
        "firms alive now (the threshold then rises as firms leave, and a sector with many firms near it empties "
        "in a cascade).", "-",
        "Dosi, Fagiolo and Roventini (JEDC 2010): exit below a fixed minimum market share; the cascade under "
        "'current' diagnosed 2026-12 (docs/model.md, section 9)")
    min_share_needs_loss: bool = meta(
        False, "The small-share exit rule (min_relative_share) closes only firms that lose money over the trailing "
        "year; a small firm that makes a profit stays.", "-", "exit when the value of going on is negative "
        "(Jovanovic, Econometrica 1982; Hopenhayn, Econometrica 1992); assumption")
    dividend_payout: float = meta(0.3, "Share of positive net profit paid out.", "share", "assumption", ge=0,
                                  le=1)
    entry_profit_response: float = meta(8.0, "Semi-elasticity of entry to the sector's margin gap.", "-",
                                        "assumption", ge=0, le=100)
    entrant_size: float = meta(0.4, "Entrant size relative to the sector's median firm.", "-", "assumption",
                               gt=0, le=10)
    entrant_size_reference: Literal["incumbents", "2019"] = meta(
        "incumbents", "The median firm entrants are sized on: 'incumbents', the 2019 median scaled by the growth "
        "of capacity per firm since (entrants keep their size relative to the firms they meet); '2019', the "
        "2019 median (entrants shrink relative to incumbents as capacity per firm grows, and fall under the "
        "small-share threshold).", "-",
        "entrants' size relative to incumbents' average, as in Dosi et al. (JEDC 2010); diagnosed 2026-12 "
        "(docs/model.md, section 10)")
    entrant_gap_min: float = meta(0.2, "Smallest log productivity gap of entrants behind the frontier.",
                                  "log points", "assumption", ge=0, le=5)
    entrant_gap_max: float = meta(2.6, "Largest log productivity gap of entrants behind the frontier.",
                                  "log points", "assumption", ge=0, le=5)
    cycle_persistence: float = meta(0.9, "AR(1) persistence of demand shocks.", "-", "assumption", ge=0,
                                    lt=1)
    cycle_sigma_common: float = meta(0.01, "Monthly sd of the common demand shock.", "log points",
                                     "assumption", ge=0, le=1)
    cycle_sigma_sector: float = meta(0.01, "Monthly sd of sector demand shocks.", "log points", "assumption",
                                     ge=0, le=1)
    signal_smoothing: float = meta(0.2, "Monthly weight of the latest value in the sector utilisation and "
                                   "margin signals firms react to.", "1/month", "assumption", gt=0, le=1)
    replacement_quota_life: float = meta(24.0, "Mean life of unused capacity-replacement quota.", "months",
                                         "assumption (quota is traded within about two years)", ge=1, le=600)
    income_smoothing: float = meta(0.2, "Monthly weight of new income in the income index.", "1/month",
                                   "assumption", gt=0, le=1)
    wage_productivity_elasticity: float = meta(1.0, "Elasticity of wages to the economy's average "
                                               "productivity.", "-", "Dosi et al. (JEDC 2010): wages follow "
                                               "productivity", ge=0, le=2)
    cash_buffer_months: float = meta(0.5, "Cash a firm keeps, in months of sales.", "months",
                                     "assumption", ge=0, le=24)
    sme_revenue_threshold: float = meta(400e6, "Annual revenue at which a firm counts as large.", "yuan/yr",
                                        "NBS 2017 enterprise size classification (industry)", gt=0)
    small_profit_threshold: float = meta(3e6, "Annual taxable profit up to which the small-firm CIT rate "
                                         "applies.", "yuan/yr", "Caishui [2019] No. 13", ge=0)
    small_profit_lower_band: float = meta(1e6, "Annual taxable profit taxed at cit_rate_small; above it, up "
                                          "to small_profit_threshold, cit_rate_small_upper applies.", "yuan/yr",
                                          "Caishui [2019] No. 13", ge=0)
    loan_maturity: int = meta(36, "Months over which a loan amortises.", "months", "assumption", ge=1, le=600)
    max_debt_to_assets: float = meta(0.6, "Loans over assets beyond which no new credit is granted.", "share",
                                     "assumption", gt=0, le=1)
    interest_bearing_share: float = meta(0.4, "Bank loans over total liabilities at start (rest is trade "
                                         "credit).", "share", "inferred from NBS 2019 finance costs", ge=0,
                                         le=1)
    debt_to_assets: float = meta(0.566, "Debt-to-asset ratio of industrial firms at start.", "share",
                                 "NBS 2019", ge=0, lt=1)
    leverage_adjustment: float = meta(0.05, "Speed at which firms close the gap between their debt and their "
                                      "target debt (debt_to_assets x assets): they review their credit line once a "
                                      "year and then borrow 1 - (1 - x)^12 of the gap, what closing x of it every "
                                      "month would close in a year.", "1/month",
                                      "calibrated (sim check-facts): debt-to-assets near 56.6% (NBS 2019)", ge=0,
                                      le=1)
    leverage_reduction: float = meta(0.5, "Speed at which a firm whose debt is above its target pays it down, "
                                     "relative to leverage_adjustment: at its yearly review a firm whose instalment "
                                     "is renewed pays down this multiple of the share it would borrow of a gap below "
                                     "its target, out of deposits beyond its needs and cash buffer. 0: debt above "
                                     "target is amortised and renewed in full, so leverage only ratchets up (the rule "
                                     "until 2026-12).", "-",
                                     "partial adjustment from above: Flannery and Rangan (JFE 2006), about a third of "
                                     "the gap a year; fastest for firms above target with a financial surplus "
                                     "(Byoun, JF 2008); 0.5 calibrated (sim check-facts): at 1 credit turns weakly "
                                     "counter-cyclical", ge=0, le=1)
    recovery_rate: float = meta(0.15, "Share of a closed firm's fixed capital recovered when it is sold.",
                                "share", "calibrated (plant sold piecemeal): with other_assets_recovery and "
                                "court_cost, banks recover ~35% of their claims on liquidated estates (baseline, "
                                "5,000 firms), near the 36.9 cents on the dollar of World Bank, Doing Business "
                                "2020, China, Resolving insolvency", ge=0, le=1)
    other_assets_recovery: float = meta(
        0.3, "Share of a closed firm's receivables and inventories (other_assets) recovered when they are "
        "collected and sold.", "share",
        "calibrated with recovery_rate (recovery ~35% on liquidated estates); below going-concern advance rates "
        "(receivables ~80%, inventories ~50%) as a defaulted firm's receivables and stocks are impaired", ge=0,
        le=1)
    court_months: int = meta(
        20, "Months from a firm's default to the liquidation of its estate (the court procedure).", "months",
        "World Bank, Doing Business 2020, China, Resolving insolvency: time 1.7 years", ge=1, le=120)
    court_cost: float = meta(
        0.22, "Costs of the court procedure (administrator, court, lawyers, auction), share of the estate's "
        "liquidation value.", "share",
        "World Bank, Doing Business 2020, China, Resolving insolvency: cost 22% of the estate", ge=0, le=1)
    labour_cost_per_worker: float = meta(94000.0, "Labour compensation per worker, employer contributions "
                                         "included.", "yuan/yr",
                                         "NBS 2019: above-size average wage 75,229 yuan, plus ~25% contributions",
                                         gt=0)
    energy_price_2019: float = meta(580.0, "Energy price that converts energy spending to MWh "
                                    "electricity-equivalent.", "yuan/MWh",
                                    "China Briefing 2019: industrial power ~0.084 US$/kWh", gt=0)
    soe_size_ratio: float = meta(5.0, "Mean size of state-owned firms relative to private ones.", "-",
                                 "inferred: state-holding firms ~5.5% of firms, ~26% of profits (NBS 2019)",
                                 gt=0, le=100)
    size_productivity_corr: float = meta(0.3, "Correlation of log size and log productivity at start.", "-",
                                         "assumption", ge=-1, le=1)
    productivity_energy_corr: float = meta(-0.5, "Correlation of log productivity and log energy intensity.",
                                           "-", "assumption", ge=-1, le=1)
    # distress: heterogeneous opening balance sheets and lumpy firm-level shocks (docs/model.md, Distress)
    leverage_dispersion: float = meta(1.0, "Sd of the logit of a firm's liabilities-to-assets ratio at start, "
                                      "around the sector's ratio (the sector's totals of loans and other "
                                      "liabilities are kept). 0: every firm at the sector's ratio.", "logit points",
                                      "Chinese listed firms: debt-to-assets mean 0.57, sd 0.24 (China Finance and "
                                      "Economic Review 2017, table 1): sd / (d (1 - d)) = 0.98", ge=0, le=3)
    soe_leverage_shift: float = meta(0.45, "Logit of the liabilities-to-assets ratio of state-owned firms less "
                                     "that of private ones at start.", "logit points",
                                     "state-owned 65.0% vs 54.3% for all above-size industry (Shandong Statistical "
                                     "Yearbook 2016, table 14-10, 2015): 0.45; Fujian 2019 state-holding 58.0% vs "
                                     "private 47.1% (CALIBRATION #45): 0.44", ge=-3, le=3)
    large_leverage_shift: float = meta(0.0, "Logit of the liabilities-to-assets ratio of large firms less that of "
                                       "SMEs at start (beyond what ownership explains).", "logit points",
                                       "assumption: no size gradient found in the sources; ownership carries it",
                                       ge=-3, le=3)
    liquidity_dispersion: float = meta(0.65, "Sd of the log multiplier of a firm's deposits at start (the "
                                       "sector's total deposits are kept).", "log points",
                                       "Chinese listed firms 2009-22: cash / assets mean 0.193, sd 0.143 (CV 0.74, "
                                       "lognormal sd 0.66)", ge=0, le=3)
    cost_wedge_scale: float = meta(0.04, "Laplace scale of the firm's own cost wedge: cost per yuan of output "
                                   "beyond the sector's unit cost that its price does not pass on (overheads, "
                                   "X-inefficiency); firms draw it at start (sector mean 0) and again at each cost "
                                   "shock. 0 switches the wedge off.", "yuan/yuan",
                                   "calibrated (2026-12, issue 20) to the NPL ratio of commercial banks, 1.86% "
                                   "(CBIRC 2019), which the defaults of the loss-makers in the wedge's upper tail "
                                   "set: at 0.06 NPLs were 3-7% and banks failed every year; the loss-making share "
                                   "is then 8-14% against ~15% (NBS 2019), the gap that evergreening and soft "
                                   "budgets fill in China; Laplace profit rates: Alfarano et al. (JEDC 2012)",
                                   ge=0, le=0.5)
    cost_shock_prob: float = meta(1.0 / 36.0, "Monthly probability that a firm's cost wedge is redrawn (a lumpy "
                                  "cost shock: a contract repriced, a plant problem solved or met).", "1/month",
                                  "assumption: a cost position lasts three years on average", ge=0, le=0.5)
    order_jump_prob: float = meta(0.02, "Monthly probability of a lumpy order shock (a large order won or lost). "
                                  "0 switches the order shocks off.", "1/month",
                                  "Arata (JEDC 2019): firm growth is driven by a few large jumps; calibrated with "
                                  "order_jump_scale (sim check-facts: growth kurtosis 5.3, Laplace beats normal)",
                                  ge=0, le=0.5)
    order_jump_scale: float = meta(0.6, "Laplace scale of an order jump in log orders (its mean absolute size).",
                                   "log points", "calibrated: kurtosis of annual growth near 6, Laplace-like "
                                   "(Bottazzi and Secchi, RAND 2006); output moves less, being capped by capacity",
                                   ge=0, le=3)
    order_shock_persistence: float = meta(0.97, "Monthly persistence of the order shock (the rest returns to "
                                          "what competitiveness gives).", "-",
                                          "assumption: half-life about 23 months", ge=0, le=1)
