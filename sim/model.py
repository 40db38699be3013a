"""The industrial economy as a mesa Model: firms as arrays, regulators as agents.

`IndustrialEconomy.step` is the one place where the step order lives; it reads like MODEL.md.
`PLAN` lists the phases, printable with `python -m sim.model`.
"""

from __future__ import annotations

import copy
import math

import mesa
import numpy as np

from ._memory import keep_freed_memory, release_freed_memory
from .banking import BankingSystem, SFCError, bank_count
from .economy import Institutions
from .economy.institutions import export_shares, open_export_factor
from .kernels import accounting as acc
from .kernels import exit_entry as xe
from .kernels import investment as inv
from .kernels import market as mkt
from .kernels import sums
from .phases.accounts import RecordsMixin
from .phases.capacity import CapacityRulesMixin
from .phases.credit import CreditMixin
from .phases.entry import EntryMixin
from .phases.firms import FirmPhasesMixin
from .phases.setup import N_S, SetupMixin
from .records import Recorder
from .regulators import REGULATORS, PolicySchedule, PolicyState, retired_per_unit_built
from .rng import DrawPool, RowDraws, Streams
from .scenario.schema import Scenario
from .state import Scratch
from .threads import one_thread_while_one_chunk

PLAN = (
    ("1 policy", "regulators apply the schedule for this month; VAT changes reprice at once"),
    ("2 demand", "final demand (trend, cycle, tax-inclusive price, income, support) + input-output + investment"),
    ("3 market shares", "lumpy order and cost shocks; replicator dynamics on relative price and unfilled orders; "
                        "orders = share x demand"),
    ("4 production", "output = min(orders, capacity); unfilled orders go to spare capacity; labour, energy"),
    ("5 costs and prices", "unit cost at input prices; markups; price for next month with VAT pass-through"),
    ("6 income", "sales, wages, energy, inputs, interest, depreciation, VAT, CIT, dividends; balance sheets"),
    ("7 credit", "plan investment; firms ask the lender for shortfalls, investment beyond funds, rollover"),
    ("8 investment", "projects within bans, replacement ratios and caps; upgrades; frontier; imitation"),
    ("9 exit", "bankruptcy, voluntary exit after losses, forced closure of backward capacity by quota"),
    ("10 entry", "entrants in proportion to profitability, damped by the barrier, none under a ban"),
    ("11 accounting", "identities checked, aggregates recorded"),
)


class IndustrialEconomy(SetupMixin, FirmPhasesMixin, CreditMixin, CapacityRulesMixin, EntryMixin, RecordsMixin,
                        mesa.Model):
    """The economy: a mesa Model whose firms and banks are arrays and whose regulators are mesa
    Agents. The phases live by mechanism in sim/phases (set-up, firm-level kernels, credit, capacity
    rules, entry, records); their order lives here, in `step`."""

    engine = "numba"
    banking_class = BankingSystem

    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.run.seed if seed is None else int(seed)
        super().__init__(seed=seed)
        keep_freed_memory()
        self.sc = scenario
        self.closed = scenario.economy.closure == "closed"  # the whole economy's accounts (sim.economy)
        self.export_share0 = export_shares(scenario.economy)  # of final demand in 2019 (the open closure's exports)
        self.run_seed = seed
        self.streams = Streams(seed)
        self.t = 0
        self.months = scenario.run.months
        self.b = scenario.behaviour
        self._setup_sectors()
        self._setup_firms()
        n = self.firms.n_rows
        self.scratch = Scratch(n)  # per-row scratch of the credit step (reused every month)
        self._income = np.zeros((N_S, acc.N_INCOME))
        self._stocks = np.zeros((N_S, acc.N_STOCKS))
        self._invest = np.zeros((N_S, inv.N_INVEST))
        self._exits = np.zeros((N_S, xe.N_EXIT))
        self._requested = np.zeros(N_S)
        self._cls_loans = np.zeros(2)
        self._cls_interest = np.zeros(2)
        self._cls_credit = np.zeros((2, 4))
        self.policy = PolicyState()
        self.policy_schedule = PolicySchedule(scenario)
        self.regulators = [cls(self) for cls in REGULATORS]
        for reg in self.regulators:
            reg.step()  # the instruments of [policy], the status quo the economy is set up in
        self.banking = self.banking_class(self, bank_count(scenario))
        self._init_loan_rates()
        self.gov_debt = 0.0
        self.sfc_error = 0.0
        self.macro = None
        if self.closed:
            self.macro = Institutions(self)
            self.macro.start_banks()
        self.wage_index_last = 1.0
        self.rec = Recorder(self.months, closed=self.closed)
        self._predraw()
        # the per-firm uniforms drawn once a month by the upgrade, imitation and credit processes
        n_search = 0 if scenario.banking.market == "passive" else scenario.banking.search_banks
        n = self.firms.n_rows
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

        # 2. demand (the input-output coefficients of this month first)
        self.use_intensity(t)
        ptax = base_price * self.vat_factor * (1 + tau) * (1 - p.purchase_subsidy)
        if self.ptax0 is None:
            self.ptax0 = ptax.copy()
        shock = self.shocks[t]
        self.cycle = b.cycle_persistence * self.cycle + b.cycle_sigma_common * shock[N_S] + (
            b.cycle_sigma_sector * shock[:N_S])
        self.support *= 1 + p.demand_support / 12.0
        if self.closed:  # bought out of budgets (sim.economy)
            final = self.macro.final_demand(t, ptax, base_price, self.cycle, self.support, self.wage_index_last)
        else:
            y = 1.0 if self.income0 is None else self.income_smooth / (self.income0 * self._trend(t))
            final = (self.final0 * np.exp(self.growth * t / 12.0) * self.support * np.exp(self.cycle)
                     * (ptax / self.ptax0) ** (-self.elasticity) * y ** self.income_el
                     * open_export_factor(p, self.export_share0, self.sc.economy.export_elasticity))  # world demand
        invest_demand = self.inv_share * self.invest_prev / base_price
        demand, intermediate = self.solve_orders(final + invest_demand)
        self.learn_growth(demand)
        self._orders_by_use = {"intermediate": intermediate, "investment": invest_demand, "all": demand}
        self.final_share = final / demand

        # 3-6. input prices this month (sector level), then market shares and orders; production
        # (revenue at the posted price), labour and energy; unit costs, markups and next month's
        # prices; income (interest is paid to, and deposit interest paid by, each firm's bank)
        energy_cost = self.energy_share * self.energy_price_index()
        # inputs are paid as received (solve_orders)
        material_cost = self.inputs_received.T @ base_price + self.materials
        anchor = self.markup0 + b.markup_utilisation_response * (self.util_smooth - self.util_target)
        anchor = np.maximum(anchor, 0.0)
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
        inc = self._income * W[:, None]
        self._check_cash("6 income", cash0, float(inc[:, acc.I_CASH].sum()), after=cash1)
        if self.closed:  # firms pay owners their deposits beyond the liquidity target (sim.economy)
            paid, after = self.distribute_excess_cash()
            cash1 = self._check_cash("6 distributions", cash1, -paid, after=after)

        # 7. credit: plan investment, then ask the lender
        pi = self.investment_price()
        cap_per_capacity = self.cap_output * 12.0 * self.util_target * pi
        annuity = _annuity(b.upgrade_discount_rate / 12.0, b.upgrade_horizon)
        u_review = self._draws["upgrade"].draw()
        self.plan_investment(u_review, va_cost, energy_cost, cap_per_capacity, annuity)
        factor = self._capacity_rules(self._requested * W)
        self.funding_need(factor, cap_per_capacity)
        credit_flow, cash2, loan_gap = self.credit_market()
        self._credit_flow = credit_flow
        self._check_cash("7 credit", cash1, credit_flow, after=cash2)
        self.sfc_error = max(self.sfc_error, self.banking.check("7 credit", self._loan_scale(), gap=loan_gap))

        # 8. investment
        u_imit = self._draws["imitation"].draw()
        cash3 = self.execute_investment(factor, cap_per_capacity, u_imit)  # also updates net worth
        ivt = self._invest * W[:, None]
        self._check_cash("8 investment", cash2, float(ivt[:, inv.V_CASH].sum()), after=cash3)
        # projects started use up replacement quota at the rule's ratio
        self.quota_pool = np.maximum(self.quota_pool - self._rule_ratio * ivt[:, inv.V_GRANTED], 0.0)
        fs = self.frontier_shocks[t]
        sig = b.frontier_volatility
        self.frontier_a *= np.exp(self.frontier_growth / 12.0 + sig * fs[0] - 0.5 * sig**2)
        self.frontier_ei *= np.exp(-self.ei_decline / 12.0 + sig * fs[1] - 0.5 * sig**2)

        # 9. exit: bankruptcy and voluntary exit, then forced closure of backward capacity
        min_share = b.min_relative_share / np.maximum(self.firms_by_sector(), 1)
        deposits, loan_gap = self.exits(min_share)
        if self._forced_exit():  # the sums from the exit pass no longer hold
            deposits, loan_gap = None, None
        ext = self._exits * W[:, None]
        cash4 = self._check_cash("9 exit", cash3, float(ext[:, xe.X_CASH].sum()), after=deposits)
        self.sfc_error = max(self.sfc_error, self.banking.check("9 exit", self._loan_scale(), gap=loan_gap))
        retired = ext[:, xe.X_RETIRED] + ivt[:, inv.V_RETIRED_DEP]
        rule = retired_per_unit_built(p.replacement_ratio, p.ban_new_capacity) > 0
        self.quota_pool = np.where(rule, self.quota_pool * (1 - 1 / b.replacement_quota_life) + retired, 0.0)

        # 10. entry
        entries, entry_cap, entry_cash = self._entry(demand)
        self.learn_turnover(ext[:, xe.X_RETIRED], entry_cap)
        self.close_books()  # banks' exposures, firm deposits and loans by bank for the checks, record sums
        self._check_cash("10 entry", cash4, entry_cash, after=bk.firm_deposits)
        loan_gap = float(np.max(np.abs(bk.firm_loans - bk.banks.loans)))
        self.sfc_error = max(self.sfc_error, bk.check("10 entry", self._loan_scale(), gap=loan_gap))
        bk.month_end(refreshed=True, other_income=self.macro.bank_income() if self.closed else None)
        if self.closed:
            self._close_economy(t, demand, inc, ivt, ext, entry_cash)

        # 11. accounting and records
        self._record(t, demand, final, inc, ivt, ext, retired, entries, entry_cap, ptax)
        if self.closed:
            self.macro.record(self.rec, t)
        if t % 12 == 11:
            release_freed_memory()  # free heap pages the month's temporaries left behind
        self.t += 1

    def sector_cost_wedge(self) -> np.ndarray:
        """The sectors' average cost wedge per unit of output: the live firms' wedges weighted by last
        month's output (kernels.sums). Unit costs for pricing include it (`produce_and_book`), so the
        sector's margin does not depend on it: when loss-makers with high wedges exit, prices fall
        (the productivity gain of selection goes to buyers, as in Hopenhayn, Econometrica 1992, and
        Melitz, Econometrica 2003) instead of margins ratcheting up."""
        F = self.firms
        out = np.zeros(N_S)
        sums.sector_weighted_mean(F.alive, F.sector, F.cost_wedge, F.output, out)
        return out

    def distribute_excess_cash(self) -> float:
        """Step 6 in the closed economy: firms pay owners part of their deposits beyond the liquidity
        target (kernels.payout, by sector into macro.paid_out); the payers' credit scores, made with the
        income statements, are made again from the deposits left. Returns the total paid and the firms'
        deposits after (economy-wide yuan, summed in the same pass for the stock-flow check)."""
        return self.macro.pay_out_excess_cash()

    def learn_growth(self, orders: np.ndarray) -> None:
        """Firms learn the growth of their sector's orders: orders smoothed at
        `behaviour.expectation_speed`, their monthly growth averaged at `behaviour.growth_learning`
        into `growth_expected` (a year), which investment builds capacity for (kernels.investment).
        With the calibrated trend alone, orders growing faster than it kept capacity short and
        utilisation rising for as long as the run lasted."""
        if self.orders_smooth is None:
            self.orders_smooth = orders.copy()
            return
        smooth = self.orders_smooth + self.b.expectation_speed * (orders - self.orders_smooth)
        g = np.divide(smooth, self.orders_smooth, out=np.ones_like(smooth), where=self.orders_smooth > 0) - 1.0
        gx = self.orders_growth_expected
        self.orders_growth_expected = gx + self.b.growth_learning * (12.0 * g - gx)
        self.growth_expected = self.orders_growth_expected + self.turnover_expected
        self.orders_smooth = smooth

    def learn_turnover(self, retired: np.ndarray, entered: np.ndarray) -> None:
        """Step 10: firms learn the net share of their sector's capacity that exits leave to the survivors
        each year (capacity and pipeline of the firms that exited, less the entrants' capacity, over
        the sector's capacity), averaged at `behaviour.growth_learning`. A survivor's orders grow by
        that much beyond the sector's, and it builds for it (`growth_expected` = orders growth +
        turnover): without it, capacity lost to defaults and exits was replaced only through the
        gap between desired and actual capacity, which then stayed open (a proportional rule's
        steady-state error), and utilisation and markups rose year after year."""
        cap = self.sector_capacity()
        x = 12.0 * np.divide(retired - entered, cap, out=np.zeros(N_S), where=cap > 0)
        self.turnover_expected = self.turnover_expected + self.b.growth_learning * (x - self.turnover_expected)

    def use_intensity(self, t: int) -> None:
        """The input-output coefficients of month t: buyers use a_ks = a0_ks exp(trend_k t/12) of
        sector k's goods per unit of output (`sectors.<k>.input_intensity_trend`), and buy what they
        save from the rest of the economy instead (materials), so unit costs at 2019 prices stay."""
        if not np.any(self.intensity_trend):
            return
        self.io = self.io0 * np.exp(self.intensity_trend * t / 12.0)[:, None]
        self.materials = self.materials0 + (self.io0 - self.io).sum(axis=0)

    def solve_orders(self, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Steps 2-3: each sector's orders this month, with intermediate orders placed for the output
        buyers plan this month (Leontief within the month), and the rationing of inputs. `other`:
        final and investment orders (real). A sector plans x_s = min(D_s, K_s) (the market spills
        orders over to spare capacity) and makes q_s = rho_s x_s, where rho_s is the least fill rate
        of its critical inputs; a supplier rations its buyers pro rata and buyers import the share m
        (`economy.shortage_import_share`) of what it cannot supply, so a buyer gets
        phi_k = (q_k + m max(D_k - q_k, 0)) / D_k of what it ordered from k. Orders are
        D = other + A x. Solved by fixed-point iteration from last month's output in a compiled loop
        (kernels.market.solve_orders; the input-output matrix's column sums are below one, so it
        contracts, in a few dozen steps to 1e-13). Inputs from
        the buyer's own sector are trade within the industry and do not bind. Sets input_fill (rho)
        and inputs_received[k, s] = a_ks phi_k / rho_s, what s receives from k per
        unit of its output (phi_k of what it ordered for the output it planned, q_s / rho_s); returns
        all orders and the intermediate ones."""
        demand, inter, rho, phi, its = mkt.solve_orders(other, self.sector_capacity(), self.io, self.critical,
                                                        self.shortage_import_share,
                                                        self.out_prev, 1e-13, 200)
        if its < 0:
            raise RuntimeError(f"month {self.t}: the orders of the input-output block did not converge")
        self.input_fill = rho
        self.inputs_received = self.io * phi[:, None] / rho[None, :]
        return demand, inter

    def _close_economy(self, t, demand, inc, ivt, ext, entry_cash) -> None:
        """Step 11 in the closed economy: every flow of the month paid by one institution to another,
        the stocks moved, the matrix checked (sim.economy)."""
        F, rows = self.firms, self.entered_rows
        w = self.weight[F.sector[rows]]
        flows = {"credit_loans": self._credit_flow + self._credit_month["fees"], "fees": self._credit_month["fees"],
                 "entry_capital": float(np.dot(w, F.capital[rows])), "entry_loans": float(np.dot(w, F.loans[rows])),
                 "entry_cash": entry_cash}
        gap = self.macro.close_month(t, demand, self._orders_by_use, inc, ivt, ext, flows)
        self.sfc_error = max(self.sfc_error, gap)

    @property
    def trend_growth(self) -> float:
        """The economy's trend growth a year: the sectors' demand growth weighted by 2019 revenue."""
        return float(np.sum(self.growth * self.rev_month) / np.sum(self.rev_month))

    def _trend(self, t: int) -> float:
        return math.exp(self.trend_growth * t / 12.0)


def _annuity(r: float, n: int) -> float:
    return float(n) if r <= 0 else (1 - (1 + r) ** (-n)) / r


if __name__ == "__main__":
    for name, what in PLAN:
        print(f"{name:>18}  {what}")
