"""Households, government, central bank, rest of the world and the rest of the domestic economy
(docs/model.md, "The whole economy"). Monthly, economy-wide yuan.

Demand (step 2). Each buyer spends a budget and orders what it buys at the price it pays:
- households spend C = a_y YD^e + a_w D_h (Godley and Lavoie 2007, model PC, with deposits as
  wealth); YD^e is disposable income smoothed and carried forward by the growth households
  expect over the smoother's lag; a_y is set each month so that deposits over income
  stay at their 2019 ratio when income grows as households expect (expected growth learned from
  their income, `economy.growth_learning`);
- the government spends what its budget rule allows (`economy.budget_rule`);
- the rest of the world buys exports X_s = X0_s e^(g_s t) (p_s/p0_s)^(-export_elasticity) W_s
  (1 + T_s)^(-export_elasticity): W_s world import volume relative to the trend path
  (`policy.world_demand`), T_s the average additional tariff abroad (`policy.tariff_abroad`),
  which raises the foreign buyer's price by (1 + T_s) (`export_factor`);
- the rest of the domestic economy (construction, infrastructure, other industries' equipment)
  buys goods in proportion to its sales last month.
Households and government split their budgets over goods by shares w_s (p_s/P)^(1-e_s) drift_s,
normalised with the rest of the economy's share, so demand is homogeneous of degree zero in prices
and income (P: the rest of the economy's price, which follows wages). A share m_s of each domestic
buyer's purchases is imported.

Accounts (step 11): what the industries sold is paid by the buyers in proportion to what each
ordered (a buyer pays for what it received); the rest of the economy passes its value added to
households and, as taxes, to the government; the government's deficit is covered by bonds; banks
hold required reserves, bonds with what is left, or borrow from the central bank; the central bank
holds foreign assets (the trade surplus), bonds banks do not hold, and advances. The matrix
(accounts.FLOWS; filled by kernels.flows) must close every month.
"""

from __future__ import annotations

import math

import numpy as np

from ..banking import SFCError
from ..kernels import accounting as acc
from ..kernels import exit_entry as xe
from ..kernels import flows as fl
from ..kernels import sums
from ..scenario.schema import SECTORS
from .accounts import FLOW, F, W, gaps
from .bank_positions import BankPositions
from .world import export_factor, export_shares

TRN = 1e12


def _out_of_line(sc, fallback: str, what: str):
    """The ScenarioError for a calibration on the first month's flows that fails: a status quo the 2019
    accounts cannot carry (a [policy] value outside its usual range from the start: the key named is
    the first such, found by hypothesis in 2026-12 with world_demand = 0 and a 98% purchase subsidy), else
    the economy's shares (`fallback`). Named by the scenario's name (scenario.errors.unnamed)."""
    from ..scenario.errors import ScenarioError, unnamed
    from ..scenario.warnings import SOFT, _values

    key = fallback
    for name, (lo, hi) in SOFT.items():
        bad = [k for k, x in _values(name, getattr(sc.policy, name)) if not lo <= x <= hi]
        if bad:
            key = f"policy.{bad[0]}"
            break
    return ScenarioError(unnamed(sc.name), key, f"{what}: the status quo ([policy], the rules in force at the start) "
                         "or the shares of final demand are out of line with the 2019 accounts; date a change of "
                         "policy in [schedule] instead")


def _or_nan(x: float | None) -> float:
    """A calibration constant for kernels.flows.pay_flows: NaN until the first month sets it."""
    return np.nan if x is None else x


class Institutions(BankPositions):
    """The institutions around the industries; one per model, made after the banks. The banks'
    positions with the central bank and in bonds are `BankPositions`'."""

    def __init__(self, model):
        m, e = model, model.sc.economy
        self.m, self.e = m, e
        n_s = len(SECTORS)
        col = lambda table: np.array([table[s] for s in SECTORS])  # noqa: E731
        self.h_share, self.g_share, self.x_share = col(e.household_share), col(e.government_share), export_shares(e)
        self.m_share = col(e.import_share)
        self.short_share = m.shortage_import_share  # by sector (set-up)
        self.r_share = np.maximum(1.0 - self.h_share - self.g_share - self.x_share, 0.0)
        # trend growth of the economy (a year): the industries' revenue-weighted demand growth
        self.g = m.trend_growth
        month = e.gdp * TRN / 12.0
        self.gdp0 = month
        self.yd0 = e.disposable_income * TRN / 12.0
        self.dh = e.deposits_to_income * 12.0 * self.yd0  # households' deposits
        self.debt = e.debt_to_gdp * 12.0 * month  # government bonds outstanding
        # households' expected growth of their nominal income (a month): the trend at the start, then
        # learned from the income they receive (`economy.growth_learning`)
        self.g_exp = math.exp(self.g / 12.0) - 1.0
        self.d_star = self.dh / self.yd0  # the deposits-to-income norm (months of income)
        # stationary deposits-to-income: saving = deposits x expected monthly growth
        self.c0 = self.yd0 - self.g_exp * self.dh
        self.a_w = e.propensity_wealth / 12.0
        self.a_y = (self.c0 - self.a_w * self.dh) / self.yd0
        if not 0.0 < self.a_y <= 1.5:
            raise ValueError(f"economy: the propensity to consume out of income comes out at {self.a_y:.3f}; "
                             "check deposits_to_income and propensity_wealth")
        # households' expected income: smoothed income (behaviour.income_smoothing, lambda) carried
        # forward by the growth they expect over the smoother's mean lag of 1/lambda months, so that
        # on a growth path it is this month's income (the smoothed value alone trails income by
        # g/lambda, 1.7% at 4% a year, and households saved that gap on top of the norm)
        self.lag_y = 1.0 / model.b.income_smoothing
        self.yd_smooth = self.yd0 / (1.0 + self.g_exp * self.lag_y)
        self.transfers0 = e.transfers_share_of_gdp * month
        self.gov0 = e.government_share_of_gdp * month
        self.n_s = n_s
        self.ptax0 = None  # set by the first demand call
        self.base0 = None
        self.s_r_prev = None  # the rest of the economy's sales last month (its activity)
        self.s_r0 = None
        self.tax_rate_rest = None  # set at the end of the first month (households' 2019 income)
        self.rest_import_share = None  # set at the end of the first month (the 2019 current account)
        self.revenue0 = None
        self.revenue_smooth = None
        self.fa = 0.0  # central bank's foreign assets (set with the banks' positions)
        self.last = {}
        self.paid_out = np.zeros(n_s)  # this month's distributions of excess deposits, by sector
        self._paid_deposits = None  # the deposits left when the income pass made them (`paid_in_income`)
        self._held_sums = None  # the firms' other stocks by sector, when the month's sums made them
        self._sums2, self._sums3 = np.zeros((n_s, 2)), np.zeros((n_s, 3))  # sector sums over firm rows
        self._zeros = np.zeros(n_s)  # no intermediate sales or imported inputs (no input bill this month)

    # the values set in the first month that later months are measured against: price levels and
    # budget shares, the rest of the economy's activity, and the three calibration constants
    REFERENCES = ("ptax0", "base0", "theta0", "theta0_rest", "gamma0", "gamma0_rest", "x0", "rd0", "s_r0",
                  "tax_rate_rest", "rest_import_share", "revenue0")

    def references(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.REFERENCES}

    def adopt_references(self, refs: dict[str, object]) -> None:
        for name in self.REFERENCES:
            setattr(self, name, refs[name])
        self.revenue_smooth = self.revenue0

    def consumption(self) -> float:
        """Households' spending this month: C = a_y YD^e + a_w D_h, with expected income YD^e the
        smoothed income carried forward by expected growth over the smoother's lag."""
        return self.a_y * self.yd_smooth * (1.0 + self.g_exp * self.lag_y) + self.a_w * self.dh

    def learn_income(self, yd: float) -> None:
        """End of month: smooth the income received, learn its growth, and set the propensity to
        consume out of income that keeps deposits at the norm at that growth."""
        yd_smooth = self.yd_smooth + self.m.b.income_smoothing * (yd - self.yd_smooth)
        self.g_exp += self.e.growth_learning * (yd_smooth / self.yd_smooth - 1.0 - self.g_exp)
        self.a_y = 1.0 - (self.g_exp + self.a_w) * self.d_star
        self.yd_smooth = yd_smooth

    # ------------------------------------------------------------------------------------------
    # step 2: what each buyer orders
    # ------------------------------------------------------------------------------------------
    def final_demand(self, t: int, ptax: np.ndarray, base: np.ndarray, cycle: np.ndarray, support: np.ndarray,
                     price_rest: float) -> np.ndarray:
        """Real final demand for each industry's domestic output (yuan/month at 2019 prices), and the
        month's budgets kept for the accounts."""
        m, e, p = self.m, self.e, self.m.policy
        first = self.ptax0 is None
        if first:
            self.ptax0, self.base0 = ptax.copy(), base.copy()
            final0 = m.final0
            # 2019 nominal budgets on each good (imports included) and the shares they imply
            h_spend0 = self.h_share * final0 * ptax / (1.0 - self.m_share)
            g_spend0 = self.g_share * final0 * ptax / (1.0 - self.m_share)
            h, g = float(h_spend0.sum() / self.c0), float(g_spend0.sum() / self.gov0)
            if h >= 0.95 or g >= 0.95:
                from ..scenario.errors import ScenarioError, unnamed

                vat = float(np.max(np.asarray(p.vat_rate)))
                key = "policy.vat_rate" if vat > 0.25 else ("economy.household_share" if h >= 0.95
                                                           else "economy.government_share")
                written = m.sc.policy.vat_rate
                if vat > 0.25 and isinstance(written, dict):  # a table: the sector with the highest rate
                    key = f"policy.vat_rate.{max(written, key=written.get)}"
                raise ScenarioError(
                    unnamed(m.sc.name), key,
                    f"at the start's prices (VAT up to {vat:.0%}) households' 2019 purchases of the industries' "
                    f"goods would take {h:.0%} of their budget and the government's {g:.0%} (at most 95%): the "
                    "status quo ([policy], the rules in force at the start) or the buyers' shares are out of line "
                    "with the 2019 accounts; date a change of VAT in [schedule] instead")
            self.theta0 = h_spend0 / self.c0
            self.theta0_rest = 1.0 - self.theta0.sum()
            self.gamma0 = g_spend0 / self.gov0
            self.gamma0_rest = 1.0 - self.gamma0.sum()
            self.x0 = self.x_share * final0
            self.rd0 = self.r_share * final0  # domestic part of the rest of the economy's purchases
        trend = math.exp(self.g * t / 12.0)
        shock = np.exp(cycle)
        drift = np.exp((m.growth - self.g) * t / 12.0) * shock
        relative = ((ptax / self.ptax0) / price_rest) ** (1.0 - m.elasticity)  # of the budget shares
        c = self.consumption()  # households
        g_total = self._government_purchases(t, trend)  # government
        # rest of the world and rest of the economy
        x = (self.x0 * np.exp(m.growth * t / 12.0) * shock * (base / self.base0) ** (-e.export_elasticity)
             * export_factor(p, e.export_elasticity))
        activity = 1.0 if self.s_r_prev is None else self.s_r_prev / self.s_r0
        rd = self.rd0 * activity * drift * (base / self.base0 / price_rest) ** (-m.elasticity)
        # households' and government's budgets by good, what they buy of the domestic output, the
        # demand support (emerging industries: extra government purchases of the goods supported,
        # out of the rule's total unless deficit-financed) and final demand
        h_budget, g_budget, g_rest, hq, gq, final = fl.budgets(
            (self.theta0, self.gamma0), (self.theta0_rest, self.gamma0_rest), (c, g_total), (relative, drift), (x, rd),
            self.m_share, ptax, (support, e.budget_rule != "deficit" or not p.deficit_financed))
        self.last = dict(c=c, h_budget=h_budget, g_rest=g_rest, g_budget=g_budget, hq=hq, gq=gq, xq=x,
                         rq=rd, ptax=ptax.copy(), base=base.copy(), trend=trend)
        return final

    def _government_purchases(self, t: int, trend: float) -> float:
        e, p = self.e, self.m.policy
        base = self.gov0 * trend
        rule = e.budget_rule if p.deficit_financed else "revenue"
        if rule == "revenue" and self.revenue0 is not None:
            return max(base + p.government_spending_response * (self.revenue_smooth - self.revenue0 * trend), 0.0)
        if rule == "debt_target":
            gap = self.debt - e.debt_target * 12.0 * self.gdp0 * trend
            return max(base - e.debt_adjustment * gap, 0.0)
        return base

    # ------------------------------------------------------------------------------------------
    # step 6: what the industries pay for inputs from one another
    # ------------------------------------------------------------------------------------------
    def input_bill(self, demand: np.ndarray, intermediate: np.ndarray, tau: np.ndarray, tau_inputs: float,
                   sold: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per unit of each sector's output this month: what it pays for inputs from the modelled
        industries and the rest of the economy, and the input VAT on them. A seller's sales to
        intermediate use (its revenue x intermediate orders / all orders), and the imports that
        stand in for the intermediate orders it could not fill (the share `shortage_import_share`,
        at the domestic ex-VAT price), are paid by the buyers in proportion to what each received
        (IndustrialEconomy.inputs_received x its output: a buyer short of a critical input produced
        less, one short of a non-critical input made its output with less of it and pays for less),
        so buyers pay for what was delivered, no more. `sold`: the live firms' output and revenue by
        sector (model-firm units) as `sums.sector_sums` sums them, if a pass over the rows summed them
        already (the market step's last pass, market.market_step); else summed here."""
        m = self.m
        Fm = m.firms
        if sold is None:
            sold = self._sums2
            sums.sector_sums(Fm.alive, Fm.sector, (Fm.output, Fm.revenue), sold)
        # output, sales to intermediate use and the imports standing in for them (kernels.flows)
        q, sold, imported = fl.intermediate_sales(sold, m.weight, intermediate, demand, self.short_share,
                                                  self.last["base"])
        per_unit = m.inputs_received  # [k, s]: from k per unit of s's output (2019 prices)
        got = per_unit @ q  # what each seller's buyers received
        per_got = fl.per_received(sold, imported, got)
        io_cost = per_unit.T @ per_got  # per unit of the buyer's output
        io_vat = per_unit.T @ (tau * per_got)
        self.last.update(intermediate_sales=sold, imported_inputs=imported)
        return io_cost + m.materials, io_vat + tau_inputs * m.materials

    def payout_terms(self) -> acc.Payout:
        """The distributions for the income pass to make (accounting.income): the liquidity target,
        the share of the excess paid a month, and `paid_out` to write. `paid_in_income` takes the
        deposits left."""
        e = self.e
        return acc.Payout(np.full(self.n_s, e.firm_liquidity_target), float(e.excess_cash_payout), self.paid_out)

    def paid_in_income(self, deposits: float) -> None:
        """The income pass made this month's distributions (`payout_terms`), leaving the firms
        `deposits` (economy-wide yuan), which `distributions` hands on."""
        self._paid_deposits = deposits

    def distributions(self) -> tuple[float, float]:
        """This month's distributions of deposits above the liquidity target, made in the income pass
        (`payout_terms`, `paid_in_income`): the total paid and the firms' deposits after (economy-wide
        yuan). kernels.payout.pay_out_excess_cash makes them in a pass of their own; the tests hold the
        income pass to it."""
        if self._paid_deposits is None:
            raise RuntimeError("the income pass made no distributions this month (payout_terms not passed)")
        deposits, self._paid_deposits = self._paid_deposits, None
        return float(self.paid_out.sum()), float(deposits)

    # ------------------------------------------------------------------------------------------
    # step 11: the month's accounts
    # ------------------------------------------------------------------------------------------
    def close_month(self, t: int, month, parts: dict, flows: dict) -> float:
        """Pay every flow of the month from its payer to its payee, move the stocks, and check that
        the matrix closes. `month`: the month's tables (phases.accounts.MonthTables: orders, the
        industries' income statements, economy-wide yuan, and the income, investment and exit tables
        summed over sectors); `parts`: real orders by use (intermediate, investment); `flows`: the
        credit step's and entry's sums. Returns the largest gap (yuan). The flows are paid, and the
        sums over sectors and banks made, in compiled calls (kernels.flows)."""
        m, e, p = self.m, self.e, self.m.policy
        ext = month.exits_total
        bk = m.banking
        L = self.last
        entry_loans = flows["entry_loans"]
        sector = fl.SectorFlows(
            (L["hq"], L["gq"], L["xq"], L["rq"], parts["investment"]), month.demand, month.income[:, acc.I_REVENUE],
            month.income[:, acc.I_OUTPUT], p.vat_rate, self.m_share, self.short_share, L["h_budget"], L["g_budget"],
            L["base"], L["ptax"], p.purchase_subsidy, L.get("intermediate_sales", self._zeros),
            L.get("imported_inputs", self._zeros), self.paid_out)
        terms = fl.FlowTerms(
            p.vat_rate_inputs, e.current_account_share_of_gdp * self.gdp0, _or_nan(self.rest_import_share),
            flows["entry_capital"], entry_loans, flows["entry_cash"], flows["fees"], L["c"], L["g_rest"],
            self.transfers0 * L["trend"], self._cb_bonds_interest, bk.opex_total, bk.tax, bk.dividends,
            bk.resolution_cost(), self.yd0, _or_nan(self.tax_rate_rest))
        matrix, (s_r, yd, revenue, rest_share, tax_rate) = fl.pay_flows(
            sector, month.income_total, month.invest_total, ext, (bk.interest_income, bk.deposit_interest),
            self._bank_parts, terms)
        if self.rest_import_share is None:  # calibrated on the first month: the 2019 current account
            self.rest_import_share = rest_share
            if not 0.0 <= rest_share < 1.0:
                raise _out_of_line(m.sc, "economy.current_account_share_of_gdp",
                                   f"the rest of the economy's import share that meets the 2019 current account "
                                   f"comes out at {rest_share:.3f} (it must be in [0, 1))")
        if self.tax_rate_rest is None:  # calibrated on the first month: households' 2019 disposable income
            self.tax_rate_rest = tax_rate
            if not 0.0 <= tax_rate < 1.0:
                raise _out_of_line(m.sc, "economy.disposable_income",
                                   f"the rest of the economy's tax rate that meets households' 2019 disposable "
                                   f"income comes out at {tax_rate:.3f} (it must be in [0, 1))")
        # financial stocks
        d_loans = (flows["credit_loans"] + entry_loans - float(ext[xe.X_LOANS_REPAID])
                   + float(ext[xe.X_EVERGREEN]))  # banks' rollovers of firms that would default
        d_dh, deficit, trade = fl.stock_changes(matrix, d_loans, float(bk.firm_deposits) - self.firm_deposits_prev)
        self.dh += d_dh
        self.debt += deficit
        self.fa += trade
        # the banks' new positions, from their books
        before, after = self._allocate()
        fl.position_changes(matrix, before, after)
        # the banks' books: loans move by transactions less gross losses
        loans_now = float(bk.banks.loans.sum())
        losses = float(ext[xe.X_WRITE_OFF] + ext[xe.X_FUND_PAYOUT])
        book_gap = abs(loans_now - self.loans_prev - d_loans + losses)
        self.loans_prev, self.firm_deposits_prev = loans_now, float(bk.firm_deposits)
        # revenue for the 'revenue' rule, households' expected income, the rest of the economy's activity
        if self.revenue0 is None:
            self.revenue0 = self.revenue_smooth = revenue
        self.revenue_smooth += m.b.income_smoothing * (revenue - self.revenue_smooth)
        self.learn_income(yd)
        if self.s_r0 is None:
            self.s_r0 = s_r
        self.s_r_prev = s_r
        self.matrix = matrix
        Bk = bk.banks  # the live banks' books, summed as numpy sums x[alive]; the sheets and the checks in one call
        self.sheet, (gap, scale, sheet_gap, largest_stock) = fl.sheet_and_gaps(
            Bk.alive, (Bk.loans, Bk.provisions, Bk.equity), matrix,
            (float(bk.firm_deposits), self.dh, self.debt, after, self.fa, self.firm_stocks()))
        worst = max(gap, book_gap, sheet_gap)
        if worst > 1e-9 * max(scale, largest_stock):
            where, detail = gaps(matrix)
            if book_gap >= max(gap, sheet_gap):
                where, detail = "bank books", "loans moved by more than their transactions and losses"
            elif sheet_gap >= gap:
                where, detail = "balance sheets", "bank net worth against equity, or the central bank's"
            raise SFCError(f"month {t}: the whole economy's accounts do not close: {where} ({detail}) is off "
                           f"by {worst:.6g} yuan")
        self.yd_month = yd
        return worst

    def firm_stocks_summed(self, held: np.ndarray) -> None:
        """The firms' fixed capital, other assets and other liabilities by sector (live firms and
        estates in court, model-firm units), summed by the month's sums over the rows
        (accounting.month_sums): the next `firm_stocks` takes them instead of summing again."""
        self._held_sums = held

    def firm_stocks(self) -> np.ndarray:
        """The firms' fixed capital, other assets and other liabilities, economy-wide (live firms and
        estates in court): as the month's sums made them (`firm_stocks_summed`), else summed now."""
        m = self.m
        Fm = m.firms
        summed, self._held_sums = self._held_sums, None
        if summed is None:
            held = Fm.alive | (Fm.court > 0)  # the estates in the court procedure still hold their assets
            summed = self._sums3
            sums.sector_sums(held, Fm.sector, (Fm.capital, Fm.other_assets, Fm.other_liab), summed)
        return m.weight @ summed  # fixed capital, other assets, other liabilities

    def record(self, rec, t: int) -> None:
        """The month's accounts into the records; the government's and households' variables the open
        economy approximates are replaced by the accounts' own."""
        M = self.matrix
        L = self.last
        rec["tfm", t] = M
        rec["balance_sheet", t] = self.sheet
        tax_revenue, gov_spending, gov_balance = fl.government(M)
        rec.put(t, ("household_deposits", "household_consumption", "household_disposable_income",
                    "government_purchases", "exports", "imports", "central_bank_foreign_assets", "tax_rate_rest",
                    "tax_revenue", "gov_spending", "gov_balance", "gov_debt", "household_income"), (
            self.dh, L["c"], self.yd_month, L["g_budget"].sum() + L["g_rest"], M[FLOW["sales_exports"], F],
            M[FLOW["imports"], W], self.fa, self.tax_rate_rest, tax_revenue, gov_spending, gov_balance, self.debt,
            self.yd_month))
