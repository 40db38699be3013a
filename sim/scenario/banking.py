"""Scenario section `[banking]`: the banks and the credit market (docs/credit.md). Split from
schema.py, which holds the other sections and the Scenario that gathers them."""

from __future__ import annotations

from typing import ClassVar, Literal

from .schema import Strict, meta


class Banking(Strict):
    _section: ClassVar[str] = "banking"

    market: Literal["banks", "passive"] = meta(
        "banks", "Credit supply: banks that ration by credit score under a capital constraint, or a passive "
        "lender that grants any request within a debt-to-assets ceiling (a no-frictions counterfactual).", "-",
        "MODEL.md step 7")
    banks_total: int = meta(4000, "Banks in the 1:1 economy: a modelled bank stands for banks_total / run.banks "
                            "real banks of equal size (the large-exposure limit applies to one of them), and "
                            "run.banks = 0 keeps this many banks for the 1:1 population of firms.", "banks",
                            "CBIRC 2019: 4,607 banking institutions, about 4,000 of them banks (large, joint-stock, "
                            "city and rural commercial, village banks and rural cooperatives)", ge=1)
    large_exposure_limit: float = meta(0.1, "Largest loan to one borrower, share of the bank's net capital (equity "
                                       "here); applied when loans are placed at set-up and entry and when "
                                       "credit is granted: a firm row's loan beyond it goes to other banks.",
                                       "share", "Commercial Banking Law art. 39; CBIRC 2018 Measures for the "
                                       "Administration of Large Exposures of Commercial Banks: 10% of net capital",
                                       gt=0, le=100)
    loans_all_2019: float = meta(136.3, "All loans of China's banks at the start (every sector and households): the "
                                 "modelled banks hold only the industries' loans, and their net capital for the "
                                 "large-exposure limit is their equity scaled up by this over the industries' loans "
                                 "at the start (a bank's other lending is backed by capital in the same ratio).",
                                 "trn yuan", "PBOC 2018 financial statistics report: RMB loans 136.30 trn at end-2018",
                                 gt=0, le=10_000)
    size_dispersion: float = meta(1.0, "Standard deviation of log bank size (a few very large banks).",
                                  "log points", "assumption", ge=0, le=5)
    capital_ratio_2019: float = meta(0.1464, "Capital adequacy ratio of banks at start, and the ratio banks "
                                     "steer to: capital above it is paid out, below it profit is retained.",
                                     "share", "CBIRC 2019 (weak)", gt=0, le=1)
    deposit_rate: float = meta(0.015, "Rate paid on firm deposits.", "1/yr",
                               "PBOC benchmark one-year time deposit rate 1.5% (2015-2019)", ge=0, le=0.2)
    funding_rate: float = meta(0.025, "Cost of the banks' funding beyond firm deposits and equity "
                               "(household deposits, interbank, bonds).", "1/yr",
                               "inferred: cost of interest-bearing liabilities of Chinese banks ~2.3-2.5% (2019)",
                               ge=0, le=0.3)
    margin: float = meta(0.001, "Mean lending margin over the policy rate for a riskless borrower.", "1/yr",
                         "assumption", ge=-0.05, le=0.2)
    capital_charge: float = meta(0.01, "Margin a bank adds when its capital ratio has fallen to the minimum "
                                 "(rising linearly over the capital buffer).", "1/yr", "assumption", ge=0, le=0.2)
    margin_dispersion: float = meta(0.001, "Spread of lending margins across banks.", "1/yr", "assumption",
                                    ge=0, le=0.1)
    sme_premium: float = meta(0.01, "Extra rate charged to SMEs (information and servicing costs).", "1/yr",
                              "calibrated: new small/micro loan rate 6.75% (Xinhua 2019)", ge=0, le=0.2)
    loss_given_default: float = meta(0.4, "Share of a defaulted loan the bank expects to lose.", "share",
                                     "assumption (Basel foundation IRB: 45%)", ge=0, le=1)
    pd_intercept: float = meta(-4.9, "Credit-score model: intercept of the log-odds of annual default.", "-",
                               "calibrated (sim check-facts) to large-firm rates near 4.8% (PBOC 2019) and new "
                               "small/micro loans near 6.75% (Xinhua 2019)", ge=-20, le=5)
    pd_leverage: float = meta(4.0, "Credit-score model: weight of loans over assets.", "-", "assumption", ge=0,
                              le=50)
    pd_loss: float = meta(1.0, "Credit-score model: weight of losses in each of the last three months or "
                          "more.", "-", "assumption", ge=0, le=20)
    pd_sme: float = meta(1.2, "Credit-score model: weight of being an SME.", "-",
                         "calibrated: small-enterprise NPL ratio 5.9% vs 1.86% overall (CBIRC 2019)", ge=0, le=20)
    pd_margin: float = meta(10.0, "Credit-score model: weight of the profit margin (lowers the odds).", "-",
                            "assumption", ge=0, le=200)
    pd_max: float = meta(0.08, "Highest annual default probability (net of guarantee cover) a bank accepts.",
                         "1/yr", "assumption", gt=0, le=1)
    pd_rollover_max: float = meta(0.25, "Highest default probability at which a firm's own bank still renews "
                                  "the instalment due (relationship lending, no new capital needed).", "1/yr",
                                  "assumption", ge=0, le=1)
    capital_buffer: float = meta(0.02, "Capital ratio above the minimum over which a bank tightens lending "
                                 "gradually.", "share", "assumption (conservation buffer 2.5%, Basel III)",
                                 gt=0, le=0.5)
    switching_cost: float = meta(0.005, "Rate advantage a new bank must offer before a firm moves its loans "
                                 "(relationship lending).", "1/yr", "assumption", ge=0, le=0.2)
    search_banks: int = meta(2, "Random other banks a firm asks besides its own.", "banks", "assumption", ge=0,
                             le=20)
    risk_weight_large: float = meta(1.0, "Risk weight of loans to large firms.", "share", "Basel; CBRC 2012",
                                    ge=0, le=2)
    risk_weight_sme: float = meta(0.75, "Risk weight of loans to SMEs.", "share",
                                  "CBRC 2012 Capital Rules: 75% for qualifying small/micro loans", ge=0, le=2)
    risk_weight_guaranteed: float = meta(0.2, "Risk weight of the guarantee-covered part of a loan.", "share",
                                         "assumption (public-sector guarantor)", ge=0, le=2)
    special_mention_months: int = meta(
        2, "Consecutive loss-making months after which a performing firm's loan is classified special mention "
        "(repaid so far, but repayment may be affected).", "months",
        "CBIRC 2007 Guidelines on Risk-Based Loan Classification (special mention: able to repay now, with "
        "factors that may affect repayment); months of losses as the warning sign, calibrated: special mention "
        "~1.6% of loans (baseline, 5,000 firms) against ~3% (CBIRC 2019)", ge=1, le=60)
    substandard_after_months: int = meta(
        3, "Months past due after which a defaulted loan is substandard (before: special mention).", "months",
        "CBIRC 2007 Guidelines on Risk-Based Loan Classification; common practice: overdue more than 90 days", ge=0,
        le=120)
    doubtful_after_months: int = meta(
        6, "Months past due after which a defaulted loan is doubtful.", "months",
        "CBIRC 2007 Guidelines; common practice: overdue more than 180 days", ge=0, le=120)
    loss_after_months: int = meta(
        12, "Months past due after which a defaulted loan is classified loss.", "months",
        "CBIRC 2007 Guidelines; common practice: overdue more than 360 days", ge=0, le=120)
    general_provision: float = meta(0.02, "Provisions held against normal loans, share of them.", "share",
                                    "CBRC 2018: loan provision ratio 1.5-2.5% (PBOC 2002 Guidance on Provisioning "
                                    "for Loan Losses: general reserve at least 1% of loans)", ge=0, le=1)
    provision_special_mention: float = meta(
        0.02, "Provisions held against special-mention loans, share of them.", "share",
        "PBOC 2002 Guidance on Provisioning for Loan Losses, art. 5: special mention 2%", ge=0, le=1)
    provision_substandard: float = meta(
        0.25, "Provisions held against substandard loans, share of them.", "share",
        "PBOC 2002 Guidance on Provisioning for Loan Losses, art. 5: substandard 25%", ge=0, le=1)
    provision_doubtful: float = meta(
        0.5, "Provisions held against doubtful loans, share of them.", "share",
        "PBOC 2002 Guidance on Provisioning for Loan Losses, art. 5: doubtful 50%", ge=0, le=1)
    provision_loss: float = meta(
        1.0, "Provisions held against loss loans, share of them.", "share",
        "PBOC 2002 Guidance on Provisioning for Loan Losses, art. 5: loss 100%", ge=0, le=1)
    operating_cost: float = meta(0.01, "Bank operating costs over loans.", "1/yr",
                                 "assumption (cost-to-income ~30%)", ge=0, le=0.1)
    dividend_payout: float = meta(0.3, "Share of profit paid out by a bank at or above its target capital "
                                  "ratio (capital_ratio_2019); above target plus capital_buffer it pays out all "
                                  "profit, below target none.", "share",
                                  "listed Chinese banks pay ~30% (annual reports 2019)", ge=0, le=1)
    tax_rate: float = meta(0.25, "Income tax on bank profit.", "share", "Enterprise Income Tax Law", ge=0, le=1)
    collateral_haircut_capital: float = meta(0.2, "Haircut on fixed capital pledged as collateral.", "share",
                                             "assumption", ge=0, le=1)
    unsecured_sme: float = meta(0.1, "Unsecured credit to private SMEs (cash-flow and relationship lending), "
                                "share of assets.", "share", "assumption", ge=0, le=1)
    unsecured_large: float = meta(0.3, "Unsecured credit to large and state-owned firms, share of assets.",
                                  "share", "assumption", ge=0, le=1)
    soe_unsecured: float = meta(0.5, "Extra unsecured credit to state-owned firms per unit of the implicit "
                                "guarantee (policy.soe_implicit_guarantee), share of assets.", "share",
                                "assumption: banks lend to SOEs on the state's name", ge=0, le=2)
    evergreening: bool = meta(True, "Banks may roll over the loans of borrowers that would default (unable to "
                              "pay, negative equity, or leaving with assets short of their loans): the lead bank "
                              "lends what brings the firm's deposits back to zero, the loan stays performing and the "
                              "firm keeps operating (kernels.exit_entry._rescue). On by default since 2026-12, with "
                              "policy.soft_budget: together they bring the NPL ratio from 3.2% to 2.1% (CBIRC 2019: "
                              "1.86%) and hold the state-owned share of firms (docs/zombies.md).", "-",
                              "Peek and Rosengren (AER 2005); Caballero, Hoshi and Kashyap (AER 2008); for China "
                              "Tan, Huang and Woo (Asian Economic Papers 2016), Lam et al. (IMF WP/17/266, 2017)")
    evergreen_prob: float = meta(0.5, "Probability a month that a lead bank with capital above its minimum plus "
                                 "capital_buffer rolls a private borrower that would default over (uniform of "
                                 "stream `evergreening`).", "1/month",
                                 "assumption: the literature gives no rollover rate; with it the OECD zombie share "
                                 "is 5.1% of firms in year 3 and 1.0% in year 5 at 5,000 firms (docs/zombies.md; "
                                 "the 7-10% of Tan, Huang and Woo 2016 could not be confirmed)", ge=0, le=1)
    evergreen_soe_factor: float = meta(1.5, "Multiple of evergreen_prob for a state-owned borrower.", "ratio",
                                       "assumption: banks roll over state and local firms' loans more (Tan, Huang "
                                       "and Woo 2016; Lam et al., IMF 2017: zombies are disproportionately SOEs)",
                                       ge=0, le=100)
    evergreen_thin_capital: float = meta(0.5, "Rise of the rollover probability (as a share of it) at a bank "
                                         "whose capital ratio is at the minimum, linear over capital_buffer above "
                                         "it: thinly capitalised banks avoid recognising losses.", "share",
                                         "assumption after Peek and Rosengren (AER 2005): weaker banks lend more "
                                         "to weak firms", ge=0, le=100)
    recapitalisation_target: float = meta(0.025, "A failed bank is recapitalised to the minimum capital ratio "
                                          "plus this margin.", "share", "assumption", ge=0, le=0.5)
