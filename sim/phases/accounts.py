"""Accounts and records (MODEL.md step 11), as plain functions: sums over the firm rows, the sector
records, the banks, defaults and zombies, inclusive finance, and the open closure's government and
income index. Each writes the records (`records.Recorder`) it is given for month t from the
month's tables and the state it is given; none reaches the model."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import accounting as acc
from ..kernels import exit_entry as xe
from ..kernels import investment as inv
from ..kernels import sums, tables


class MonthTables(NamedTuple):
    """The month's per-sector tables (economy-wide unless said)."""
    demand: np.ndarray  # orders, real
    final: np.ndarray  # final demand, real
    income: np.ndarray  # income statements (columns acc.I_*)
    invest: np.ndarray  # investment (columns inv.V_*)
    exits: np.ndarray  # exits (columns xe.X_*)
    retired: np.ndarray  # capacity retired
    entries: np.ndarray  # entrants, real firms
    entry_capacity: np.ndarray
    stocks: np.ndarray  # stocks after the month, one model firm each (columns acc.S_*)
    # the income, investment and exit tables' columns summed over sectors, each as numpy sums a
    # column (`x[:, k].sum()`: kernels.tables.scaled_with_totals)
    income_total: np.ndarray
    invest_total: np.ndarray
    exits_total: np.ndarray


class OpenFiscal(NamedTuple):
    """The open closure's government and income index: anchors set in the first month and smoothed
    series (economy-wide yuan a month)."""
    tax0: float | None
    tax_smooth: float | None
    income0: float | None
    income_smooth: float | None
    gov_debt: float


def month_sums(firms, banking, scratch, sectors, sme_threshold: float, records: bool,
               out: acc.RecordSums) -> tuple[float, float]:
    """One pass over the firm rows (accounting.month_sums): the banks' exposures and the firms'
    deposits; with `records`, also the sums the records need (into `out`). Writes the banks'
    exposures (then each participant takes its share). Returns (firm deposits, guaranteed stock),
    economy-wide yuan."""
    bk = banking
    res = acc.month_sums(firms.bundle(), bk.banks.bundle(), scratch.books(), sectors,
                         acc.sums_params(bk.cfg, sme_threshold), acc.bank_flows(bk), records, out)
    bk.shift_exposures()  # month_sums booked each row at its lead bank: participants take their shares
    return res


def firm_aggregates(firms, sme_threshold: float, totals, sums_: acc.RecordSums, guaranteed: float) -> dict:
    """The sums over firm rows the records need (made by `month_sums`) and the sector totals handed
    to next month's rules. (`record_distress` then reclassifies the firms by size.)"""
    cls, st = sums_.cls_credit, sums_.stocks
    totals.set(st[:, [acc.S_N_FIRMS, acc.S_CAPACITY, acc.S_PIPELINE]])  # for next month's rules
    return {
        "credit_new": cls[:, 0].copy(), "credit_market": cls[:, 1].copy(),
        "credit_market_interest": cls[:, 2].copy(), "credit_denied": cls[:, 3].copy(),
        "credit_guaranteed": float(guaranteed),
        "output": st[:, acc.S_OUTPUT].copy(), "price_output": st[:, acc.S_PRICE_W].copy(),
    }


def record_sectors(rec, t: int, month: MonthTables, weight, phys_per_yuan, input_fill, price_index, ptax_index,
                   frontier_a) -> None:
    """Output, capacity, demand, prices, income, employment, energy, taxes, firms, entry and exit,
    investment, technology, balance sheets and zombie firms by sector (made in one compiled call,
    tables.sector_records, and written in one assignment), and the industry's value added."""
    rows = tables.sector_records(month.income, month.invest, month.exits, month.stocks, weight, (
        month.demand, month.final, input_fill, price_index, ptax_index, frontier_a, month.entries,
        month.entry_capacity, month.retired, phys_per_yuan))
    rec.put(t, tables.SECTOR_RECORDS, rows)
    rec["gdp", t] = month.income_total[acc.I_VALUE_ADDED]


def record_distress(rec, t: int, month: MonthTables, firms, weight, sums_: acc.RecordSums,
                    sme_threshold: float) -> None:
    """Credit by size class, bankruptcies, defaults and the court procedure, zombie firms and their
    credit, recovery on defaulted loans. Firms are reclassified by size on the way (SME when capacity
    is below the revenue threshold: writes firms.sme; after the banks' month end, which reads the
    classes `month_sums` booked by)."""
    ext, W, F = month.exits_total, weight, firms
    cls_loans = sums_.cls_loans
    # the size classes, and the live weights by class and the estates in court, in one compiled pass
    # over the rows (the sums numpy gave over the gathered rows, bit for bit: sums.classify_and_weigh,
    # planned with month_sums' counts)
    live_sme, live_all, w_est, l_est = sums.classify_and_weigh(F.bundle(), W, sme_threshold, sums_.counts)
    rec.put(t, ("credit", "loan_rate", "bankruptcies", "defaults", "default_rate"),
            tables.class_records(cls_loans, sums_.cls_interest, ext, live_sme, live_all))
    claims = ext[xe.X_CLAIMS_SETTLED]
    loans = cls_loans.sum()
    rec.put(t, ("credit_total", "loan_losses", "court_costs", "recovery_rate_defaulted", "loans_in_court"), (
        loans, ext[xe.X_WRITE_OFF], ext[xe.X_COURT_COSTS],
        (1.0 - (ext[xe.X_WRITE_OFF] + ext[xe.X_FUND_PAYOUT]) / claims) if claims > 0 else np.nan,
        float(np.dot(w_est, l_est))))
    record_zombies(rec, t, ext, float(loans))


def record_banks(rec, t: int, ext_total, banking, agg: dict, fees: float, sfc_error: float) -> None:
    """The month's credit flows (new credit, its rate, refusals, guarantees) and the banks: NPLs by
    category, capital, profit, failures and resolutions, the guarantee fund's payouts and fees.
    `ext_total`: the exit table's column sums (MonthTables.exits_total)."""
    B, bk = banking.banks, banking
    live = B.alive
    g_m = agg["credit_market"]
    rate_new = np.divide(agg["credit_market_interest"], g_m, out=np.full(2, np.nan), where=g_m > 0)
    rec.put(t, ("credit_new", "loan_rate_new", "credit_denied"), (agg["credit_new"], rate_new, agg["credit_denied"]))
    # the live banks' books, each summed as numpy sums x[live], and their ratios (one compiled call)
    by_cat, (npl_ratio, capital_ratio, equity, profit, active) = tables.bank_records(live, (
        B.npl, B.loans, B.loans_special, B.loans_substandard, B.loans_doubtful, B.loans_loss, B.equity, B.rwa,
        B.profit))
    rec["npl_by_category", t] = by_cat
    rec.put(t, ("credit_guaranteed", "npl_ratio", "bank_capital_ratio", "bank_equity", "bank_profit", "bank_failures",
                "banks_active", "guarantee_payouts", "guarantee_fees", "bank_recapitalisation",
                "deposit_insurance_payouts", "sfc_error"), (
        agg["credit_guaranteed"], npl_ratio, capital_ratio, equity, profit, bk.failures_this_month, active,
        ext_total[xe.X_FUND_PAYOUT], fees, bk.resolution_cost(), bk.insurance_cost, sfc_error))


def record_inclusive(rec, t: int, policy, banking, guaranteed: float) -> None:
    """Inclusive finance: the guarantee fund's capacity used, the banks' shortfall against the
    inclusive-lending target, central-bank re-lending and the banks with the targeted RRR cut."""
    p, bk = policy, banking
    B = bk.banks
    capacity = p.guarantee_leverage * p.guarantee_fund_capital * 1e9
    gap = np.nan
    if p.inclusive_sme_target > 0:
        sme = np.where(B.alive, B.loans_sme, 0.0)
        gap = float(np.dot(bk.inclusive_shortfall(), sme) / max(sme.sum(), 1e-300))
    rec.put(t, ("guarantee_fund_used", "inclusive_target_gap", "relending_outstanding", "targeted_rrr_banks"), (
        guaranteed / capacity if capacity > 0 else np.nan, gap, float(bk.relending_stock().sum()),
        float((bk.rrr_cut() > 0).sum() / max(int(B.alive.sum()), 1))))


def record_zombies(rec, t: int, ext_total, loans) -> None:
    """Zombie firms' credit (counted by the exit step: kernels.exit_entry), evergreening and
    soft-budget support this month (`ext_total`: the exit table's column sums; the zombie share by
    sector is among `record_sectors`' records)."""
    rec.put(t, ("zombie_loans", "zombie_loan_share", "evergreen_credit", "firms_evergreened", "soft_budget_support",
                "firms_supported"), (
        ext_total[xe.X_ZOMBIE_LOANS], ext_total[xe.X_ZOMBIE_LOANS] / max(loans, 1e-300), ext_total[xe.X_EVERGREEN],
        ext_total[xe.X_EVERGREENED], ext_total[xe.X_SUPPORT], ext_total[xe.X_SUPPORTED]))


def open_government(rec, t: int, month: MonthTables, f: OpenFiscal, policy, behaviour, banking, trend: float,
                    purchase: float, fees: float) -> OpenFiscal:
    """The government and households as the open closure keeps them (flow accounts, no balance
    sheets): taxes, spending at initial taxes times trend (or following revenue), subsidies, the
    balance and debt, and the income index that final demand follows. `trend`: the economy's trend
    level this month; `purchase`: the purchase subsidy paid this month. Returns the fiscal state
    after the month."""
    p, b, bk = policy, behaviour, banking
    inc, ivt, ext = month.income_total, month.invest_total, month.exits_total  # summed over sectors
    tax0, tax_smooth, income0, income_smooth, gov_debt = f
    taxes = float(inc[acc.I_VAT] + inc[acc.I_CIT])
    if tax0 is None:
        tax0 = taxes
        tax_smooth = taxes
    tax_smooth += b.income_smoothing * (taxes - tax_smooth)
    gov = tax0 * trend
    if not p.deficit_financed:
        gov += p.government_spending_response * (tax_smooth - tax0 * trend)
    subsidies = float(ivt[inv.V_SUBSIDY] + ext[xe.X_COMPENSATION]) + purchase
    fund_net = fees - float(ext[xe.X_FUND_PAYOUT])
    taxes += bk.tax
    # spending power behind final demand: wages, firms' dividends and government spending;
    # liquidation residuals and banks' capital returns are wealth, not income, and are left out
    hh = float(inc[acc.I_WAGES] + inc[acc.I_DIVIDENDS])
    income = hh + gov
    if income0 is None:
        income0 = income
        income_smooth = income
    income_smooth += b.income_smoothing * (income - income_smooth)
    balance = taxes + fund_net - gov - subsidies - bk.resolution_cost() - float(ext[xe.X_SUPPORT])
    gov_debt -= balance
    rec.put(t, ("tax_revenue", "gov_spending", "subsidies", "gov_balance", "gov_debt", "household_income",
                "income_index", "policy_rate"), (
        taxes, gov, subsidies, balance, gov_debt, hh, income_smooth / (income0 * trend), p.policy_rate))
    return OpenFiscal(tax0, tax_smooth, income0, income_smooth, gov_debt)
