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
(accounts.Matrix) must close every month.
"""

from __future__ import annotations

import math

import numpy as np

from ..banking import SFCError
from ..kernels import accounting as acc
from ..kernels import exit_entry as xe
from ..kernels import investment as inv
from ..kernels import sums, tables
from ..scenario.schema import SECTORS
from .accounts import CB, FLOW, ITEM, ITEM_NAMES, B, F, G, H, Matrix, R, W, scale_of
from .bank_positions import BankPositions
from .world import export_factor, export_shares

_STOCK_CHANGES = [FLOW[k] for k in FLOW if k.startswith("d_")]  # the matrix's rows of stock changes

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
        drift = np.exp((m.growth - self.g) * t / 12.0) * np.exp(cycle)
        rel = (ptax / self.ptax0) / price_rest
        # households
        c = self.consumption()
        w = self.theta0 * rel ** (1.0 - m.elasticity) * drift
        h_budget = c * w / (w.sum() + self.theta0_rest)
        # government
        g_total = self._government_purchases(t, trend)
        w = self.gamma0 * rel ** (1.0 - m.elasticity) * drift
        denom = w.sum() + self.gamma0_rest
        g_budget, g_rest = g_total * w / denom, g_total * self.gamma0_rest / denom
        # rest of the world and rest of the economy
        x = (self.x0 * np.exp(m.growth * t / 12.0) * np.exp(cycle) * (base / self.base0) ** (-e.export_elasticity)
             * export_factor(p, e.export_elasticity))
        activity = 1.0 if self.s_r_prev is None else self.s_r_prev / self.s_r0
        rd = self.rd0 * activity * drift * (base / self.base0 / price_rest) ** (-m.elasticity)
        dom = 1.0 - self.m_share
        hq, gq = h_budget * dom / ptax, g_budget * dom / ptax
        # demand support (emerging industries): extra government purchases of the goods supported
        extra = np.maximum(support - 1.0, 0.0) * (hq + gq + x + rd)
        support_spend = float(np.sum(extra * ptax))
        if e.budget_rule != "deficit" or not p.deficit_financed:  # the support comes out of the rule's total
            cut = max(1.0 - support_spend / max(g_total, 1e-300), 0.0)
            g_budget, g_rest = g_budget * cut, g_rest * cut
            gq = g_budget * dom / ptax
        gq = gq + extra
        g_budget = g_budget + extra * ptax / dom
        self.last = dict(c=c, h_budget=h_budget, g_rest=g_rest, g_budget=g_budget, hq=hq, gq=gq, xq=x,
                         rq=rd, ptax=ptax.copy(), base=base.copy(), trend=trend)
        return hq + gq + x + rd

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
        already (production.costs_and_prices); else summed here."""
        m = self.m
        Fm = m.firms
        if sold is None:
            sold = self._sums2
            sums.sector_sums(Fm.alive, Fm.sector, (Fm.output, Fm.revenue), sold)
        q, rev = sold[:, 0] * m.weight, sold[:, 1] * m.weight
        int_share = np.divide(intermediate, demand, out=np.zeros(self.n_s), where=demand > 0)
        sold = rev * int_share
        imported = self.short_share * np.maximum(demand - q, 0.0) * int_share * self.last["base"]
        per_unit = m.inputs_received  # [k, s]: from k per unit of s's output (2019 prices)
        got = per_unit @ q  # what each seller's buyers received
        per_got = np.divide(sold + imported, got, out=np.zeros(self.n_s), where=got > 0)
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
        credit step's and entry's sums. Returns the largest gap (yuan)."""
        m, e, p = self.m, self.e, self.m.policy
        demand, rev, out = month.demand, month.income[:, acc.I_REVENUE], month.income[:, acc.I_OUTPUT]
        inc, ivt, ext = month.income_total, month.invest_total, month.exits_total  # summed over sectors
        bk = m.banking
        L = self.last
        M = Matrix()
        tau = p.vat_rate
        # sales to households, the government, exports, the rest and as capital goods, by sector, and
        # their sums (a row each, summed as numpy sums it alone)
        q = np.array((L["hq"], L["gq"], L["xq"], L["rq"], parts["investment"]))
        sales = rev * np.divide(q, demand, out=np.zeros(q.shape), where=demand > 0)
        v_h, v_g, v_x, v_r, v_inv = sales
        sold, vat_sold = sales.sum(axis=1), (tau * sales).sum(axis=1)
        # sales and the VAT on them (intermediate sales are paid firm to firm: they net out)
        for k, (name, payer) in enumerate((("sales_households", H), ("sales_government", G), ("sales_exports", W),
                                           ("sales_rest", R), ("sales_capital_goods", R))):
            M.pay(name, payer, F, float(sold[k]))
            M.pay("vat_on_sales", payer, F, float(vat_sold[k]))
        M.pay("export_vat_refund", G, W, float(vat_sold[2]))
        sold_int = L.get("intermediate_sales", np.zeros(self.n_s))
        M.pay("vat_on_sales", F, F, float((tau * sold_int).sum()))
        # inputs from the rest of the economy
        imp_int = L.get("imported_inputs", np.zeros(self.n_s))
        mat_rest = float(inc[acc.I_MATERIALS] - sold_int.sum() - imp_int.sum())
        s_f = float(inc[acc.I_SERVICES] + inc[acc.I_ENERGY]) + mat_rest
        vat_in = p.vat_rate_inputs * s_f
        M.pay("inputs_from_rest", F, R, s_f)
        M.pay("vat_on_inputs", F, R, vat_in)
        vat_f = float(inc[acc.I_VAT])
        vat_r_paid = float((tau * (v_r + v_inv)).sum())
        M.pay("vat_remitted", F, G, vat_f)
        M.pay("vat_remitted", R, G, vat_in - vat_r_paid)
        # imports (ex-VAT to the rest of the world, import VAT to the government)
        ms, tx = self.m_share, 1.0 + tau
        imp_h = L["h_budget"] * ms
        imp_g = L["g_budget"] * ms
        imp_rd = float(np.sum(L["rq"] / (1.0 - ms) * ms * L["base"]))
        # orders the industries could not fill: a share is bought abroad, the rest goes without
        short = self.short_share * np.clip(1.0 - np.divide(out, demand, out=np.ones(self.n_s),
                                                                   where=demand > 0), 0.0, 1.0)
        imp_h = imp_h + short * L["hq"] * L["ptax"]
        imp_g = imp_g + short * L["gq"] * L["ptax"]
        imp_rd += float(np.sum(short * L["rq"] * L["base"]))
        imp_hg = float(((imp_h + imp_g) / tx).sum())
        if self.rest_import_share is None:  # calibrated on the first month: the 2019 current account
            exports = float(sold[2])
            self.rest_import_share = (exports - e.current_account_share_of_gdp * self.gdp0 - imp_hg - imp_rd) / s_f
            if not 0.0 <= self.rest_import_share < 1.0:
                raise _out_of_line(m.sc, "economy.current_account_share_of_gdp",
                                   f"the rest of the economy's import share that meets the 2019 current account "
                                   f"comes out at {self.rest_import_share:.3f} (it must be in [0, 1))")
        imp_r = imp_rd + self.rest_import_share * s_f
        for payer, spend in ((H, imp_h), (G, imp_g)):
            M.pay("imports", payer, W, float((spend / tx).sum()))
            M.pay("vat_on_imports", payer, G, float((spend * tau / tx).sum()))
        M.pay("imports", R, W, imp_r)
        M.pay("imports", F, W, float(imp_int.sum()))  # inputs bought abroad for want of domestic supply
        M.pay("vat_on_imports", F, G, float((tau * imp_int).sum()))
        # investment, scrap and entry
        entry_k, entry_loans, entry_cash = flows["entry_capital"], flows["entry_loans"], flows["entry_cash"]
        M.pay("investment_spending", F, R, float(ivt[inv.V_INVESTMENT]) + entry_k)
        M.pay("subsidies", G, F, float(ivt[inv.V_SUBSIDY] + ext[xe.X_COMPENSATION]))
        M.pay("soft_budget_support", G, F, float(ext[xe.X_SUPPORT]))
        M.pay("scrap_sales", R, F, float(ext[xe.X_SCRAP]))
        M.pay("court_costs", F, R, float(ext[xe.X_COURT_COSTS]))
        M.pay("trade_credit_repaid", F, R, float(ext[xe.X_TRADE_CREDIT]))
        M.pay("liquidation_residuals", F, H, float(ext[xe.X_RESIDUAL]))
        M.pay("entry_equity", H, F, entry_cash + entry_k - entry_loans)
        M.pay("overdraft_losses", B, F, float(ext[xe.X_OVERDRAFT]))
        # incomes of the industries
        M.pay("wages", F, H, float(inc[acc.I_WAGES]))
        M.pay("corporate_income_tax", F, G, float(inc[acc.I_CIT]))
        M.pay("dividends", F, H, float(inc[acc.I_DIVIDENDS]))
        M.pay("distributions", F, H, float(self.paid_out.sum()))
        # the banks' interest, and their positions' (bank_positions.bank_income), each summed over banks
        names = tuple(self._bank_parts)
        loan_int, dep_int, *parts_sums = tables.array_sums((bk.interest_income, bk.deposit_interest,
                                                           *self._bank_parts.values()))
        bp = dict(zip(names, parts_sums, strict=True))
        M.pay("loan_interest", F, B, float(loan_int))
        M.pay("deposit_interest", B, F, float(dep_int))
        M.pay("guarantee_fees", F, G, flows["fees"])
        # households and government
        purchase_sub = float((p.purchase_subsidy / np.maximum(1.0 - p.purchase_subsidy, 1e-12) * v_h * tx).sum())
        M.pay("purchase_subsidies", G, H, purchase_sub)
        c_rest = L["c"] - float(L["h_budget"].sum())
        M.pay("consumption_rest", H, R, c_rest)
        M.pay("government_rest", G, R, L["g_rest"])
        M.pay("transfers", G, H, self.transfers0 * L["trend"])
        # banks and the central bank
        M.pay("deposit_interest", B, H, float(bp["household_deposit"]))
        M.pay("bond_interest", G, B, float(bp["bond"]))
        M.pay("bond_interest", G, CB, self._cb_bonds_interest)
        M.pay("reserve_interest", CB, B, float(bp["reserve"]))
        M.pay("advance_interest", B, CB, float(bp["advance"]))
        M.pay("relending_interest", B, CB, float(bp["relending"]))
        M.pay("central_bank_profit", CB, G, self._cb_bonds_interest + float(bp["advance"] - bp["reserve"])
              + float(bp["relending"]))
        M.pay("bank_operating_costs", B, H, bk.opex_total)
        M.pay("bank_taxes", B, G, bk.tax)
        M.pay("bank_dividends", B, H, bk.dividends)
        M.pay("guarantee_payouts", G, B, float(ext[xe.X_FUND_PAYOUT]))
        M.pay("bank_recapitalisation", G, B, bk.resolution_cost())
        # the rest of the economy passes its value added on, as taxes and as households' income
        s_r = s_f + float(M.m[FLOW["investment_spending"], R] + c_rest + L["g_rest"])  # its sales
        va_r = float(M.m[:, R].sum())
        yd_other = float(M.m[:, H].clip(min=0).sum())
        if self.tax_rate_rest is None:  # calibrated on the first month: households' 2019 disposable income
            self.tax_rate_rest = 1.0 - (self.yd0 - yd_other) / va_r
            if not 0.0 <= self.tax_rate_rest < 1.0:
                raise _out_of_line(m.sc, "economy.disposable_income",
                                   f"the rest of the economy's tax rate that meets households' 2019 disposable "
                                   f"income comes out at {self.tax_rate_rest:.3f} (it must be in [0, 1))")
        tax_r = self.tax_rate_rest * va_r
        M.pay("taxes_rest", R, G, tax_r)
        M.pay("income_rest", R, H, va_r - tax_r)
        yd = yd_other + va_r - tax_r
        # the revenue the budget rules see: receipts net of the VAT refunded on exports (a negative tax;
        # counting receipts alone, a VAT cut's smaller refund went unseen and the revenue rule cut
        # purchases by 1.3 times the revenue actually lost)
        revenue = float(M.m[:, G].clip(min=0).sum() + M.m[FLOW["export_vat_refund"], G])
        # financial stocks
        d_loans = (flows["credit_loans"] + entry_loans - float(ext[xe.X_LOANS_REPAID])
                   + float(ext[xe.X_EVERGREEN]))  # banks' rollovers of firms that would default
        M.stock_change("d_loans", F, d_liability=d_loans)
        M.stock_change("d_loans", B, d_asset=d_loans)
        d_dep_f = float(bk.firm_deposits) - self.firm_deposits_prev
        d_dh = float(M.m[:, H].sum())  # households' saving goes to their deposits
        self.dh += d_dh
        M.stock_change("d_deposits", F, d_asset=d_dep_f)
        M.stock_change("d_deposits", H, d_asset=d_dh)
        M.stock_change("d_deposits", B, d_liability=d_dep_f + d_dh)
        deficit = -float(M.m[:, G].sum())
        self.debt += deficit
        M.stock_change("d_bonds", G, d_liability=deficit)
        trade = -float(M.m[:, W].sum())  # exports less imports
        self.fa += trade
        M.stock_change("d_foreign_assets", W, d_liability=trade)
        M.stock_change("d_foreign_assets", CB, d_asset=trade)
        # the banks' new positions, from their books
        before = self._positions()
        self._allocate()
        after = self._positions()
        d_res, d_bonds_b, d_bonds_cb, d_adv, d_rel = (float(a - b) for a, b in zip(after, before, strict=True))
        M.stock_change("d_reserves", B, d_asset=d_res)
        M.stock_change("d_reserves", CB, d_liability=d_res)
        M.stock_change("d_bonds", B, d_asset=d_bonds_b)
        M.stock_change("d_bonds", CB, d_asset=d_bonds_cb)
        M.stock_change("d_advances", B, d_liability=d_adv)
        M.stock_change("d_advances", CB, d_asset=d_adv)
        M.stock_change("d_relending", B, d_liability=d_rel)
        M.stock_change("d_relending", CB, d_asset=d_rel)
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
        self.matrix = M.m
        self.sheet = self.balance_sheet()
        gap, where, detail = M.gaps()
        scale = scale_of(M.m)
        sheet_gap = self.sheet_gaps()
        worst = max(gap, book_gap, sheet_gap)
        if worst > 1e-9 * max(scale, float(np.abs(self.sheet).max())):
            if book_gap >= max(gap, sheet_gap):
                where, detail = "bank books", "loans moved by more than their transactions and losses"
            elif sheet_gap >= gap:
                where, detail = "balance sheets", "bank net worth against equity, or the central bank's"
            raise SFCError(f"month {t}: the whole economy's accounts do not close: {where} ({detail}) is off "
                           f"by {worst:.6g} yuan")
        self.yd_month = yd
        return worst

    def _positions(self) -> tuple:
        """The banks' reserves (required and excess), bonds, the central bank's bonds, the banks'
        advances and re-lending from the central bank, summed over banks (yuan)."""
        res, excess, bonds, adv, relend = tables.array_sums((self.reserves, self.excess, self.bonds, self.advances,
                                                             self.relend))
        return res + excess, bonds, self.bonds_cb, adv, relend

    def firm_stocks_summed(self, held: np.ndarray) -> None:
        """The firms' fixed capital, other assets and other liabilities by sector (live firms and
        estates in court, model-firm units), summed by the month's sums over the rows
        (accounting.month_sums): the next `balance_sheet` takes them instead of summing again."""
        self._held_sums = held

    def balance_sheet(self) -> np.ndarray:
        """Stocks at the end of the month: items x institutions, assets +, liabilities -, net worth
        the balancing row of each column (yuan)."""
        m = self.m
        bk = m.banking
        Bk, Fm = bk.banks, m.firms
        summed, self._held_sums = self._held_sums, None
        if summed is None:
            held = Fm.alive | (Fm.court > 0)  # the estates in the court procedure still hold their assets
            summed = self._sums3
            sums.sector_sums(held, Fm.sector, (Fm.capital, Fm.other_assets, Fm.other_liab), summed)
        firm_stocks = m.weight @ summed  # fixed capital, other assets, other liabilities
        S = np.zeros((len(ITEM_NAMES), 7))

        def put(item: str, inst: int, value: float) -> None:
            S[ITEM[item], inst] += value

        loans, provisions = (float(x) for x in tables.masked_sums(Bk.alive, (Bk.loans, Bk.provisions)))
        res, bonds, _, adv, relend = (float(x) for x in self._positions())
        put("deposits", F, bk.firm_deposits)
        put("deposits", H, self.dh)
        put("deposits", B, -(bk.firm_deposits + self.dh))
        put("loans", F, -loans)
        put("loans", B, loans)
        put("loan_loss_provisions", B, -provisions)
        put("bonds", G, -self.debt)
        put("bonds", B, bonds)
        put("bonds", CB, self.bonds_cb)
        put("reserves", B, res)
        put("reserves", CB, -res)
        put("advances", B, -adv)
        put("advances", CB, adv)
        put("relending", B, -relend)
        put("relending", CB, relend)
        put("foreign_assets", CB, self.fa)
        put("foreign_assets", W, -self.fa)
        put("fixed_capital", F, float(firm_stocks[0]))
        put("other_assets", F, float(firm_stocks[1]))
        put("other_liabilities", F, -float(firm_stocks[2]))
        S[ITEM["net_worth"]] = -S.sum(axis=0)
        return S

    def sheet_gaps(self) -> float:
        """What the balance sheets must show: banks' net worth equals their equity on their own books,
        the central bank's stays nil (it remits its profit), and each financial item is one
        institution's asset and another's liability."""
        S = self.sheet
        B_ = self.m.banking.banks
        nw = ITEM["net_worth"]
        fin = [ITEM[k] for k in ("deposits", "loans", "bonds", "reserves", "advances", "relending", "foreign_assets")]
        return max(abs(-S[nw, B] - float(B_.equity[B_.alive].sum())), abs(S[nw, CB]),
                   float(np.abs(S[fin].sum(axis=1)).max()))

    def record(self, rec, t: int) -> None:
        """The month's accounts into the records; the government's and households' variables the open
        economy approximates are replaced by the accounts' own."""
        M = self.matrix
        L = self.last
        rec["tfm", t] = M
        rec["balance_sheet", t] = self.sheet
        rec["household_deposits", t] = self.dh
        rec["household_consumption", t] = L["c"]
        rec["household_disposable_income", t] = self.yd_month
        rec["government_purchases", t] = float(L["g_budget"].sum() + L["g_rest"])
        rec["exports", t] = M[FLOW["sales_exports"], F]
        rec["imports", t] = M[FLOW["imports"], W]
        rec["central_bank_foreign_assets", t] = self.fa
        rec["tax_rate_rest", t] = self.tax_rate_rest
        gov = M[:, G].copy()
        gov[_STOCK_CHANGES] = 0.0
        rec["tax_revenue", t] = float(gov.clip(min=0).sum())
        rec["gov_spending", t] = float(-gov.clip(max=0).sum())
        rec["gov_balance", t] = float(gov.sum())
        rec["gov_debt", t] = self.debt
        rec["household_income", t] = self.yd_month
