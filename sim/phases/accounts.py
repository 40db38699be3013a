"""Accounts and records (MODEL.md step 11): sums over the firm rows, the sector records, the banks,
government and households, and the state carried to next month."""

from __future__ import annotations

import numpy as np

from ..kernels import accounting as acc
from ..kernels import exit_entry as xe
from ..kernels import investment as inv
from ..kernels import sums
from ..state import sector_tables


class RecordsMixin:
    def month_sums(self, records: bool, bk=None) -> tuple[float, float]:
        """One pass over the firm rows (accounting.month_sums): the banks' exposures and the firms'
        deposits; with `records`, also the sums the records need (kept for `firm_aggregates`).
        Returns (firm deposits, guaranteed stock), economy-wide yuan. `bk`: the banking system (while
        it is being set up, before the model holds it)."""
        bk = self.banking if bk is None else bk
        out = acc.month_sums(self.firms.bundle(), bk.banks.bundle(), self.scratch.bundle(), sector_tables(self),
                             acc.sums_params(bk.cfg, self.sme_threshold), acc.bank_flows(bk), records,
                             acc.record_sums(self))
        bk.shift_exposures()  # month_sums booked each row at its lead bank: participants take their shares
        return out

    def close_books(self) -> None:
        """Step 10's end: the banks' exposures (and firm deposits and loans by bank for the checks)
        and the records' sums over firm rows, in one pass."""
        deposits, self._guaranteed = self.month_sums(records=True)
        self.banking.firm_deposits = float(deposits)

    def firm_aggregates(self) -> dict:
        """Sums over firm rows for the records (step 11), made by `close_books`; firms are then
        reclassified by size (SME when capacity is below the revenue threshold)."""
        F = self.firms
        cls, st = self._cls_credit, self._stocks
        guaranteed = self._guaranteed
        sums.classify_size(F.alive, F.capacity, self.sme_threshold, F.sme)
        self.set_totals(st[:, [acc.S_N_FIRMS, acc.S_CAPACITY, acc.S_PIPELINE]])  # for next month's rules
        return {
            "credit_new": cls[:, 0].copy(), "credit_market": cls[:, 1].copy(),
            "credit_market_interest": cls[:, 2].copy(), "credit_denied": cls[:, 3].copy(),
            "credit_guaranteed": float(guaranteed),
            "output": st[:, acc.S_OUTPUT].copy(), "price_output": st[:, acc.S_PRICE_W].copy(),
        }

    def _record_inclusive(self, t: int, guaranteed: float) -> None:
        """Inclusive finance: the guarantee fund's capacity used, the banks' shortfall against the
        inclusive-lending target, central-bank re-lending and the banks with the targeted RRR cut."""
        p, bk, rec = self.policy, self.banking, self.rec
        B = bk.banks
        capacity = p.guarantee_leverage * p.guarantee_fund_capital * 1e9
        rec["guarantee_fund_used", t] = guaranteed / capacity if capacity > 0 else np.nan
        sme = np.where(B.alive, B.loans_sme, 0.0)
        rec["inclusive_target_gap", t] = (float(np.dot(bk.inclusive_shortfall(), sme) / max(sme.sum(), 1e-300))
                                          if p.inclusive_sme_target > 0 else np.nan)
        rec["relending_outstanding", t] = float(bk.relending_stock().sum())
        rec["targeted_rrr_banks", t] = float((bk.rrr_cut() > 0).sum() / max(int(B.alive.sum()), 1))

    def _record(self, t, demand, final, inc, ivt, ext, retired, entries, entry_cap, ptax) -> None:
        p, b, W = self.policy, self.b, self.weight
        rec = self.rec
        agg = self.firm_aggregates()
        st = self._stocks
        cap_w = st[:, acc.S_CAPACITY] * W
        # output and utilisation at production time (firms that exit later this month included)
        output = inc[:, acc.I_OUTPUT]
        rec["output", t] = output
        rec["capacity", t] = cap_w
        rec["capacity_physical", t] = cap_w * 12.0 * self.phys_per_yuan
        rec["utilization", t] = output / np.maximum(inc[:, acc.I_CAPACITY], 1e-300)
        rec["demand", t] = demand
        rec["final_demand", t] = final
        short = demand - output  # (output sums firm by firm: a filled sector's gap is rounding)
        rec["unfilled_orders", t] = np.where(short > 1e-9 * demand, short, 0.0)
        rec["input_fill", t] = self.input_fill
        rec["price_index", t] = self.price_index
        rec["price_index_tax_inclusive", t] = ptax / self.ptax0
        rec["value_added", t] = inc[:, acc.I_VALUE_ADDED]
        rec["revenue", t] = inc[:, acc.I_REVENUE]
        rec["profit", t] = inc[:, acc.I_PROFIT]
        rec["profit_margin", t] = inc[:, acc.I_PROFIT] / np.maximum(inc[:, acc.I_REVENUE], 1e-12)
        rec["employment", t] = inc[:, acc.I_WORKERS]  # at production, as output
        rec["wages", t] = inc[:, acc.I_WAGES]
        rec["energy_use", t] = inc[:, acc.I_ENERGY_USE]
        rec["energy_cost", t] = inc[:, acc.I_ENERGY]
        rec["unit_energy_cost", t] = inc[:, acc.I_ENERGY] / np.maximum(output, 1e-12)
        rec["vat_revenue", t] = inc[:, acc.I_VAT]
        rec["cit_revenue", t] = inc[:, acc.I_CIT]
        rec["n_firms", t] = st[:, acc.S_N_FIRMS] * W
        rec["entries", t] = entries
        rec["exits_bankruptcy", t] = ext[:, xe.X_BANKRUPT]
        rec["exits_forced", t] = ext[:, xe.X_FORCED]
        rec["exits_voluntary", t] = ext[:, xe.X_VOLUNTARY]
        rec["capacity_added", t] = ivt[:, inv.V_ADDED] + entry_cap
        rec["capacity_retired", t] = retired
        rec["capacity_pipeline", t] = st[:, acc.S_PIPELINE] * W
        rec["productivity_mean", t] = st[:, acc.S_PROD_W] / np.maximum(st[:, acc.S_CAPACITY], 1e-300)
        rec["productivity_frontier", t] = self.frontier_a
        rec["energy_intensity_mean", t] = st[:, acc.S_EI_W] / np.maximum(st[:, acc.S_OUTPUT], 1e-300)
        rec["markup_mean", t] = st[:, acc.S_MARKUP_W] / np.maximum(st[:, acc.S_OUTPUT], 1e-300)
        rec["upgrades", t] = ivt[:, inv.V_UPGRADES]
        rec["upgrades_completed", t] = ivt[:, inv.V_UPGRADES_DONE]
        rec["investment", t] = ivt[:, inv.V_INVESTMENT]
        rec["loans", t] = st[:, acc.S_LOANS] * W
        rec["net_worth", t] = st[:, acc.S_NET_WORTH] * W
        rec["loss_making_share", t] = st[:, acc.S_LOSS_MAKING] / np.maximum(st[:, acc.S_N_FIRMS], 1.0)
        rec["credit", t] = self._cls_loans
        rec["loan_rate", t] = self._cls_interest / np.maximum(self._cls_loans, 1e-300)
        rec["bankruptcies", t] = np.array([ext[:, xe.X_BANKRUPT_SME].sum(), ext[:, xe.X_BANKRUPT_LARGE].sum()])
        rec["gdp", t] = inc[:, acc.I_VALUE_ADDED].sum()
        rec["credit_total", t] = self._cls_loans.sum()
        rec["loan_losses", t] = ext[:, xe.X_WRITE_OFF].sum()
        # defaults and the court procedure
        F = self.firms
        defaults = np.array([ext[:, xe.X_DEFAULT_SME].sum(), ext[:, xe.X_DEFAULT_LARGE].sum()])
        # live weights by size class and the estates in court, in one compiled pass over the rows
        # (the sums numpy gave over the gathered rows, bit for bit: sums.live_weights)
        live_sme, live_all, w_est, l_est = sums.live_weights(F.alive, F.sme, F.sector, W, F.court, F.loans)
        live_cls = np.array([live_sme, live_all - live_sme])
        rec["defaults", t] = defaults
        rec["default_rate", t] = defaults / np.maximum(live_cls + defaults, 1e-300)
        rec["court_costs", t] = ext[:, xe.X_COURT_COSTS].sum()
        self._record_zombies(t, ext, st[:, acc.S_N_FIRMS] * W, float(self._cls_loans.sum()))
        claims = ext[:, xe.X_CLAIMS_SETTLED].sum()
        rec["recovery_rate_defaulted", t] = (1.0 - (ext[:, xe.X_WRITE_OFF].sum() + ext[:, xe.X_FUND_PAYOUT].sum())
                                             / claims) if claims > 0 else np.nan
        # banks and credit flows this month
        B, bk = self.banking.banks, self.banking
        live = B.alive
        cm = self._credit_month
        new = agg["credit_new"]
        rec["credit_new", t] = new
        g_m = agg["credit_market"]
        with np.errstate(divide="ignore", invalid="ignore"):
            rec["loan_rate_new", t] = np.where(g_m > 0, agg["credit_market_interest"] / g_m, np.nan)
        rec["credit_denied", t] = agg["credit_denied"]
        rec["credit_guaranteed", t] = agg["credit_guaranteed"]
        rec["npl_ratio", t] = float(B.npl[live].sum() / max(B.loans[live].sum(), 1e-300))
        by_cat = np.array([float(x[live].sum()) for x in (B.loans_special, B.loans_substandard, B.loans_doubtful,
                                                          B.loans_loss)])
        rec["npl_by_category", t] = np.concatenate(([float(B.loans[live].sum()) - by_cat.sum()], by_cat))
        rec["loans_in_court", t] = float(np.dot(w_est, l_est))
        rec["bank_capital_ratio", t] = float(B.equity[live].sum() / max(B.rwa[live].sum(), 1e-300))
        rec["bank_equity", t] = float(B.equity[live].sum())
        rec["bank_profit", t] = float(B.profit[live].sum())
        rec["bank_failures", t] = float(bk.failures_this_month)
        rec["banks_active", t] = float(live.sum())
        rec["guarantee_payouts", t] = float(ext[:, xe.X_FUND_PAYOUT].sum())
        rec["guarantee_fees", t] = cm["fees"]
        rec["bank_recapitalisation", t] = bk.resolution_cost()
        rec["deposit_insurance_payouts", t] = bk.insurance_cost
        rec["sfc_error", t] = self.sfc_error
        self._record_inclusive(t, agg["credit_guaranteed"])
        # government and households
        taxes = float(inc[:, acc.I_VAT].sum() + inc[:, acc.I_CIT].sum())
        if self.tax0 is None:
            self.tax0 = taxes
            self.tax_smooth = taxes
        self.tax_smooth += b.income_smoothing * (taxes - self.tax_smooth)
        trend = self._trend(t)
        gov = self.tax0 * trend
        if not p.deficit_financed:
            gov += p.government_spending_response * (self.tax_smooth - self.tax0 * trend)
        purchase = float(np.sum(p.purchase_subsidy / (1 - p.purchase_subsidy) * ptax * final))
        subsidies = float(ivt[:, inv.V_SUBSIDY].sum() + ext[:, xe.X_COMPENSATION].sum()) + purchase
        fund_net = cm["fees"] - float(ext[:, xe.X_FUND_PAYOUT].sum())
        taxes += bk.tax
        # spending power behind final demand: wages, firms' dividends and government spending;
        # liquidation residuals and banks' capital returns are wealth, not income, and are left out
        hh = float(inc[:, acc.I_WAGES].sum() + inc[:, acc.I_DIVIDENDS].sum())
        income = hh + gov
        if self.income0 is None:
            self.income0 = income
            self.income_smooth = income
        self.income_smooth += b.income_smoothing * (income - self.income_smooth)
        rec["tax_revenue", t] = taxes
        rec["gov_spending", t] = gov
        rec["subsidies", t] = subsidies
        balance = taxes + fund_net - gov - subsidies - bk.resolution_cost() - float(ext[:, xe.X_SUPPORT].sum())
        self.gov_debt -= balance
        rec["gov_balance", t] = balance
        rec["gov_debt", t] = self.gov_debt
        rec["household_income", t] = hh
        rec["income_index", t] = self.income_smooth / (self.income0 * trend)
        rec["policy_rate", t] = p.policy_rate
        # state carried to next month: price index and output by sector, investment, utilisation
        q_now = agg["output"]
        pq = agg["price_output"]
        self.price_index = np.where(q_now > 0, pq / np.maximum(q_now, 1e-300), self.price_index)
        self.out_prev = output
        self.invest_prev = float(ivt[:, inv.V_INVESTMENT].sum())
        util = rec.data["utilization"][t]
        self.util_smooth += self.b.signal_smoothing * (util - self.util_smooth)

    def _record_zombies(self, t, ext, live, loans) -> None:
        """Zombie firms and their credit (counted by the exit step: kernels.exit_entry), evergreening
        and soft-budget support this month."""
        rec = self.rec
        rec["zombie_share", t] = ext[:, xe.X_ZOMBIES] / np.maximum(live, 1e-300)
        rec["zombie_loans", t] = ext[:, xe.X_ZOMBIE_LOANS].sum()
        rec["zombie_loan_share", t] = ext[:, xe.X_ZOMBIE_LOANS].sum() / max(loans, 1e-300)
        rec["evergreen_credit", t] = ext[:, xe.X_EVERGREEN].sum()
        rec["firms_evergreened", t] = ext[:, xe.X_EVERGREENED].sum()
        rec["soft_budget_support", t] = ext[:, xe.X_SUPPORT].sum()
        rec["firms_supported", t] = ext[:, xe.X_SUPPORTED].sum()
