"""The industrial economy as a mesa Model: firms as arrays, regulators as agents.

`IndustrialEconomy.step` is the one place where the step order lives; it reads like MODEL.md.
`PLAN` (sim/phases) lists the phases, printable with `python -m sim.model`.
"""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import mesa
import numpy as np

from ._memory import keep_freed_memory, release_freed_memory
from .banking import BankingSystem, SFCError, bank_count
from .economy import Institutions
from .economy.world import export_shares, open_export_factor
from .kernels import accounting as acc
from .kernels import exit_entry as xe
from .kernels import investment as inv
from .kernels import market as mkt
from .kernels import sector_month, sums, tables
from .outpaths import between_months
from .phases import PLAN, accounts, capacity, credit, entry, firms, setup
from .phases import demand as demand_
from .phases.accounts import MonthTables, OpenFiscal
from .phases.params import RunParams
from .phases.setup import N_S
from .phases.totals import SectorTotals
from .records import Recorder
from .regulators import REGULATORS, PolicySchedule, PolicyState
from .rng import DrawPool, RowDraws, Streams
from .scenario.schema import Scenario
from .state import Scratch, sector_tables
from .threads import one_thread_while_one_chunk


class IndustrialEconomy(mesa.Model):
    """The economy: a mesa Model whose firms and banks are arrays and whose regulators are mesa
    Agents. The model holds the state (the firm rows, the banking system, the sector tables and the
    sectors' state); the phases are plain functions by mechanism in sim/phases (set-up, firm-level
    kernels, credit, capacity rules, entry, accounts), each given the state it reads and writes.
    Their order lives here, in `step`. The methods under "the phases" pass each phase its state;
    the Mesa reference (sim/reference) overrides them with per-agent Python. The capacity rules'
    state and hooks are one object, `capacity_rules` (phases.capacity.CapacityRules), which the
    step and the industry regulator call."""

    engine = "numba"
    banking_class = BankingSystem

    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.run.seed if seed is None else int(seed)
        super().__init__(seed=seed)
        keep_freed_memory()
        self.sc = scenario
        self.closed = scenario.economy.closure == "closed"  # the whole economy's accounts (sim.economy)
        self._wedge_summed = None  # the sectors' average cost wedge, summed by the shocks pass (firm_shocks)
        self.export_share0 = export_shares(scenario.economy)  # of final demand in 2019 (the open closure's exports)
        self.run_seed, self.streams = seed, Streams(seed)
        self.t, self.months = 0, scenario.run.months
        self.b = scenario.behaviour
        cal = setup.sector_calibration(scenario)
        vars(self).update(cal)  # the sectors' calibration and state at the start (phases.setup)
        self.totals = SectorTotals(N_S)  # live firms, capacity and pipeline by sector
        self._setup_firms(SimpleNamespace(**cal))
        # the capacity rules' state and hooks (phases.capacity): the set-up's rules' shares (of the
        # sectors and of their projects under way), replacement pool and physical capacity per yuan
        # are theirs; they act on the firms through the model's methods
        hooks = capacity.FirmHooks(self.sector_capacity, self.sector_pipeline, self.halt_projects, self.scale_pipeline,
                                   self.backward_candidates, self.forced_closures)
        self.capacity_rules = capacity.CapacityRules(vars(self).pop("rules_share"), vars(self).pop("pipe_share"),
                                                     vars(self).pop("quota_pool"),
                                                     vars(self).pop("phys_per_yuan"), self.lag, self.dep_month, hooks)
        n = self.firms.n_rows
        self.scratch = Scratch(n, self.firms)  # per-row scratch of the credit step (reused every month)
        self._income, self._stocks = np.zeros((N_S, acc.N_INCOME)), np.zeros((N_S, acc.N_STOCKS))
        self._invest, self._exits = np.zeros((N_S, inv.N_INVEST)), np.zeros((N_S, xe.N_EXIT))
        self._requested = np.zeros(N_S)
        self._cls_loans, self._cls_interest, self._cls_credit = np.zeros(2), np.zeros(2), np.zeros((2, 4))
        self._counts = np.full(3, -1.0)  # live firms, SMEs, estates in court (month_sums; -1: not counted)
        self._held = np.zeros((N_S if self.closed else 0, 3))  # firms' other stocks (the closed economy's sheet)
        self._record_sums = acc.RecordSums(self._stocks, self._cls_loans, self._cls_interest, self._cls_credit,
                                           self._counts, self._held)  # (the arrays above are written in place)
        self.policy = PolicyState()
        # the kernels' parameter tuples, made again only when an instrument they read changes (phases.params)
        self.params = RunParams(self.b, scenario.banking, self.policy)
        self._rules = firms.Rules(self.b, scenario.banking, self.policy, self.params)
        self.policy_schedule = PolicySchedule(scenario)
        self.regulators = [cls(self) for cls in REGULATORS]
        for reg in self.regulators:
            reg.step()  # the instruments of [policy], the status quo the economy is set up in
        self.banking = self.banking_class(self, bank_count(scenario))
        self._init_loan_rates()
        self.gov_debt = self.sfc_error = 0.0
        self.macro = Institutions(self) if self.closed else None
        if self.closed:
            self.macro.start_banks()
        self.wage_index_last = 1.0
        self.rec = Recorder(self.months, closed=self.closed)
        self.shocks, self.frontier_shocks = setup.predraw(self.streams, self.months)
        # the per-firm uniforms drawn once a month by the upgrade, imitation and credit processes
        n_search = 0 if scenario.banking.market == "passive" else scenario.banking.search_banks
        # (one buffer the firm-shock, upgrade and imitation uniforms take in turn: each phase uses its
        # uniforms up before the next draws; the bank search draws only its applicants' rows, `RowDraws.at`).
        # The buffer is the credit step's scratch `repaid`: repay_and_apply writes it for every row
        # before the credit step reads it, nothing reads it after, and no uniforms are drawn in between
        shapes = {"upgrade": (n,), "imitation": (n,), "credit": (n, n_search), "firm_shocks": (n,),
                  "evergreening": (n,)}  # banks' rollovers of firms that would default: leaving rows only (`at`)
        self._draw_pool = DrawPool(n, 1, host=self.scratch.repaid)
        self._draws = {name: RowDraws(self.streams[name], shape, seed, name, self._draw_pool)
                       for name, shape in shapes.items()}
        release_freed_memory()  # the set-up's temporaries
        if self.policy_schedule.changes_at_start():
            self.adopt_references(self.status_quo_references())

    # the first month's values later months are measured against (docs/model.md, "Reference month")
    REFERENCES = ("ptax0", "tax0", "income0", "_harmonic0")

    def references(self) -> dict[str, object]:
        """The reference values, set in the first month (after one step)."""
        refs = {name: getattr(self, name) for name in self.REFERENCES}
        if self.macro is not None:
            refs["macro"] = self.macro.references()
        return refs

    def status_quo_references(self) -> dict[str, object]:
        """The references of the status quo: the first month of the same economy (same scenario
        without its schedule, same seed). Price indices, the tax and income anchors and the closed
        economy's calibration constants describe 2019 as it was, so a change that acts from the
        first month is measured against the month it changed, not absorbed into the anchors."""
        # the economy is set up under [policy] alone, so a copy of it with the schedule taken out is
        # the status quo's economy (a copy costs milliseconds where a second set-up took seconds)
        quo = copy.deepcopy(self)
        quo.sc = self.sc.model_copy(update={"schedule": {}})
        quo.policy_schedule.changes = []
        quo.step()
        return quo.references()

    def adopt_references(self, refs: dict[str, object]) -> None:
        """Take the references (and start the smoothed series at them) before the first step."""
        for name in self.REFERENCES:
            setattr(self, name, refs[name])
        self.tax_smooth, self.income_smooth = self.tax0, self.income0
        if self.macro is not None:
            self.macro.adopt_references(refs["macro"])

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

    # ------------------------------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------------------------------
    def sector_capacity(self) -> np.ndarray:
        """Capacity by sector, economy-wide (yuan/month at 2019 prices)."""
        return self.totals.of(self.firms)[:, 1] * self.weight

    def sector_pipeline(self) -> np.ndarray:
        """Capacity under construction by sector, economy-wide."""
        return self.totals.of(self.firms)[:, 2] * self.weight

    def firms_by_sector(self) -> np.ndarray:
        """Live model firms in each sector."""
        return self.totals.of(self.firms)[:, 0].astype(np.int64)

    def energy_price_index(self) -> np.ndarray:
        """The energy price index by sector under the tariffs and fuel prices in force (kernels.sector_month)."""
        return sector_month.energy_price_index(self.large_share, self.elec_share, self._energy_changes())

    def _energy_changes(self) -> tuple[float, float, float]:
        p = self.policy
        return (float(p.electricity_price_change_large), float(p.electricity_price_change_general),
                float(p.fuel_price_change))

    def investment_price(self) -> float:
        """Price of capital goods: the investment-weighted ex-VAT price paid by business buyers."""
        return float(sector_month.investment_price(self.inv_share, self.price_index, self.vat_blend))

    # ------------------------------------------------------------------------------------------
    # the step
    # ------------------------------------------------------------------------------------------
    @between_months  # SIGTERM ends the process at the month's end (outpaths.terminate_on_sigterm)
    @one_thread_while_one_chunk
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
        if (tau != tau_prev).any():
            ratio = ((1 + tau_prev) / (1 + tau)) ** (1 - self.pass_through)
            self.vat_factor *= ratio
        self.vat_factor, blend, moved = sector_month.vat_margin(self.vat_factor, b.vat_margin_decay, self.final_share,
                                                                self.vat_blend)  # the margin decays
        if moved:
            self.reprice(blend / self.vat_blend)  # posted prices follow (phases.firms)
            self.price_index = self.price_index * blend / self.vat_blend
            self.vat_blend = blend

        # 2. demand (the input-output coefficients of this month first): the ex-VAT price paid by
        # business buyers, the tax-inclusive price final buyers pay, the demand cycle and support,
        # investment orders (kernels.sector_month)
        self.use_intensity(t)
        base_price, ptax, invest_demand = sector_month.buyers_prices(self.price_index, self.vat_blend, self.vat_factor,
                                                                     tau, p.purchase_subsidy, self.inv_share,
                                                                     self.invest_prev)
        if self.ptax0 is None:
            self.ptax0 = ptax.copy()
        self.cycle = sector_month.demand_cycle(self.cycle, self.shocks[t], (
            b.cycle_persistence, b.cycle_sigma_common, b.cycle_sigma_sector), self.support, p.demand_support)
        if self.closed:  # bought out of budgets (sim.economy)
            final = self.macro.final_demand(t, ptax, base_price, self.cycle, self.support, self.wage_index_last)
        else:
            y = 1.0 if self.income0 is None else self.income_smooth / (self.income0 * self._trend(t))
            final = (self.final0 * np.exp(self.growth * t / 12.0) * self.support * np.exp(self.cycle)
                     * (ptax / self.ptax0) ** (-self.elasticity) * y ** self.income_el
                     * open_export_factor(p, self.export_share0, self.sc.economy.export_elasticity))  # world demand
        demand, intermediate = self.solve_orders(final + invest_demand)
        self.learn_growth(demand)
        self._orders_by_use = {"intermediate": intermediate, "investment": invest_demand, "all": demand}
        self.final_share = final / demand

        # 3-6. input prices this month (sector level), then market shares and orders; production
        # (revenue at the posted price), labour and energy; unit costs, markups and next month's
        # prices; income (interest is paid to, and deposit interest paid by, each firm's bank)
        energy_cost = sector_month.energy_costs(self.energy_share, self.large_share, self.elec_share,
                                                self._energy_changes())
        # inputs are paid as received (solve_orders)
        material_cost = self.inputs_received.T @ base_price + self.materials
        # tightness moves a sector's markup norm only for the orders buyers cannot import instead: a
        # good its buyers import at parity when it runs short is priced at parity (shortage_import_share)
        anchor = sector_month.markup_anchor(self.markup0, b.markup_utilisation_response, self.shortage_import_share,
                                            self.util_smooth, self.util_target)
        vat_inputs_per_q = self.inputs_received.T @ (tau * base_price) + p.vat_rate_inputs * self.materials
        self.sfc_error = 0.0
        bk = self.banking
        bk.writeoff[:] = 0.0
        self.firm_shocks(self._draws["firm_shocks"].draw())  # large orders won and lost, cost shocks
        # prices pass on the sector's average cost wedge (competition passes on the industry's cost
        # level, not a firm's own deviation from it): selection of low-cost firms lowers prices
        self.wedge_level = self.sector_cost_wedge()
        wage_index, cash0, cash1 = self.produce_and_book(demand / W, self.input_fill, energy_cost, material_cost,
                                                         anchor, tau, vat_inputs_per_q, self.wedge_level)
        self.wage_index_last = wage_index
        va_cost = self.labour * wage_index + self.services
        inc, inc_sum = tables.scaled_with_totals(self._income, W)  # economy-wide, and summed over sectors
        self._check_cash("6 income", cash0, float(inc_sum[acc.I_CASH]), after=cash1)
        if self.closed:  # firms pay owners their deposits beyond the liquidity target (sim.economy)
            paid, after = self.distribute_excess_cash()
            cash1 = self._check_cash("6 distributions", cash1, -paid, after=after)

        # 7. credit: plan investment, then ask the lender
        pi, cap_per_capacity = sector_month.capital_prices(self.inv_share, self.price_index, self.vat_blend,
                                                           self.cap_output, self.util_target)  # (investment_price)
        prices = inv.InvestmentPrices(capital_per_capacity=cap_per_capacity, subsidy=p.upgrade_subsidy)
        # (the draws are views of scratch.repaid: not kept in locals past entry, where it may grow in place)
        self.plan_investment(self._draws["upgrade"].draw(), va_cost, energy_cost, prices)
        factor = self.capacity_rules.expansion_factor(self._requested * W, p)  # bans, ratios, caps
        review = credit.leverage_review_share(b.leverage_adjustment)
        needs = credit.CreditNeeds(factor, prices, self.params.repay(t, review))
        lent = self.credit_market(needs)
        self._credit = lent
        cash2 = self._check_cash("7 credit", cash1, lent.flow, after=lent.deposits)
        self.sfc_error = max(self.sfc_error, self.banking.check("7 credit", self._loan_scale(), gap=lent.loan_gap))

        # 8. investment
        cash3 = self.execute_investment(factor, prices, self._draws["imitation"].draw())  # also updates net worth
        ivt, ivt_sum = tables.scaled_with_totals(self._invest, W)
        self._check_cash("8 investment", cash2, float(ivt_sum[inv.V_CASH]), after=cash3)
        self.capacity_rules.after_investment(ivt[:, inv.V_GRANTED], ivt[:, inv.V_RETIRED_DEP])  # quota used
        sig = b.frontier_volatility
        up, down = sector_month.frontier_moves(self.frontier_growth, -self.ei_decline, self.frontier_shocks[t],
                                               (sig, 0.5 * sig**2))
        self.frontier_a *= np.exp(up)
        self.frontier_ei *= np.exp(down)

        # 9. exit: bankruptcy and voluntary exit, then forced closure of backward capacity
        n_ref = self.n_alloc if b.min_share_reference == "2019" else self.firms_by_sector()
        min_share = sector_month.min_shares(b.min_relative_share, n_ref)  # of the sector's output
        deposits, loan_gap = self.exits(min_share)
        if self.capacity_rules.forced_exit(self.firms, p, W):  # the sums from the exit pass no longer hold
            deposits, loan_gap = None, None
        ext, ext_sum = tables.scaled_with_totals(self._exits, W)
        cash4 = self._check_cash("9 exit", cash3, float(ext_sum[xe.X_CASH]), after=deposits)
        self.sfc_error = max(self.sfc_error, self.banking.check("9 exit", self._loan_scale(), gap=loan_gap))
        retired = ext[:, xe.X_RETIRED] + ivt[:, inv.V_RETIRED_DEP]
        self.capacity_rules.after_exits(retired, p, b.replacement_quota_life)  # the pool gains the retirements

        # 10. entry
        entries, entry_cap, entry_cash = self._entry(demand)
        self.capacity_rules.after_entry(entry_cap)  # entrants' capacity uses replacement quota
        self.close_books()  # banks' exposures, firm deposits and loans by bank for the checks, record sums
        self.learn_turnover(ext[:, xe.X_RETIRED], entry_cap)  # (after the sums: they hold the sector totals)
        self._check_cash("10 entry", cash4, entry_cash, after=bk.firm_deposits)
        loan_gap = float(sector_month.max_abs_gap(bk.firm_loans, bk.banks.loans))
        self.sfc_error = max(self.sfc_error, bk.check("10 entry", self._loan_scale(), gap=loan_gap))
        bk.month_end(refreshed=True, other_income=self.macro.bank_income() if self.closed else None)

        # 11. accounting and records
        month = MonthTables(demand, final, inc, ivt, ext, retired, entries, entry_cap, self._stocks, inc_sum,
                            ivt_sum, ext_sum)
        if self.closed:
            self._close_economy(t, month, entry_cash)
        self._record(t, month, ptax)
        if self.closed:
            self.macro.record(self.rec, t)
        self.t += 1

    def distribute_excess_cash(self) -> float:
        """Step 6 in the closed economy: firms pay owners part of their deposits beyond the liquidity
        target (by sector into macro.paid_out), made in the income pass (accounting.income) with the
        payers' credit scores. Returns the total paid and the firms' deposits after (economy-wide yuan)."""
        return self.macro.distributions()

    # ------------------------------------------------------------------------------------------
    # the phases: each passes a function of sim/phases the state it reads and writes (the Mesa
    # reference overrides these methods with per-agent Python)
    # ------------------------------------------------------------------------------------------
    def _setup_firms(self, cal: SimpleNamespace) -> None:
        """The firms of 2019 (phases.setup.opening_firms) and the sectors' state at the start, from the
        sectors' calibration `cal` (phases.setup.sector_calibration)."""
        alloc = setup.allocate_rows(self.sc.run.firms, cal.population)
        self.n_alloc = alloc
        self.weight = cal.population / alloc  # real firms per model firm, by sector
        opening = setup.opening_firms(self.sc, cal, alloc, self.weight, self.streams)
        self.firms = opening.firms
        self.frontier_a, self.frontier_ei, self.median_capacity = (opening.frontier_a, opening.frontier_ei,
                                                                   opening.median_capacity)
        self.frontier_a0 = self.frontier_a.copy()
        self.capacity_per_firm0 = cal.cap0 / cal.population  # per model firm (real-firm units), by sector
        self.next_firm_id = int(alloc.sum())  # firms get ids in order of entry
        self.rows_added = 0  # rows added when entrants found none free (grow_rows)
        self.sme_threshold = setup.sme_threshold(self.b)
        vars(self).update(setup.sector_state_at_start(cal, alloc))

    def _init_loan_rates(self) -> None:
        """Loans at start carry the rate a bank would quote today (phases.setup); the opening net worth
        then goes back into its array, which the scores took (`state.SHARED_ARRAYS`)."""
        setup.opening_profit(self.firms, self.margin0, self.rev_month)
        self._scores()
        setup.opening_loan_rates(self.firms, self.sc, self.policy, self.banking.banks.margin)
        F = self.firms
        F.net_worth[:] = F.capital + F.cash + F.other_assets - F.loans - F.other_liab  # (as setup.disperse_sheets)

    def _scores(self) -> None:
        setup.credit_scores(self.firms, self.sc, self.policy)

    def rules(self) -> firms.Rules:
        return self._rules

    def reprice(self, factor: np.ndarray) -> None:
        firms.reprice(self.firms, factor)

    def firm_shocks(self, u) -> None:
        self._wedge_summed = firms.firm_shocks(self.firms, u, self.params.shocks, N_S)  # (`sector_cost_wedge` takes it)

    def sector_cost_wedge(self) -> np.ndarray:
        """The sectors' average cost wedge after this month's shocks (phases.firms.sector_cost_wedge),
        as the shocks pass summed it, else summed now."""
        wedge, self._wedge_summed = self._wedge_summed, None
        return firms.sector_cost_wedge(self.firms, N_S) if wedge is None else wedge

    def produce_and_book(self, demand_per_firm, input_fill, energy_cost, material_cost, anchor, tau,
                         vat_inputs_per_q, wedge_level) -> tuple[float, float, float]:
        """Steps 3-6 (phases.firms.produce_and_book). Returns the wage index and the firm deposits
        before and after (economy-wide yuan)."""
        demand = mkt.MarketDemand(price_index=self.price_index, demand=demand_per_firm, input_fill=input_fill)
        costs = firms.SectorCosts(labour=self.labour, services=self.services, energy=energy_cost,
                                  materials=material_cost, wedge=wedge_level, anchor=anchor, vat_rate=tau,
                                  vat_inputs=vat_inputs_per_q, vat_blend=self.vat_blend,
                                  normal_utilisation=self.util_normal, workers_per_yuan=self.workers_per_yuan,
                                  mwh_per_yuan=self.mwh_per_yuan)
        bill = None
        if self.closed:  # buyers pay for the inputs delivered (sim.economy)
            u = self._orders_by_use
            bill = lambda rate, rate_inputs, sold: self.macro.input_bill(  # noqa: E731
                u["all"], u["intermediate"], rate, rate_inputs, sold)
        payout = self.macro.payout_terms() if self.closed else None  # distributions in the income pass
        out = firms.produce_and_book(self.firms, sector_tables(self), self.banking, demand, costs, self.rules(),
                                     self._harmonic0, bill, self._income, payout)
        if self.closed:
            self.macro.paid_in_income(out.deposits_left)
        if self._harmonic0 is None:
            self._harmonic0 = out.harmonic
        return out.wage_index, out.deposits_before, out.deposits_after

    def plan_investment(self, u_review, va_cost, energy_cost, prices: inv.InvestmentPrices) -> None:
        firms.plan_investment(self.firms, sector_tables(self), prices, self.params.plan, va_cost, energy_cost, u_review,
                              self._requested)

    def credit_market(self, needs: credit.CreditNeeds) -> credit.CreditOutcome:
        return credit.credit_market(self.firms, self.banking, self.scratch, sector_tables(self), self._draws["credit"],
                                    needs, self.policy, self.sc.banking)

    def execute_investment(self, factor, prices: inv.InvestmentPrices, u_imit) -> float:
        return firms.execute_investment(self.firms, sector_tables(self), self.totals, prices, self.params.execute,
                                        factor, u_imit, self._invest)

    def exit_params(self) -> xe.ExitParams:
        """The exit kernels' parameters, the rescue of firms that would default included
        (banking.evergreening*, policy.soft_budget*): made again when the policy's rescue terms move."""
        key = tuple(self.policy.values.get(name) for name in xe.RESCUE)
        if getattr(self, "_exit_key", None) != key:
            self._exit_key, self._exit_params = key, xe.exit_params(self.b, self.closed, self.sc.banking, self.policy)
        return self._exit_params

    def exits(self, min_share) -> tuple[float, float]:
        return firms.exits(self.firms, self.banking, sector_tables(self), self.totals, self.exit_params(), min_share,
                           self._draws["evergreening"], self._exits)

    def forced_closures(self, order: np.ndarray, frac: np.ndarray) -> None:
        firms.forced_closures(self.firms, self.banking, sector_tables(self), self.totals,
                              xe.exit_params(self.b, self.closed), self.policy.exit_compensation, order, frac,
                              self._exits)

    # the capacity rules' hooks on the firms (phases.capacity.FirmHooks)
    def halt_projects(self, sectors: np.ndarray) -> None:
        self.totals.invalidate()
        capacity.halt_projects(self.firms, sectors)

    def scale_pipeline(self, scale: np.ndarray) -> None:
        self.totals.invalidate()
        capacity.scale_pipeline(self.firms, scale)

    def backward_candidates(self, s: int) -> np.ndarray:
        return capacity.backward_rows(self.firms, s, self.policy, self.frontier_a)

    # entry
    def free_rows(self, total: int) -> np.ndarray:
        return entry.free_rows(self.firms, total)

    def grow_rows(self, extra: int) -> None:
        """Add `extra` empty firm rows: the firm arrays, their per-row draws and the per-row scratch
        arrays grow together (scratch keeps this month's values: the records still read them)."""
        self.scratch.unbind_shared()  # its `granted` views the firms' `orders`, which may then grow in place
        self.firms.grow(extra)
        self._draw_pool.buf = None  # it views scratch.repaid, which may then grow in place (SoA.grow)
        self.scratch.grow(extra)
        self._draw_pool.grow(self.firms.n_rows, host=self.scratch.repaid)  # the pool lives in `repaid`
        for d in self._draws.values():
            d.grow(extra)
        self.rows_added += extra

    def _entry(self, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Step 10 (phases.entry): Poisson numbers of entrants by sector, rows for them (the rows
        grow by at least 5% when too few are free) and their start-up state. Returns entrants and
        their capacity by sector (economy-wide) and their deposits (yuan)."""
        b, p = self.b, self.policy
        self.entered_rows = np.zeros(0, dtype=np.int64)
        sector_month.learn_margin(self._income, acc.I_PROFIT, acc.I_REVENUE, self.margin_smooth, b.signal_smoothing)
        room = self.capacity_rules.entry_room(p)  # capacity entrants may add under caps and quotas (inf: no limit)
        lam = entry.entry_intensity(self.n_alloc, self.entry_rate, self.margin_smooth, self.margin0, b, p,
                                    self.capacity_rules.share, room)
        draws = entry.draw_entrants(self.streams["entry"], lam, self.entry_max)  # the numbers and their draws
        counts, total = draws.counts, draws.sector.shape[0]
        if total == 0:
            return np.zeros(N_S), np.zeros(N_S), 0.0
        free = self.free_rows(total)
        if free.size < total:
            self.grow_rows(max(total - free.size, int(math.ceil(0.05 * self.firms.n_rows))))
            free = self.free_rows(total)
        rows = free[:total]
        cap_now = self.sector_capacity()  # after exits
        # the median capacity (2019's, or scaled by the growth of capacity per live firm since), the ex-VAT
        # price, the value-added cost, demand and room per model firm (kernels.sector_month.entrant_terms)
        firms_now = self.firms_by_sector() if b.entrant_size_reference == "incumbents" else np.zeros(0, np.int64)
        median, base, va_cost, demand_per_firm, room_per_firm = sector_month.entrant_terms(
            (cap_now, self.weight, firms_now, self.median_capacity, self.capacity_per_firm0), self.price_index,
            self.vat_blend, self.labour, self.services, demand, room)
        sec = entry.EntrantSectors(
            weight=self.weight, median_capacity=median, util_target=self.util_target,
            frontier_a=self.frontier_a, frontier_ei=self.frontier_ei, va_cost=va_cost,
            energy_share=self.energy_share,
            inputs=entry.input_costs(self.io, base, counts),  # per unit of output, where firms enter
            materials=self.materials, wedge_level=self.wedge_level, markup0=self.markup0, vat_blend=self.vat_blend,
            demand_per_firm=demand_per_firm, room=room_per_firm, cap_output=self.cap_output)
        new = entry.new_firms(self.firms, self.banking, rows, draws, sec, self.rules(),
                              self.investment_price(), self.next_firm_id)
        self.next_firm_id += total
        self.totals.invalidate()
        self.entered_rows = rows
        return new.entries, new.capacity, new.cash

    # accounts and records
    def record_sums(self) -> acc.RecordSums:
        """The arrays the records' sums go into (accounting.month_sums), made once: they are written in place."""
        return self._record_sums

    def month_sums(self, records: bool, bk=None) -> tuple[float, float]:
        """One pass over the firm rows (phases.accounts.month_sums). `bk`: the banking system (while
        it is being set up, before the model holds it)."""
        bk = self.banking if bk is None else bk
        return accounts.month_sums(self.firms, bk, self.scratch, sector_tables(self), self.sme_threshold, records,
                                   self.record_sums())

    def close_books(self) -> None:
        """Step 10's end: the banks' exposures (and firm deposits and loans by bank for the checks)
        and the records' sums over firm rows, in one pass; the sector totals after entry are among
        them."""
        deposits, self._guaranteed = self.month_sums(records=True)
        self.banking.firm_deposits = float(deposits)
        # the live firms, capacity and pipeline by sector, summed as sums.sector_totals sums them
        self.totals.set(self._stocks[:, [acc.S_N_FIRMS, acc.S_CAPACITY, acc.S_PIPELINE]])
        if self.closed:  # and the firms' stocks for the whole economy's balance sheet (sim.economy)
            self.macro.firm_stocks_summed(self._held)

    def firm_aggregates(self) -> dict:
        return accounts.firm_aggregates(self.firms, self.sme_threshold, self.totals, self.record_sums(),
                                        self._guaranteed)

    def _record(self, t: int, month: MonthTables, ptax: np.ndarray) -> None:
        """Step 11: the month's records (phases.accounts), then the state carried to next month."""
        p, rec = self.policy, self.rec
        agg = self.firm_aggregates()
        accounts.record_sectors(rec, t, month, self.weight, self.capacity_rules.phys_per_yuan, self.input_fill,
                                self.price_index, ptax / self.ptax0, self.frontier_a)
        accounts.record_distress(rec, t, month, self.firms, self.weight, self.record_sums(), self.sme_threshold)
        accounts.record_banks(rec, t, month.exits_total, self.banking, agg, self._credit.fees, self.sfc_error)
        accounts.record_inclusive(rec, t, p, self.banking, agg["credit_guaranteed"])
        purchase = float(sector_month.purchase_subsidy_cost(p.purchase_subsidy, ptax, month.final))
        fiscal = OpenFiscal(self.tax0, self.tax_smooth, self.income0, self.income_smooth, self.gov_debt)
        fiscal = accounts.open_government(rec, t, month, fiscal, p, self.b, self.banking, self._trend(t), purchase,
                                          self._credit.fees)
        self.tax0, self.tax_smooth, self.income0, self.income_smooth, self.gov_debt = fiscal
        # state carried to next month: price index and output by sector, investment, utilisation
        q_now, pq = agg["output"], agg["price_output"]
        self.price_index = sector_month.price_index_after(q_now, pq, self.price_index)
        self.out_prev = month.income[:, acc.I_OUTPUT]
        self.invest_prev = float(month.invest_total[inv.V_INVESTMENT])
        sector_month.smooth_toward(self.util_smooth, rec.data["utilization"][t], self.b.signal_smoothing)

    def _loan_scale(self) -> float:
        return float(sector_month.abs_sum(self.banking.banks.loans))

    def learn_growth(self, orders: np.ndarray) -> None:
        """Firms learn the growth of their sector's orders (phases.demand.learn_growth)."""
        if self.orders_smooth is None:
            self.orders_smooth = orders.copy()
            return
        self.orders_smooth, self.orders_growth_expected = demand_.learn_growth(
            orders, self.orders_smooth, self.orders_growth_expected, self.b)
        self.growth_expected = self.orders_growth_expected + self.turnover_expected

    def learn_turnover(self, retired: np.ndarray, entered: np.ndarray) -> None:
        """Step 10: firms learn the net share of their sector's capacity exits leave to the survivors
        (phases.demand.learn_turnover)."""
        self.turnover_expected = demand_.learn_turnover(retired, entered, self.sector_capacity(),
                                                        self.turnover_expected, self.b)

    def use_intensity(self, t: int) -> None:
        """The input-output coefficients of month t (phases.demand.intensity_of_use)."""
        if not self.intensity_trend.any():
            return
        self.io, self.materials = demand_.intensity_of_use(self.io0, self.materials0, self.intensity_trend, t)

    def solve_orders(self, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Steps 2-3: each sector's orders this month and the rationing of inputs
        (phases.demand.solve_orders); sets input_fill and inputs_received, returns all orders and the
        intermediate ones."""
        o = demand_.solve_orders(other, self.sector_capacity(), self.io, self.critical, self.shortage_import_share,
                                 self.out_prev, self.t)
        self.input_fill, self.inputs_received = o.input_fill, o.inputs_received
        return o.demand, o.intermediate

    def _close_economy(self, t, month: MonthTables, entry_cash) -> None:
        """Step 11 in the closed economy: every flow of the month paid by one institution to another,
        the stocks moved, the matrix checked (sim.economy)."""
        F, rows = self.firms, self.entered_rows
        w = self.weight[F.sector[rows]]
        flows = {"credit_loans": self._credit.flow + self._credit.fees, "fees": self._credit.fees,
                 "entry_capital": float(np.dot(w, F.capital[rows])), "entry_loans": float(np.dot(w, F.loans[rows])),
                 "entry_cash": entry_cash}
        self.sfc_error = max(self.sfc_error, self.macro.close_month(t, month, self._orders_by_use, flows))

    @property
    def trend_growth(self) -> float:
        """The economy's trend growth a year: the sectors' demand growth weighted by 2019 revenue."""
        return float(sector_month.weighted_mean(self.growth, self.rev_month))

    def _trend(self, t: int) -> float:
        return math.exp(self.trend_growth * t / 12.0)


if __name__ == "__main__":
    for name, what in PLAN:
        print(f"{name:>18}  {what}")
