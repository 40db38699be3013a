"""The industrial economy as a mesa Model: firms as arrays, regulators as agents.

`IndustrialEconomy.step` is the one place where the step order lives; it reads like MODEL.md.
`PLAN` lists the phases, printable with `python -m sim.model`.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
from scipy import special

from ._memory import keep_freed_memory
from .banking import BankingSystem, SFCError
from .kernels import accounting as acc
from .kernels import credit as cr
from .kernels import exit_entry as xe
from .kernels import investment as inv
from .kernels import market as mkt
from .kernels import production as prod
from .kernels import sums
from .records import Recorder
from .regulators import REGULATORS, PolicySchedule, PolicyState
from .rng import RowDraws, Streams
from .scenario.schema import SECTORS, Scenario, interest_share, materials_share
from .state import FIRM_FIELDS, Firms, staggered_zeros

PLAN = (
    ("1 policy", "regulators apply the schedule for this month; VAT changes reprice at once"),
    ("2 demand", "final demand (trend, cycle, tax-inclusive price, income, support) + input-output + investment"),
    ("3 market shares", "replicator dynamics on relative price and unfilled orders; orders = share x demand"),
    ("4 production", "output = min(orders, capacity); unfilled orders go to spare capacity; labour, energy"),
    ("5 costs and prices", "unit cost at input prices; markups; price for next month with VAT pass-through"),
    ("6 income", "sales, wages, energy, inputs, interest, depreciation, VAT, CIT, dividends; balance sheets"),
    ("7 credit", "plan investment; firms ask the lender for shortfalls, investment beyond funds, rollover"),
    ("8 investment", "projects within bans, replacement ratios and caps; upgrades; frontier; imitation"),
    ("9 exit", "bankruptcy, voluntary exit after losses, forced closure of backward capacity by quota"),
    ("10 entry", "entrants in proportion to profitability, damped by the barrier, none under a ban"),
    ("11 accounting", "identities checked, aggregates recorded"),
)

N_S = len(SECTORS)
CASH_TO_REVENUE = 0.12  # deposits over annual revenue at start (inferred from NBS current assets)
OTHER_ASSETS_TO_REVENUE = 0.55  # receivables and inventories over annual revenue (inferred, NBS 2019)


class IndustrialEconomy(mesa.Model):
    engine = "numba"
    banking_class = BankingSystem

    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.run.seed if seed is None else int(seed)
        super().__init__(seed=seed)
        keep_freed_memory()
        self.sc = scenario
        self.run_seed = seed
        self.streams = Streams(seed)
        self.t = 0
        self.months = scenario.run.months
        self.b = scenario.behaviour
        self._setup_sectors()
        self._setup_firms()
        self.policy = PolicyState()
        self.policy_schedule = PolicySchedule(scenario)
        self.regulators = [cls(self) for cls in REGULATORS]
        self.policy_schedule.advance(0)
        for reg in self.regulators:
            reg.step()  # instruments in force at the start, for the banks' set-up
        self.banking = self.banking_class(self, scenario.run.banks)
        self._init_loan_rates()
        self.gov_debt = 0.0
        self.sfc_error = 0.0
        self.rec = Recorder(self.months)
        self._predraw()
        # the per-firm uniforms drawn once a month by the upgrade, imitation and credit processes
        n_search = 0 if scenario.banking.market == "passive" else scenario.banking.search_banks
        n = self.firms.n_rows
        slot = len(FIRM_FIELDS) + len(_ROW_SCRATCH)  # cache-line slots after the firm and scratch arrays
        self._draws = {name: RowDraws(self.streams[name], shape, seed, name, slot + k) for k, (name, shape) in
                       enumerate((("upgrade", (n,)), ("imitation", (n,)), ("credit", (n, n_search))))}
        # per-row scratch arrays (preallocated, reused every step; staggered like the firm arrays)
        for name, arr in staggered_zeros(n, _ROW_SCRATCH, len(FIRM_FIELDS)).items():
            setattr(self, name, arr)
        self._income = np.zeros((N_S, acc.N_INCOME))
        self._stocks = np.zeros((N_S, acc.N_STOCKS))
        self._invest = np.zeros((N_S, inv.N_INVEST))
        self._exits = np.zeros((N_S, xe.N_EXIT))
        self._requested = np.zeros(N_S)
        self._cls_loans = np.zeros(2)
        self._cls_interest = np.zeros(2)
        self._cls_credit = np.zeros((2, 4))

    # ------------------------------------------------------------------------------------------
    # set-up
    # ------------------------------------------------------------------------------------------
    def _setup_sectors(self) -> None:
        sc, b = self.sc, self.b
        ps = [sc.sectors[s] for s in SECTORS]
        f = lambda name: np.array([getattr(p, name) for p in ps], dtype=float)  # noqa: E731
        self.io = np.zeros((N_S, N_S))  # io[k, s]: yuan bought from k per yuan of s's output
        for s, p in enumerate(ps):
            for k, a in p.inputs.items():
                self.io[SECTORS.index(k), s] = a
        self.labour = f("labour_share")
        self.services = f("services_share")
        self.energy_share = f("energy_share")
        self.materials = np.array([materials_share(p, b) for p in ps])
        self.elec_share = f("electricity_share")
        self.large_share = f("large_tariff_share")
        self.util_target = f("utilisation_2019")
        self.growth = f("demand_growth")
        self.lag = np.array([p.build_lag for p in ps], dtype=np.int64)
        self.dep_month = f("depreciation") / 12.0
        self.cap_output = f("capital_output")
        self.elasticity = f("price_elasticity")
        self.income_el = f("income_elasticity")
        self.inv_share = f("investment_share")
        self.pass_through = f("vat_pass_through")
        self.frontier_growth = f("frontier_growth")
        self.ei_decline = f("energy_frontier_decline")
        self.entry_rate = f("entry_rate")
        self.rev_month = f("revenue_2019") * 1e12 / 12.0  # yuan/month at 2019 prices
        self.cap0 = self.rev_month / self.util_target
        self.phys_per_yuan = f("capacity_2019") / (self.cap0 * 12.0)  # physical units/yr per yuan/month
        unit = 1.0 - f("profit_margin") - self.cap_output * f("depreciation") - np.array(
            [interest_share(p, b) for p in ps])
        self.markup0 = 1.0 / unit - 1.0
        self.margin0 = f("profit_margin")
        self.population = np.array([p.firms_2019 for p in ps], dtype=float)
        self.workers_per_yuan = self.labour / (b.labour_cost_per_worker / 12.0)
        self.mwh_per_yuan = self.energy_share / b.energy_price_2019
        # demand at start: final = output - intermediate - investment demand
        q0 = self.rev_month
        self.invest0 = float(np.sum((f("depreciation") + self.growth) * self.cap_output * q0))
        z0 = self.io @ q0
        f0 = q0 - z0 - self.inv_share * self.invest0
        bad = [SECTORS[s] for s in range(N_S) if f0[s] < 0.02 * q0[s]]
        if bad:
            raise ValueError(
                f"sectors {bad}: intermediate and investment demand exceed output at start; lower their "
                "inputs (input-output coefficients of buyers) or investment_share"
            )
        self.final0 = f0

    def _allocate_rows(self) -> np.ndarray:
        n = self.sc.run.firms
        pop = self.population
        if n >= pop.sum():
            alloc = np.floor(pop * n / pop.sum()).astype(np.int64)
        else:
            alloc = np.maximum(np.round(pop * n / pop.sum()).astype(np.int64), min(50, n // (2 * N_S)))
        alloc[np.argmax(alloc)] += n - alloc.sum()
        return alloc

    def _setup_firms(self) -> None:
        sc, b = self.sc, self.b
        alloc = self._allocate_rows()
        self.n_alloc = alloc
        self.weight = self.population / alloc  # real firms per model firm, by sector
        n = int(alloc.sum())
        rows = n + max(int(math.ceil(n * sc.run.headroom)), 10)
        self.firms = F = Firms(rows)
        g = self.streams["init"]
        z = g.standard_normal((3, n))
        u = g.random((2, n))
        sector = np.repeat(np.arange(N_S), alloc)
        F.alive[:n] = True
        F.firm_id[:n] = np.arange(n)
        self.next_firm_id = n  # firms get ids in order of entry
        self.rows_added = 0  # rows added when entrants found none free (grow_rows)
        F.sector[:n] = sector
        F.soe[:n] = u[0] < np.array([sc.sectors[s].soe_share for s in SECTORS])[sector]
        F.age[:n] = (u[1] * 240).astype(np.int64)
        rho_sa, rho_ae = b.size_productivity_corr, b.productivity_energy_corr
        sig_size = np.array([sc.sectors[s].size_dispersion for s in SECTORS])[sector]
        sig_a = np.array([sc.sectors[s].productivity_dispersion for s in SECTORS])[sector]
        sig_e = np.array([sc.sectors[s].energy_intensity_dispersion for s in SECTORS])[sector]
        za = rho_sa * z[0] + math.sqrt(1 - rho_sa**2) * z[1]
        ze = rho_ae * za + math.sqrt(1 - rho_ae**2) * z[2]
        size = np.exp(sig_size * z[0]) * np.where(F.soe[:n], b.soe_size_ratio, 1.0)
        prod_ = np.exp(sig_a * za)
        ei = np.exp(sig_e * ze)
        self.frontier_a = np.ones(N_S)
        self.frontier_ei = np.ones(N_S)
        self.median_capacity = np.ones(N_S)
        for s in range(N_S):
            m = sector == s
            # above-size firms have a floor (20 m yuan of revenue): no firm starts so small that the
            # small-share exit rule (behaviour.min_relative_share) would close it in its first month
            size[m] = np.maximum(size[m], 2.0 * b.min_relative_share * size[m].mean())
            cap = size[m] / size[m].sum() * self.cap0[s] / self.weight[s]
            a = prod_[m] * np.sum(cap / prod_[m]) / cap.sum()  # capacity-weighted mean of 1/A is 1
            e = ei[m] / (np.sum(cap * ei[m]) / cap.sum())  # capacity-weighted mean of EI is 1
            F.capacity[:n][m] = cap
            F.productivity[:n][m] = a
            F.energy_intensity[:n][m] = e
            F.share[:n][m] = cap / cap.sum()
            self.frontier_a[s] = np.quantile(a, 0.98)
            self.frontier_ei[s] = np.quantile(e, 0.02)
            self.median_capacity[s] = np.median(cap)
        self.frontier_a0 = self.frontier_a.copy()
        sl = slice(0, n)
        F.share_prev[sl] = F.share[sl]
        F.output[sl] = F.capacity[sl] * self.util_target[sector]
        F.orders[sl] = F.output[sl]
        F.expected[sl] = F.output[sl]
        F.markup[sl] = self.markup0[sector]
        va = self.labour + self.services
        unit_cost = va[sector] / F.productivity[sl] + self.energy_share[sector] * F.energy_intensity[sl] + (
            self.io.sum(axis=0) + self.materials)[sector]
        F.price[sl] = (1 + F.markup[sl]) * unit_cost
        F.revenue[sl] = F.price[sl] * F.output[sl]
        self._init_balance_sheets(np.arange(n), 12.0 * F.output[sl])
        # capacity under construction at start: the steady state of the time-to-build rule
        lag = self.lag[sector]
        flow = np.maximum(self.dep_month + self.growth / 12.0, 0.0)[sector]
        F.pipeline[sl] = np.where(lag > 0, F.capacity[sl] * flow * lag, 0.0)
        F.pipeline_cost[sl] = F.pipeline[sl] * (self.cap_output * 12.0 * self.util_target)[sector]
        self.sme_threshold = b.sme_revenue_threshold / 12.0
        F.sme[sl] = F.capacity[sl] < self.sme_threshold
        # banks and loan rates are set by the banking system (BankingSystem, _init_loan_rates)
        # sector state
        self.price_index = np.ones(N_S)
        self.out_prev = self.rev_month.copy()  # economy-wide real output last month
        self.vat_factor = np.ones(N_S)
        self.vat_blend = np.ones(N_S)
        self.final_share = self.final0 / self.rev_month
        self.util_smooth = self.util_target.copy()
        self.invest_prev = self.invest0
        self.cycle = np.zeros(N_S)
        self.support = np.ones(N_S)
        self.quota_pool = np.zeros(N_S)
        self._harmonic0 = None
        self.income_smooth = None
        self.income0 = None
        self.tax_smooth = None
        self.tax0 = None
        self.margin_smooth = self.margin0.copy()
        self.ptax0 = None
        self.entry_max = np.maximum(4, np.ceil(0.02 * alloc)).astype(np.int64)
        self._totals = np.zeros((N_S, 3))
        self._totals_ok = False

    def _init_loan_rates(self) -> None:
        """Loans at start carry the rate a bank would quote today (policy rate, margin, SME premium,
        expected loss)."""
        F, c, p = self.firms, self.sc.banking, self.policy
        a = F.alive
        F.profit[a] = (self.margin0 * self.rev_month / np.maximum(self.rev_month, 1))[F.sector[a]] * F.revenue[a]
        self._scores()
        rate = p.policy_rate + self.banking.banks.margin[F.bank] + np.where(F.sme, c.sme_premium, 0.0) + (
            F.pd * c.loss_given_default)
        F.loan_rate[a] = rate[a]

    def _scores(self) -> None:
        F, c = self.firms, self.sc.banking
        cr.credit_scores(F.alive, F.soe, F.sme, F.loans, F.cash, F.capital, F.other_assets, F.profit, F.revenue,
                         F.loss_months, c.pd_intercept, c.pd_leverage, c.pd_loss, c.pd_sme, c.pd_margin,
                         self.policy.soe_implicit_guarantee, F.pd)

    def _cash_total(self) -> float:
        F = self.firms
        return float(sums.weighted_sum(F.alive, F.sector, self.weight, F.cash))

    def _check_cash(self, step: str, before: float, flows: float, after: float | None = None) -> float:
        """Firm deposits after a step must equal deposits before plus the flows the step recorded.
        `after` may come from the step's own kernel (same sum); else it is summed here."""
        after = self._cash_total() if after is None else after
        gap = abs(after - before - flows)
        scale = max(abs(before), abs(after), 1.0)
        if gap > 1e-9 * scale:
            raise SFCError(f"after step '{step}': firm deposits changed by {after - before:.6g} yuan but the "
                           f"recorded flows add to {flows:.6g} (gap {gap:.6g})")
        self.sfc_error = max(self.sfc_error, gap)
        return after

    def _init_balance_sheets(self, idx: np.ndarray, revenue_year: np.ndarray) -> None:
        F, b = self.firms, self.b
        s = F.sector[idx]
        F.capital[idx] = self.cap_output[s] * revenue_year
        F.cash[idx] = CASH_TO_REVENUE * revenue_year
        F.other_assets[idx] = OTHER_ASSETS_TO_REVENUE * revenue_year
        assets = F.capital[idx] + F.cash[idx] + F.other_assets[idx]
        F.loans[idx] = b.debt_to_assets * b.interest_bearing_share * assets
        F.other_liab[idx] = b.debt_to_assets * (1 - b.interest_bearing_share) * assets
        F.net_worth[idx] = assets - F.loans[idx] - F.other_liab[idx]

    def _predraw(self) -> None:
        """Draws whose shape depends only on the run size: made once, shared across scenarios."""
        g = self.streams["demand"]
        self.shocks = g.standard_normal((self.months, N_S + 1))
        g = self.streams["innovation"]
        self.frontier_shocks = g.standard_normal((self.months, 2, N_S))

    # ------------------------------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------------------------------
    def sector_capacity(self) -> np.ndarray:
        """Capacity by sector, economy-wide (yuan/month at 2019 prices)."""
        return self._sector_totals()[:, 1] * self.weight

    def sector_pipeline(self) -> np.ndarray:
        """Capacity under construction by sector, economy-wide."""
        return self._sector_totals()[:, 2] * self.weight

    def energy_price_index(self) -> np.ndarray:
        p = self.policy
        elec = 1 + self.large_share * p.electricity_price_change_large + (
            1 - self.large_share) * p.electricity_price_change_general
        return self.elec_share * elec + (1 - self.elec_share) * (1 + p.fuel_price_change)

    def investment_price(self) -> float:
        """Price of capital goods: the investment-weighted ex-VAT price paid by business buyers."""
        base = self.price_index / self.vat_blend
        return float(np.sum(self.inv_share * base) / np.sum(self.inv_share))

    # ------------------------------------------------------------------------------------------
    # the step
    # ------------------------------------------------------------------------------------------
    def step(self) -> None:
        t, b, p = self.t, self.b, self.policy
        W = self.weight

        # 1. policy: regulators apply the schedule; a VAT change reprices at once (pass-through)
        self.policy_schedule.advance(t)
        for reg in self.regulators:
            reg.step()
        tau = p.vat_rate
        tau_prev = p.previous.get("vat_rate", tau)
        # The margin kept from a VAT change is earned on sales to final buyers only: business buyers
        # credit input VAT, so their ex-VAT price is unchanged (vat_blend is the sales-weighted factor).
        if np.any(tau != tau_prev):
            ratio = ((1 + tau_prev) / (1 + tau)) ** (1 - self.pass_through)
            self.vat_factor *= ratio
        self.vat_factor = 1 + (self.vat_factor - 1) * (1 - b.vat_margin_decay)
        blend = 1 + (self.vat_factor - 1) * self.final_share
        if np.any(blend != self.vat_blend):
            self.reprice(blend / self.vat_blend)
            self.price_index = self.price_index * blend / self.vat_blend
            self.vat_blend = blend
        base_price = self.price_index / self.vat_blend  # ex-VAT price paid by business buyers

        # 2. demand
        ptax = base_price * self.vat_factor * (1 + tau) * (1 - p.purchase_subsidy)
        if self.ptax0 is None:
            self.ptax0 = ptax.copy()
        shock = self.shocks[t]
        self.cycle = b.cycle_persistence * self.cycle + b.cycle_sigma_common * shock[N_S] + (
            b.cycle_sigma_sector * shock[:N_S])
        self.support *= 1 + p.demand_support / 12.0
        y = 1.0 if self.income0 is None else self.income_smooth / (self.income0 * self._trend(t))
        final = (self.final0 * np.exp(self.growth * t / 12.0) * self.support * np.exp(self.cycle)
                 * (ptax / self.ptax0) ** (-self.elasticity) * y ** self.income_el)
        intermediate = self.io @ self.out_prev
        invest_demand = self.inv_share * self.invest_prev / base_price
        demand = final + intermediate + invest_demand
        self.final_share = final / demand

        # 3-6. input prices this month (sector level), then market shares and orders; production
        # (revenue at the posted price), labour and energy; unit costs, markups and next month's
        # prices; income (interest is paid to, and deposit interest paid by, each firm's bank)
        energy_cost = self.energy_share * self.energy_price_index()
        material_cost = self.io.T @ base_price + self.materials
        anchor = self.markup0 + b.markup_utilisation_response * (self.util_smooth - self.util_target)
        anchor = np.maximum(anchor, 0.0)
        vat_inputs_per_q = self.io.T @ (tau * base_price) + p.vat_rate_inputs * self.materials
        self.sfc_error = 0.0
        bk = self.banking
        bk.writeoff[:] = 0.0
        wage_index, cash0, cash1 = self.produce_and_book(demand / W, energy_cost, material_cost, anchor, tau,
                                                         vat_inputs_per_q)
        va_cost = self.labour * wage_index + self.services
        inc = self._income * W[:, None]
        self._check_cash("6 income", cash0, float(inc[:, acc.I_CASH].sum()), after=cash1)

        # 7. credit: plan investment, then ask the lender
        pi = self.investment_price()
        cap_per_capacity = self.cap_output * 12.0 * self.util_target * pi
        annuity = _annuity(b.upgrade_discount_rate / 12.0, b.upgrade_horizon)
        u_review = self._draws["upgrade"].draw()
        self.plan_investment(u_review, va_cost, energy_cost, cap_per_capacity, annuity)
        factor = self._capacity_rules(self._requested * W)
        self.funding_need(factor, cap_per_capacity)
        credit_flow, cash2, loan_gap = self.credit_market()
        self._check_cash("7 credit", cash1, credit_flow, after=cash2)
        self.sfc_error = max(self.sfc_error, self.banking.check("7 credit", self._loan_scale(), gap=loan_gap))

        # 8. investment
        u_imit = self._draws["imitation"].draw()
        self.execute_investment(factor, cap_per_capacity, u_imit)
        ivt = self._invest * W[:, None]
        cash3 = self._check_cash("8 investment", cash2, float(ivt[:, inv.V_CASH].sum()))
        # projects started use up replacement quota at the rule's ratio
        self.quota_pool = np.maximum(self.quota_pool - self._rule_ratio * ivt[:, inv.V_GRANTED], 0.0)
        fs = self.frontier_shocks[t]
        sig = b.frontier_volatility
        self.frontier_a *= np.exp(self.frontier_growth / 12.0 + sig * fs[0] - 0.5 * sig**2)
        self.frontier_ei *= np.exp(-self.ei_decline / 12.0 + sig * fs[1] - 0.5 * sig**2)
        self.update_net_worth()

        # 9. exit: bankruptcy and voluntary exit, then forced closure of backward capacity
        min_share = b.min_relative_share / np.maximum(self.firms_by_sector(), 1)
        self.exits(min_share)
        self._forced_exit()
        ext = self._exits * W[:, None]
        cash4 = self._check_cash("9 exit", cash3, float(ext[:, xe.X_CASH].sum()))
        self.sfc_error = max(self.sfc_error, self.banking.check("9 exit", self._loan_scale()))
        retired = ext[:, xe.X_RETIRED] + ivt[:, inv.V_RETIRED_DEP]
        rule = (np.maximum(p.replacement_ratio, np.where(p.ban_new_capacity > 0, 1.0, 0.0)) > 0)
        self.quota_pool = np.where(rule, self.quota_pool * (1 - 1 / b.replacement_quota_life) + retired, 0.0)

        # 10. entry
        entries, entry_cap, entry_cash = self._entry(demand)
        bk.refresh_exposures()  # banks' exposures, and firm deposits and loans by bank for the checks
        self._check_cash("10 entry", cash4, entry_cash, after=bk.firm_deposits)
        loan_gap = float(np.max(np.abs(bk.firm_loans - bk.banks.loans)))
        self.sfc_error = max(self.sfc_error, bk.check("10 entry", self._loan_scale(), gap=loan_gap))
        bk.month_end(refreshed=True)

        # 11. accounting and records
        self._record(t, demand, final, inc, ivt, ext, retired, entries, entry_cap, ptax)
        self.t += 1

    # ------------------------------------------------------------------------------------------
    # firm-level phases: each runs one or more kernels over the firm rows. The Mesa reference
    # (sim/reference) overrides exactly these methods with per-agent Python.
    # ------------------------------------------------------------------------------------------
    def reprice(self, factor: np.ndarray) -> None:
        """Step 1: posted prices follow a change of the sector's VAT margin factor."""
        F = self.firms
        sums.reprice(F.alive, F.sector, factor, F.price)

    def produce_and_book(self, demand_per_firm, energy_cost, material_cost, anchor, tau, vat_inputs_per_q):
        """Steps 3-6 firm by firm: replicator shares, orders and output, labour and energy (3-4);
        the wage index (wages follow the economy's mean productivity), unit costs, markups and
        prices for next month (5); the income statement of every firm into self._income (per
        sector, per model firm), the banks' interest, and the credit scores of step 7 (6). Returns
        the wage index and firm deposits before and after (economy-wide yuan)."""
        F, b, p, W = self.firms, self.b, self.policy, self.weight
        bk, c = self.banking, self.sc.banking
        harmonic = mkt.market_step(
            F.alive, F.sector, W, F.price, F.unfilled, self.price_index, b.replicator_speed,
            b.share_price_sensitivity, b.share_backlog_sensitivity, demand_per_firm, F.capacity, F.productivity,
            F.share, F.share_prev, F.orders, F.output, F.revenue)
        if self._harmonic0 is None:
            self._harmonic0 = harmonic
        # wages follow the economy's average productivity (labour share roughly stable)
        wage_index = float((harmonic / self._harmonic0) ** b.wage_productivity_elasticity)
        labour_cost = self.labour * wage_index
        va_cost = labour_cost + self.services
        prod.costs_and_prices(F.alive, F.sector, F.productivity, F.energy_intensity, va_cost, energy_cost,
                              material_cost, F.share, F.share_prev, F.unfilled, anchor, self.vat_blend,
                              b.markup_share_response, b.markup_anchor_speed, b.markup_backlog_response, F.markup,
                              F.price)
        acc.income(F.alive, F.sector, F.sme, F.output, F.capacity, F.revenue, F.productivity, F.energy_intensity,
                   F.loans, F.loan_rate, c.deposit_rate, labour_cost, self.services, energy_cost,
                   material_cost, self.dep_month, tau, vat_inputs_per_q, p.vat_rate_inputs, p.cit_rate,
                   p.cit_rate_small, p.cit_rate_small_upper, b.small_profit_lower_band / 12.0,
                   b.small_profit_threshold / 12.0, b.dividend_payout, F.cash, F.capital, F.other_assets,
                   F.other_liab, F.profit, F.loss_months, F.net_worth, self._income, W, F.bank, F.soe,
                   c.pd_intercept, c.pd_leverage, c.pd_loss, c.pd_sme, c.pd_margin, p.soe_implicit_guarantee, F.pd,
                   bk.interest_income, bk.deposit_interest, self.workers_per_yuan, self.mwh_per_yuan)
        before = float(np.sum(self._income[:, acc.I_DEPOSITS_BEFORE] * W))
        after = float(np.sum(self._income[:, acc.I_DEPOSITS_AFTER] * W))
        return wage_index, before, after

    def plan_investment(self, u_review, va_cost, energy_cost, cap_per_capacity, annuity) -> None:
        """Step 7 (first half): expectations, desired expansion and upgrade plans; requested
        expansion by sector into self._requested (model-firm units)."""
        F, b, p = self.firms, self.b, self.policy
        inv.plan_investment(F.alive, F.sector, F.orders, F.capacity, F.pipeline, F.upgrade_left,
                            F.productivity, F.energy_intensity, u_review, self.util_target, self.growth,
                            self.dep_month, self.lag,
                            self.frontier_a, self.frontier_ei, va_cost, energy_cost, cap_per_capacity,
                            p.upgrade_subsidy, b.expectation_speed,
                            b.investment_adjustment, b.max_expansion, b.upgrade_review_prob, annuity,
                            b.upgrade_cost_fixed, b.upgrade_cost_per_gap, F.expected, F.plan_expansion,
                            F.plan_upgrade, self._requested)

    def funding_need(self, factor, cap_per_capacity) -> None:
        """Step 7: funds each firm needs beyond its deposits (instalments, new projects within the
        capacity rules, own share of upgrades, a cash buffer). The engine computes them firm by firm
        at the start of `credit_market` (kernels.credit.repay_and_apply)."""
        self._need_inputs = (factor, cap_per_capacity)

    def execute_investment(self, factor, cap_per_capacity, u_imit) -> None:
        """Step 8: pipeline completion, new projects and upgrades within funds, imitation,
        depreciation; per-sector table into self._invest."""
        self.invalidate_totals()
        F, b, p = self.firms, self.b, self.policy
        inv.execute_investment(F.alive, F.sector, factor, F.plan_expansion, F.plan_upgrade, p.upgrade_subsidy,
                               cap_per_capacity, self.lag, self.frontier_a, self.frontier_ei, b.upgrade_lag,
                               u_imit, b.imitation_prob, b.imitation_speed, self.dep_month, F.cash, F.capital,
                               F.capacity, F.pipeline, F.pipeline_cost, F.upgrade_left, F.upgrade_productivity,
                               F.upgrade_energy, F.productivity, F.energy_intensity, F.age,
                               self._invest)

    def update_net_worth(self) -> None:
        F = self.firms
        sums.net_worth(F.alive, F.cash, F.capital, F.other_assets, F.loans, F.other_liab, F.net_worth)

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

    def invalidate_totals(self) -> None:
        """Call after changing which rows are alive, or their capacity or pipeline."""
        self._totals_ok = False

    def exits(self, min_share) -> None:
        """Step 9: bankruptcy and voluntary exit; per-sector table into self._exits."""
        self.invalidate_totals()
        F, b, W, bk = self.firms, self.b, self.weight, self.banking
        xe.exits(F.alive, F.sector, F.sme, W, F.cash, F.capital, F.loans, F.guaranteed, F.net_worth,
                 F.loss_months, F.capacity, F.pipeline, F.pipeline_cost, F.share, min_share, b.loss_months_exit,
                 b.recovery_rate, F.exit_reason, F.bank, bk.banks.loans, bk.writeoff, self._exits)

    def forced_closures(self, order: np.ndarray, frac: np.ndarray) -> None:
        """Step 9: close the firms in `order` (whole, or the fraction `frac` of the marginal one)."""
        self.invalidate_totals()
        F, p, bk = self.firms, self.policy, self.banking
        xe.forced_closures(order, frac, p.exit_compensation, F.sector, self.weight, self.b.recovery_rate, F.cash,
                           F.capital, F.loans, F.guaranteed, F.capacity, F.pipeline, F.pipeline_cost, F.share,
                           F.alive, F.exit_reason, F.bank, bk.banks.loans, bk.writeoff, self._exits)

    # ------------------------------------------------------------------------------------------
    def credit_market(self) -> float:
        """Step 7: the single place where firms ask for credit. Loans amortise; firms that need funds
        (shortfall, investment beyond internal funds, rollover) apply to their bank and a few random
        banks, best credit score first (scores were made with the income statements), and take the
        cheapest offer. Returns, for the stock-flow checks, the net cash flow to firms, their deposits
        after (economy-wide yuan) and the largest gap between bank and firm loan books."""
        F, b, p, c = self.firms, self.b, self.policy, self.sc.banking
        bk = self.banking
        B = bk.banks
        W = self.weight
        factor, cap_per_capacity = self._need_inputs
        n_app = cr.repay_and_apply(
            F.alive, F.sector, F.bank, W, F.sme, F.soe, F.pd, self.lag, factor, cap_per_capacity, p.upgrade_subsidy,
            b.cash_buffer_months, b.debt_to_assets, self.leverage_review_share(), self.t % 12, F.firm_id,
            F.pipeline_cost, F.plan_expansion,
            F.plan_upgrade, F.revenue,
            float(b.loan_maturity), c.pd_rollover_max,
            c.market == "passive", b.max_debt_to_assets, c.collateral_haircut_capital, p.pledge_haircut,
            p.receivables_pledge, p.ip_pledge, c.unsecured_sme, c.unsecured_large,
            c.soe_unsecured * p.soe_implicit_guarantee, F.loans, F.guaranteed, F.cash, F.capital, F.other_assets,
            F.other_liab, F.net_worth, B.loans, self._repaid, self._rolled, self._request, self._limit,
            self._applicants)
        order = cr.order_by_score(self._applicants[:n_app], F.pd)
        u = self._draws["credit"].draw()
        room, pdmax_sme, pdmax_large, discount, margin = bk.lending_conditions()
        fund_cap = p.guarantee_fund_capital * 1e9
        outstanding = float(sums.weighted_sum(F.alive, F.sector, W, F.guaranteed))
        fund_room = np.array([max(p.guarantee_leverage * fund_cap - outstanding, 0.0)])
        coverage = (1 - p.risk_share_bank) if fund_cap > 0 else 0.0
        self._granted[:] = 0.0
        self._fees[:] = 0.0
        self._new_rate[:] = 0.0
        cr.allocate_credit_drawn(order, u, bk.size_cdf[:B.n_rows], F.sector, W, F.sme, F.soe, F.pd,
                                 self._request, self._limit, B.alive, margin, room, pdmax_sme, pdmax_large, discount,
                                 p.policy_rate, c.sme_premium, c.loss_given_default, c.risk_weight_large,
                                 c.risk_weight_sme, c.risk_weight_guaranteed, fund_room, coverage,
                                 p.guarantee_fee_small, p.guarantee_fee, 5e6, c.switching_cost, F.bank, F.loans,
                                 F.loan_rate, F.cash, F.guaranteed, B.loans, self._granted, self._fees,
                                 self._new_rate)
        firm_side = np.zeros(B.n_rows)
        flow, fees, deposits = cr.credit_close(F.alive, F.sector, W, F.bank, self._request, self._granted,
                                               self._rolled, self._repaid, self._fees, F.cash, F.capital,
                                               F.other_assets, F.loans, F.other_liab, F.net_worth, self._denied,
                                               firm_side)
        self._credit_month = {"fees": float(fees)}
        return float(flow), float(deposits), float(np.max(np.abs(firm_side - B.loans)))

    def leverage_review_share(self) -> float:
        """Share of the gap to its target debt a firm borrows at its yearly credit-line review: what
        closing `behaviour.leverage_adjustment` of the gap every month would close in a year."""
        return 1.0 - (1.0 - self.b.leverage_adjustment) ** 12

    def _loan_scale(self) -> float:
        return float(np.sum(np.abs(self.banking.banks.loans)))

    def halt_projects(self, sectors: np.ndarray) -> None:
        """Stop the capacity under construction in the given sectors (nothing of it was paid yet:
        construction is paid as it is completed)."""
        self.invalidate_totals()
        F = self.firms
        sums.halt_projects(F.alive, F.sector, np.asarray(sectors, dtype=np.bool_), F.pipeline, F.pipeline_cost)

    def enforce_caps(self, cap_phys: np.ndarray) -> None:
        """Scale down capacity under construction where it would take a sector over its cap."""
        limit = np.where(cap_phys > 0, cap_phys / self.phys_per_yuan / 12.0, np.inf)
        pipe = self.sector_pipeline()
        over = self._capacity_in_lag() + pipe - limit
        scale = np.ones(N_S)
        np.divide(np.maximum(pipe - over, 0.0), pipe, out=scale, where=(over > 0) & (pipe > 0))
        if np.any(scale < 1.0):
            self.scale_pipeline(scale)

    def _capacity_in_lag(self) -> np.ndarray:
        """Capacity still operating when today's projects come on stream (net of depreciation over
        the build lag): a cap limits that plus the capacity under construction, so replacing worn-out
        capacity is not blocked by the cap."""
        return self.sector_capacity() * np.maximum(1.0 - self.dep_month * self.lag, 0.0)

    def scale_pipeline(self, scale: np.ndarray) -> None:
        """Capacity under construction (and its cost) scaled by sector."""
        self.invalidate_totals()
        F = self.firms
        sums.scale_pipeline(F.sector, scale, F.pipeline, F.pipeline_cost)

    def _capacity_rules(self, requested: np.ndarray) -> np.ndarray:
        """Share of requested expansion each sector may build: a ban or a replacement ratio needs
        retired capacity (the replacement pool) at the ratio; a cap limits capacity plus pipeline."""
        p = self.policy
        factor = np.ones(N_S)
        ratio = np.maximum(p.replacement_ratio, np.where(p.ban_new_capacity > 0, 1.0, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            allowed = np.where(ratio > 0, self.quota_pool / np.where(ratio > 0, ratio, 1.0), np.inf)
            factor = np.minimum(factor, np.where(requested > 0, allowed / requested, 1.0))
            cap_limit = np.where(p.capacity_cap > 0, p.capacity_cap / self.phys_per_yuan / 12.0, np.inf)
            pipe = self.sector_pipeline()
            head = np.maximum(cap_limit - self._capacity_in_lag() - pipe, 0.0)
            factor = np.minimum(factor, np.where(requested > 0, head / requested, 1.0))
        factor = np.clip(np.nan_to_num(factor, nan=0.0, posinf=1.0), 0.0, 1.0)
        self._rule_ratio = ratio
        self._cap_limit = cap_limit
        return factor

    def _forced_exit(self) -> None:
        F, p = self.firms, self.policy
        quota = p.forced_exit_quota
        if not np.any(quota > 0):
            return
        ref = p.quota_reference if p.quota_reference is not None else self.sector_capacity()
        order_all, frac_all = [], []
        for s in np.flatnonzero(quota > 0):
            target = quota[s] * ref[s] / 12.0 / self.weight[s]  # model-firm units this month
            cand = self.backward_candidates(s)
            if cand.size == 0:
                continue
            score = np.log(F.energy_intensity[cand]) - np.log(F.productivity[cand])
            cand = cand[np.argsort(-score, kind="stable")]
            cum = np.cumsum(F.capacity[cand])
            k = int(np.searchsorted(cum, target, side="left"))
            full = cand[:k]
            order_all.append(full)
            frac_all.append(np.ones(full.size))
            if k < cand.size:
                rest = target - (cum[k - 1] if k > 0 else 0.0)
                if rest > 0:
                    order_all.append(cand[k:k + 1])
                    frac_all.append(np.array([rest / F.capacity[cand[k]]]))
        if not order_all:
            return
        order = np.concatenate(order_all).astype(np.int64)
        frac = np.concatenate(frac_all)
        self.forced_closures(order, frac)

    def backward_candidates(self, s: int) -> np.ndarray:
        """Rows of live firms of sector s that count as backward capacity, in row order."""
        F, p = self.firms, self.policy
        m = F.alive & (F.sector == s) & ((F.energy_intensity >= p.backward_energy_intensity[s])
                                        | (F.productivity <= p.backward_productivity[s] * self.frontier_a[s]))
        return np.flatnonzero(m)

    def free_rows(self, total: int) -> np.ndarray:
        """Up to `total` rows for entrants: rows of exited firms first, then rows never used (a row
        keeps a firm's data until an entrant takes it; `firm_id` tells firms apart in panels)."""
        F = self.firms
        out = np.empty(total, dtype=np.int64)
        k = sums.free_rows(F.alive, F.exit_reason, total, out)
        return out[:k]

    def grow_rows(self, extra: int) -> None:
        """Add `extra` empty firm rows: the firm arrays, their per-row draws and the per-row scratch
        arrays grow together (scratch keeps this month's values: the records still read them)."""
        self.firms.grow(extra)
        for d in self._draws.values():
            d.grow(extra)
        for name, arr in staggered_zeros(self.firms.n_rows, _ROW_SCRATCH, len(FIRM_FIELDS)).items():
            old = getattr(self, name)
            arr[:old.shape[0]] = old
            setattr(self, name, arr)
        self.rows_added += extra

    def renormalise_shares(self) -> None:
        """Shares in each sector sum to one again (entrants take share from incumbents)."""
        F = self.firms
        sums.renormalise_shares(F.alive, F.sector, F.share, np.zeros(N_S))

    def _entry(self, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """New firms: Poisson numbers by sector (inverse CDF of a fixed uniform, so every scenario
        consumes the same draws), private SMEs drawn behind the frontier, funded half by equity and
        half by a loan."""
        F, b, p = self.firms, self.b, self.policy
        self.entered_rows = np.zeros(0, dtype=np.int64)
        g = self.streams["entry"]
        u_n = g.random(N_S)
        m = int(self.entry_max.max())
        u = g.random((N_S, m, 3))
        z = g.standard_normal((N_S, m))
        margin = self._income[:, acc.I_PROFIT] / np.maximum(self._income[:, acc.I_REVENUE], 1e-12)
        self.margin_smooth += b.signal_smoothing * (margin - self.margin_smooth)
        # the pool of would-be entrants scales with the sector's 2019 population, not with the firms
        # alive now: with exits proportional to the firms alive, the number of firms is stationary
        lam = (self.n_alloc * self.entry_rate / 12.0
               * np.exp(b.entry_profit_response * (self.margin_smooth - self.margin0))
               * (1 - p.entry_barrier) / 0.5)
        lam = np.where(p.ban_new_capacity > 0, 0.0, lam)
        counts = np.minimum(poisson_ppf(u_n, lam), self.entry_max).astype(np.int64)
        counts[lam <= 0] = 0
        entries = np.zeros(N_S)
        entry_cap = np.zeros(N_S)
        total = int(counts.sum())
        if total == 0:
            return entries, entry_cap, 0.0
        free = self.free_rows(total)
        if free.size < total:
            # more entrants than free rows: add a block of rows (at least 5% of the rows)
            self.grow_rows(max(total - free.size, int(math.ceil(0.05 * self.firms.n_rows))))
            free = self.free_rows(total)
        F.clear_rows(free[:int(counts.sum())])  # entrants start from empty rows
        cap_now = self.sector_capacity()  # after exits: what entrants under a cap must fit beside
        pi = self.investment_price()
        bk = self.banking
        entry_cash = 0.0
        k = 0
        for s in range(N_S):
            c = int(counts[s])
            if c == 0:
                continue
            rows = free[k:k + c]
            k += c
            us, zs = u[s, :c], z[s, :c]
            cap = b.entrant_size * self.median_capacity[s] * np.exp(0.5 * zs)
            if p.capacity_cap[s] > 0:  # entrants, too, stay under a cap
                room = max(self._cap_limit[s] - cap_now[s], 0.0) / self.weight[s]
                cap = cap * min(1.0, room / max(cap.sum(), 1e-12))
            gap = b.entrant_gap_min + (b.entrant_gap_max - b.entrant_gap_min) * us[:, 0]
            F.alive[rows] = True
            F.firm_id[rows] = np.arange(self.next_firm_id, self.next_firm_id + c)
            self.next_firm_id += c
            F.sector[rows] = s
            F.soe[rows] = False
            F.age[rows] = 0
            F.capacity[rows] = cap
            F.pipeline[rows] = 0.0
            F.pipeline_cost[rows] = 0.0
            F.upgrade_left[rows] = 0
            F.productivity[rows] = self.frontier_a[s] * np.exp(-gap)
            F.energy_intensity[rows] = self.frontier_ei[s] * np.exp(gap * us[:, 1] * 2.0)
            q = cap * self.util_target[s]
            F.share[rows] = q / max(demand[s] / self.weight[s], 1e-12)
            F.share_prev[rows] = F.share[rows]
            F.orders[rows] = q
            F.expected[rows] = q
            F.output[rows] = 0.0
            F.unfilled[rows] = 0.0
            F.markup[rows] = self.markup0[s]
            unit_cost = ((self.labour[s] + self.services[s]) / F.productivity[rows]
                                 + self.energy_share[s] * F.energy_intensity[rows]
                                 + self.io[:, s] @ (self.price_index / self.vat_blend) + self.materials[s])
            F.price[rows] = (1 + self.markup0[s]) * unit_cost * self.vat_blend[s]
            F.revenue[rows] = 0.0
            F.profit[rows] = 0.0
            F.loss_months[rows] = 0
            F.exit_reason[rows] = 0
            self._init_balance_sheets(rows, 12.0 * q)
            F.capital[rows] *= pi
            F.loans[rows] = 0.5 * F.capital[rows]
            F.net_worth[rows] = F.cash[rows] + F.capital[rows] + F.other_assets[rows] - F.loans[rows] - (
                F.other_liab[rows])
            F.sme[rows] = True
            F.guaranteed[rows] = 0.0
            banks = np.minimum(np.searchsorted(bk.size_cdf, us[:, 2], side="right"), bk.banks.n_rows - 1)
            banks = np.where(bk.banks.alive[banks], banks, int(np.argmax(bk.banks.alive)))
            F.bank[rows] = banks
            F.loan_rate[rows] = (p.policy_rate + bk.banks.margin[banks] + self.sc.banking.sme_premium
                                 + 0.02 * self.sc.banking.loss_given_default)
            np.add.at(bk.banks.loans, banks, self.weight[s] * F.loans[rows])
            entry_cash += float(self.weight[s] * F.cash[rows].sum())
            entries[s] = c
            entry_cap[s] = cap.sum()
        self.invalidate_totals()
        self.entered_rows = free[:k]
        # entrants' shares come out of incumbents'
        self.renormalise_shares()
        return entries * self.weight, entry_cap * self.weight, entry_cash

    def _trend(self, t: int) -> float:
        g = float(np.sum(self.growth * self.rev_month) / np.sum(self.rev_month))
        return math.exp(g * t / 12.0)

    def firm_aggregates(self) -> dict:
        """Sums over firm rows for the records (step 11). Firms are classified by size first (SME when
        capacity is below the revenue threshold)."""
        F, W = self.firms, self.weight
        cls, st = self._cls_credit, self._stocks
        guaranteed = acc.record_sums(
            F.alive, F.sector, W, F.sme, F.output, F.capacity, F.productivity, F.energy_intensity,
            F.loans, F.net_worth, F.pipeline, F.price, F.markup, F.loan_rate, F.guaranteed, self.sme_threshold,
            self._granted, self._rolled, self._new_rate, self._denied, st, self._cls_loans, self._cls_interest, cls)
        return {
            "credit_new": cls[:, 0].copy(), "credit_market": cls[:, 1].copy(),
            "credit_market_interest": cls[:, 2].copy(), "credit_denied": cls[:, 3].copy(),
            "credit_guaranteed": float(guaranteed),
            "output": st[:, acc.S_OUTPUT].copy(), "price_output": st[:, acc.S_PRICE_W].copy(),
        }

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
        rec["credit", t] = self._cls_loans
        rec["loan_rate", t] = self._cls_interest / np.maximum(self._cls_loans, 1e-300)
        rec["bankruptcies", t] = np.array([ext[:, xe.X_BANKRUPT_SME].sum(), ext[:, xe.X_BANKRUPT_LARGE].sum()])
        rec["gdp", t] = inc[:, acc.I_VALUE_ADDED].sum()
        rec["credit_total", t] = self._cls_loans.sum()
        rec["loan_losses", t] = ext[:, xe.X_WRITE_OFF].sum()
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
        rec["bank_capital_ratio", t] = float(B.equity[live].sum() / max(B.rwa[live].sum(), 1e-300))
        rec["bank_equity", t] = float(B.equity[live].sum())
        rec["bank_profit", t] = float(B.profit[live].sum())
        rec["bank_failures", t] = float(bk.failures_this_month)
        rec["banks_active", t] = float(live.sum())
        rec["guarantee_payouts", t] = float(ext[:, xe.X_FUND_PAYOUT].sum())
        rec["guarantee_fees", t] = cm["fees"]
        rec["bank_recapitalisation", t] = bk.recap_cost + bk.gov_cover
        rec["sfc_error", t] = self.sfc_error
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
        balance = taxes + fund_net - gov - subsidies - (bk.recap_cost + bk.gov_cover)
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


def poisson_ppf(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The Poisson quantile function, as scipy.stats.poisson.ppf computes it (scipy.special's
    pdtrik and pdtr), without importing scipy.stats (a third of a second at start-up)."""
    u = np.asarray(u, dtype=float)
    lam = np.asarray(lam, dtype=float)
    with np.errstate(invalid="ignore"):
        vals = np.ceil(special.pdtrik(u, lam))
        vals1 = np.maximum(vals - 1, 0)
        q = np.where(special.pdtr(vals1, lam) >= u, vals1, vals)
    q = np.where(u == 0, -1.0, q)
    q = np.where(u == 1, np.inf, q)
    return np.where((lam >= 0) & (u >= 0) & (u <= 1), q, np.nan)


def _annuity(r: float, n: int) -> float:
    return float(n) if r <= 0 else (1 - (1 + r) ** (-n)) / r


# per-row scratch arrays of the model (they grow with the firm rows): dtype and trailing shape
_ROW_SCRATCH = {name: (np.float64, ()) for name in ("_granted", "_repaid", "_fees", "_rolled", "_new_rate",
                                                    "_limit", "_request")}
_ROW_SCRATCH.update(_denied=(np.bool_, ()), _applicants=(np.int32, ()))


if __name__ == "__main__":
    for name, what in PLAN:
        print(f"{name:>18}  {what}")
