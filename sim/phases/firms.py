"""Firm-level phases of the step (MODEL.md steps 1, 3-6, 8, 9): each runs one or more kernels over
the firm rows. The Mesa reference (sim/reference) overrides exactly these methods with per-agent
Python."""

from __future__ import annotations

import numpy as np

from ..kernels import accounting as acc
from ..kernels import credit as cr
from ..kernels import exit_entry as xe
from ..kernels import investment as inv
from ..kernels import market as mkt
from ..kernels import production as prod
from ..kernels import shocks, sums
from ..state import sector_tables


class FirmPhasesMixin:
    def reprice(self, factor: np.ndarray) -> None:
        """Step 1: posted prices follow a change of the sector's VAT margin factor."""
        F = self.firms
        sums.reprice(F.alive, F.sector, factor, F.price)

    def firm_shocks(self, u) -> None:
        """Step 3 (first): lumpy order and cost shocks of every firm from this month's uniforms `u`
        (kernels.shocks); the market step renormalises the shares they move."""
        shocks.firm_shocks(self.firms.bundle(), u, shocks.shock_params(self.b))

    def produce_and_book(self, demand_per_firm, input_fill, energy_cost, material_cost, anchor, tau,
                         vat_inputs_per_q, wedge_level):
        """Steps 3-6 firm by firm: replicator shares, orders and output, labour and energy (3-4);
        the wage index (wages follow the economy's mean productivity), unit costs (with the sector's
        average cost wedge `wedge_level`), markups and prices for next month (5); the income
        statement of every firm into self._income (per sector, per model firm), the banks'
        interest, and the credit scores of step 7 (6). Returns
        the wage index and firm deposits before and after (economy-wide yuan)."""
        F, b, p, W = self.firms, self.b, self.policy, self.weight
        firms, sectors = F.bundle(), sector_tables(self)
        demand = mkt.MarketDemand(price_index=self.price_index, demand=demand_per_firm, input_fill=input_fill)
        harmonic = mkt.market_step(firms, sectors, demand, mkt.market_params(b))
        if self._harmonic0 is None:
            self._harmonic0 = harmonic
        # wages follow the economy's average productivity (labour share roughly stable)
        wage_index = float((harmonic / self._harmonic0) ** b.wage_productivity_elasticity)
        labour_cost = self.labour * wage_index
        va_cost = labour_cost + self.services
        unit_costs = prod.UnitCosts(va_cost=va_cost, labour=labour_cost, normal_utilisation=self.util_normal,
                                    energy_cost=energy_cost, material_cost=material_cost + wedge_level,
                                    markup_anchor=anchor,
                                    vat_factor=self.vat_blend)
        prod.costs_and_prices(firms, unit_costs, prod.pricing_params(b))
        if self.closed:  # buyers pay for the inputs delivered (sim.economy)
            u = self._orders_by_use
            material_cost, vat_inputs_per_q = self.macro.input_bill(u["all"], u["intermediate"], tau,
                                                                    p.vat_rate_inputs)
        costs = acc.IncomeCosts(labour=labour_cost, services=self.services, energy=energy_cost,
                                materials=material_cost, vat_rate=tau, vat_inputs_per_q=vat_inputs_per_q,
                                workers_per_yuan=self.workers_per_yuan, mwh_per_yuan=self.mwh_per_yuan,
                                normal_utilisation=self.util_normal)
        bk, c = self.banking, self.sc.banking
        acc.income(firms, sectors, costs, acc.income_params(c, p, b), cr.score_params(c, p), acc.bank_flows(bk),
                   self._income)
        bk.shift_interest()  # the lead booked each row's interest: participants take their shares
        before = float(np.sum(self._income[:, acc.I_DEPOSITS_BEFORE] * W))
        after = float(np.sum(self._income[:, acc.I_DEPOSITS_AFTER] * W))
        return wage_index, before, after

    def plan_investment(self, u_review, va_cost, energy_cost, cap_per_capacity, annuity) -> None:
        """Step 7 (first half): expectations, desired expansion and upgrade plans; requested
        expansion by sector into self._requested (model-firm units)."""
        prices = inv.InvestmentPrices(capital_per_capacity=cap_per_capacity, subsidy=self.policy.upgrade_subsidy)
        inv.plan_investment(self.firms.bundle(), sector_tables(self), prices, inv.plan_params(self.b, annuity),
                            va_cost, energy_cost, u_review, self._requested)

    def funding_need(self, factor, cap_per_capacity) -> None:
        """Step 7: funds each firm needs beyond its deposits (instalments, new projects within the
        capacity rules, own share of upgrades, a cash buffer). The engine computes them firm by firm
        at the start of `credit_market` (kernels.credit.repay_and_apply)."""
        self._need_inputs = (factor, cap_per_capacity)

    def execute_investment(self, factor, cap_per_capacity, u_imit) -> float:
        """Step 8: pipeline completion, new projects and upgrades within funds, imitation,
        depreciation; per-sector table into self._invest; net worth updated. Returns the firms'
        deposits after (economy-wide yuan, for the stock-flow check)."""
        self.invalidate_totals()
        prices = inv.InvestmentPrices(capital_per_capacity=cap_per_capacity, subsidy=self.policy.upgrade_subsidy)
        deposits = inv.execute_investment(self.firms.bundle(), sector_tables(self), prices, inv.execute_params(self.b),
                                          factor, u_imit, self._invest)
        self.set_totals(self._invest[:, [inv.V_FIRMS, inv.V_CAPACITY, inv.V_PIPELINE]])
        return float(deposits)

    def firms_by_sector(self) -> np.ndarray:
        """Live model firms in each sector."""
        return self._sector_totals()[:, 0].astype(np.int64)

    def _sector_totals(self) -> np.ndarray:
        """Live firms, capacity and pipeline by sector (model-firm units), summed again only after
        a phase that changes them (`invalidate_totals`)."""
        if not self._totals_ok:
            F = self.firms
            sums.sector_totals(F.alive, F.sector, F.capacity, F.pipeline, self._totals)
            self._totals_ok = True
        return self._totals

    def set_totals(self, totals: np.ndarray) -> None:
        """Live firms, capacity and pipeline by sector, as a kernel that passed over every row summed
        them (in the same chunks and order as sums.sector_totals): no separate pass needed."""
        self._totals[:] = totals
        self._totals_ok = True

    def invalidate_totals(self) -> None:
        """Call after changing which rows are alive, or their capacity or pipeline."""
        self._totals_ok = False

    def exits(self, min_share) -> tuple[float, float]:
        """Step 9: bankruptcy and voluntary exit; per-sector table into self._exits. Returns the
        survivors' deposits (economy-wide yuan) and the largest gap between a bank's books and its
        firms' loans, for the stock-flow checks."""
        self.invalidate_totals()
        bk = self.banking
        params = self.exit_params()
        firms, banks, sectors = self.firms.bundle(), bk.banks.bundle(), sector_tables(self)
        decided = xe.exit_decisions(firms, banks, sectors, params, min_share, self._totals.shape[0])
        u = self._draws["evergreening"].at(decided[0])  # the banks' rollover decisions (leaving rows only)
        deposits, gap = xe.exit_books(decided, u, firms, banks, sectors, params, bk.writeoff, self._exits,
                                      self._totals, bk.parts)
        bk.drop_dead_parts()
        self._totals_ok = True  # the survivors' totals (forced closures, if any, invalidate them)
        return float(deposits), float(gap)

    def exit_params(self):
        """The exit kernels' parameters, the rescue of firms that would default included
        (banking.evergreening*, policy.soft_budget*)."""
        return xe.exit_params(self.b, self.closed, self.sc.banking, self.policy)

    def forced_closures(self, order: np.ndarray, frac: np.ndarray) -> None:
        """Step 9: close the firms in `order` (whole, or the fraction `frac` of the marginal one)."""
        self.invalidate_totals()
        bk = self.banking
        xe.forced_closures(order, frac, self.policy.exit_compensation, self.firms.bundle(), bk.banks.bundle(),
                           sector_tables(self), xe.exit_params(self.b, self.closed), bk.writeoff, self._exits,
                           bk.parts)
        bk.drop_dead_parts()
