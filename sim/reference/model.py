"""The Mesa reference: the same economy as `IndustrialEconomy`, one Agent object per firm and bank.

`ReferenceEconomy` shares with the numba engine what is not firm-by-firm work: set-up (so the
random draws are the same: same named streams, same shapes, same order), the regulators and the
policy schedule, demand, the capacity rules, the choice of entrants and of backward capacity, and
the records. Every phase that the engine runs as a kernel over firm rows is written here as a loop
over `FirmAgent`s in row order calling one plain method per rule (docs/model.md), so sums add up in
the same order as in the kernels. It is slow by design and serves as the oracle in
tests/test_reference.py: both engines must agree step by step.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..kernels import accounting as acc
from ..kernels import exit_entry as xe
from ..kernels.credit import score_params
from ..kernels.investment import upgrade_annuity
from ..kernels.shocks import shock_params
from ..model import N_S, IndustrialEconomy
from ..state import EXIT_BANKRUPTCY, EXIT_FORCED
from .agents import Estate, FirmAgent
from .banking import ReferenceBanking
from .credit import ReferenceCreditMarket
from .tables import EXIT_COLUMNS, INCOME_COLUMNS, INCOME_SUMMED, INVEST_COLUMNS, new_tables, to_array


class ReferenceEconomy(IndustrialEconomy):
    """The plain Mesa way: a FirmAgent per firm, a BankAgent per bank, rules as methods (the credit
    market in sim/reference/credit.py)."""

    engine = "reference"
    banking_class = ReferenceBanking

    # -- agents -----------------------------------------------------------------------------
    def _setup_firms(self, cal) -> None:
        super()._setup_firms(cal)
        self.credit = ReferenceCreditMarket(self)
        self.firm_at: list[FirmAgent | None] = [None] * self.firms.n_rows
        self._sync_agents()

    def _sync_agents(self) -> None:
        """An agent for every live row, none for an empty one (exits remove, entrants add)."""
        alive = self.firms.alive
        for row, f in enumerate(self.firm_at):
            if alive[row] and f is None:
                self.firm_at[row] = FirmAgent(self, row)
            elif not alive[row] and f is not None:
                f.remove()
                self.firm_at[row] = None

    def grow_rows(self, extra: int) -> None:
        super().grow_rows(extra)
        self.firm_at.extend([None] * extra)

    def close_books(self) -> None:
        """The banks' exposures from their firms (the records' sums come in `firm_aggregates`)."""
        self.banking.refresh_exposures()

    def live_firms(self) -> list[FirmAgent]:
        return [f for f in self.firm_at if f is not None]

    # -- helpers over firms -----------------------------------------------------------------
    def sector_capacity(self) -> np.ndarray:
        cap = np.zeros(N_S)
        for f in self.live_firms():
            cap[f.sector] += f.capacity
        return cap * self.weight

    def sector_pipeline(self) -> np.ndarray:
        pipe = np.zeros(N_S)
        for f in self.live_firms():
            pipe[f.sector] += f.pipeline
        return pipe * self.weight

    def firms_by_sector(self) -> np.ndarray:
        n = np.zeros(N_S, dtype=np.int64)
        for f in self.live_firms():
            n[f.sector] += 1
        return n

    def halt_projects(self, sectors: np.ndarray) -> None:
        for f in self.live_firms():
            if sectors[f.sector]:
                f.pipeline = 0.0
                f.pipeline_cost = 0.0

    def scale_pipeline(self, scale: np.ndarray) -> None:
        for f in self.live_firms():
            f.pipeline = f.pipeline * scale[f.sector]
            f.pipeline_cost = f.pipeline_cost * scale[f.sector]

    def _cash_total(self) -> float:
        total = 0.0
        for f in self.live_firms():
            total += self.weight[f.sector] * f.cash
        return total

    def _wage_index(self) -> float:
        num = den = 0.0
        for f in self.live_firms():
            w = f.capacity * self.weight[f.sector]
            num += w
            den += w / f.productivity
        harmonic = num / den
        if self._harmonic0 is None:
            self._harmonic0 = harmonic
        return float((harmonic / self._harmonic0) ** self.b.wage_productivity_elasticity)

    def update_net_worth(self) -> None:
        for f in self.live_firms():
            f.update_net_worth()

    def _scores(self) -> None:
        k = score_params(self.sc.banking, self.policy)
        self.firms.pd[:] = 0.0
        for f in self.live_firms():
            f.score(k)

    # -- 1. policy --------------------------------------------------------------------------
    def reprice(self, factor: np.ndarray) -> None:
        for f in self.live_firms():
            f.price = f.price * factor[f.sector]

    # -- 3. lumpy order and cost shocks ------------------------------------------------------
    def firm_shocks(self, u) -> None:
        k = shock_params(self.b)
        for f in self.live_firms():
            f.shock(float(u[f.row]), k)

    # -- 3-6. the month's production and accounts, phase by phase ----------------------------
    def produce_and_book(self, demand_per_firm, input_fill, energy_cost, material_cost, anchor, tau,
                         vat_inputs_per_q, wedge_level):
        self.market(demand_per_firm, input_fill)
        wage_index = self._wage_index()
        labour_cost = self.labour * wage_index
        va_cost = labour_cost + self.services
        self.costs_and_prices(va_cost, labour_cost, energy_cost, material_cost + wedge_level, anchor)
        if self.closed:  # buyers pay for the inputs delivered (sim.economy)
            u = self._orders_by_use
            material_cost, vat_inputs_per_q = self.macro.input_bill(u["all"], u["intermediate"], tau,
                                                                    self.policy.vat_rate_inputs)
        cash0, cash1 = self.income(labour_cost, energy_cost, material_cost, tau, vat_inputs_per_q)
        return wage_index, cash0, cash1

    def distribute_excess_cash(self) -> tuple[float, None]:
        """As kernels.payout, firm by firm in row order (the deposits after are summed by the check)."""
        e, paid = self.sc.economy, self.macro.paid_out
        paid[:] = 0.0
        for f in self.live_firms():
            excess = f.cash - e.firm_liquidity_target * 12.0 * f.revenue
            if excess > 0.0:
                pay = e.excess_cash_payout * excess
                f.cash = f.cash - pay
                paid[f.sector] += self.weight[f.sector] * pay
        return float(paid.sum()), None

    # -- 3-4. market shares, orders, production ----------------------------------------------
    def market(self, demand_per_firm: np.ndarray, input_fill: np.ndarray) -> None:
        b, P = self.b, self.price_index
        lam = b.share_level_adjustment
        firms = self.live_firms()
        e_bar, tot, pull = [0.0] * N_S, [0.0] * N_S, [0.0] * N_S
        e = {}
        for f in firms:
            s = f.sector
            e[f.row] = f.competitiveness(P[s], b.share_price_sensitivity, b.share_backlog_sensitivity)
            e_bar[s] += f.share * e[f.row]
            tot[s] += f.share
            pull[s] += f.customer_pull(e[f.row])  # the partial adjustment's sum (sets a new firm's base)
        scale = [1.0] * N_S  # shares sum to one again (entrants since last month took share)
        for s in range(N_S):
            if tot[s] > 0:
                e_bar[s] /= tot[s]
                scale[s] = 1.0 / tot[s]
        short, spare = [0.0] * N_S, [0.0] * N_S
        for f in firms:
            # with 0 <= chi <= 1 the new shares of a sector add up to one (no need to divide again)
            f.share = f.share * scale[f.sector]
            f.update_share(e[f.row], e_bar[f.sector], b.replicator_speed, lam, pull[f.sector])
            sh, sp = f.take_orders(demand_per_firm[f.sector])
            short[f.sector] += sh
            spare[f.sector] += sp
        for f in firms:
            f.fill_spillover(short[f.sector], spare[f.sector], input_fill[f.sector])

    # -- 5. costs and prices ----------------------------------------------------------------
    def costs_and_prices(self, va_cost, labour_cost, energy_cost, material_cost, anchor) -> None:
        b = self.b
        for f in self.live_firms():
            s = f.sector
            f.compute_unit_cost(va_cost[s], labour_cost[s], self.util_normal[s], b.overtime_premium, energy_cost[s],
                                material_cost[s])
            f.set_price(
                anchor[s],
                self.vat_blend[s],
                b.markup_share_response,
                b.markup_anchor_speed,
            )

    # -- 6. income --------------------------------------------------------------------------
    def income(self, labour_cost, energy_cost, material_cost, tau, vat_inputs_per_q) -> tuple[float, float]:
        b, p, W, bk = self.b, self.policy, self.weight, self.banking
        rate = self.sc.banking.deposit_rate
        bk.interest_income[:] = 0.0
        bk.deposit_interest[:] = 0.0
        for f in self.live_firms():
            w = W[f.sector]
            for bank, share in bk.lenders(f):  # each lender earns its share of the interest
                bk.interest_income[bank.row] += share * (w * (f.loans * f.loan_rate / 12.0))
            bk.deposit_interest[f.bank] += w * (max(f.cash, 0.0) * rate / 12.0)
        cash0 = self._cash_total()
        e = SimpleNamespace(
            labour_cost=labour_cost,
            services=self.services,
            energy_cost=energy_cost,
            material_cost=material_cost,
            dep_month=self.dep_month,
            vat_rate=tau,
            vat_rate_inputs=p.vat_rate_inputs,
            vat_inputs_per_q=vat_inputs_per_q,
            cit_rate=p.cit_rate,
            cit_rate_small=p.cit_rate_small,
            cit_rate_small_upper=p.cit_rate_small_upper,
            small_low_month=b.small_profit_lower_band / 12.0,
            small_profit_month=b.small_profit_threshold / 12.0,
            payout=b.dividend_payout,
            workers_per_yuan=self.workers_per_yuan,
            mwh_per_yuan=self.mwh_per_yuan,
            normal_utilisation=self.util_normal,
            overtime_premium=b.overtime_premium,
        )
        tables = new_tables(INCOME_COLUMNS)
        for f in self.live_firms():
            items = f.earn(f.sector, e, rate)
            t = tables[f.sector]
            for name in INCOME_SUMMED:
                t[name] += items[name]
        for t in tables:  # the items that are sums of others, from the sector sums of those
            t["value_added"] = t["revenue"] - t["services"] - t["energy"] - t["materials"]
            t["pretax"] = t["value_added"] - t["wages"] - t["interest"] + t["deposit_interest"] - t["depreciation"]
            t["profit"] = t["pretax"] - t["cit"]
            t["cash"] = t["profit"] + t["depreciation"] - t["dividends"]
        to_array(tables, INCOME_COLUMNS, self._income)
        return cash0, self._cash_total()

    # -- 7. credit (the market itself: ReferenceCreditMarket, sim/reference/credit.py) ---------
    def credit_market(self, needs):
        return self.credit.run(needs)

    def plan_investment(self, u_review, va_cost, energy_cost, prices) -> None:
        b, p = self.b, self.policy
        cap_per_capacity = prices.capital_per_capacity
        e = SimpleNamespace(
            alpha=b.expectation_speed,
            util_normal=self.util_normal,
            dep=self.dep_month,
            growth=self.growth_expected,
            lag=self.lag,
            adjust=b.investment_adjustment,
            max_expansion=b.max_expansion,
            p_review=b.upgrade_review_prob,
            frontier_a=self.frontier_a,
            frontier_ei=self.frontier_ei,
            va_cost=va_cost,
            energy_cost=energy_cost,
            annuity=upgrade_annuity(b),
            cap_per_capacity=cap_per_capacity,
            cost_fixed=b.upgrade_cost_fixed,
            cost_per_gap=b.upgrade_cost_per_gap,
            subsidy=p.upgrade_subsidy,
        )
        self._requested[:] = 0.0
        self.firms.plan_expansion[:] = 0.0
        self.firms.plan_upgrade[:] = 0.0
        for f in self.live_firms():
            self._requested[f.sector] += f.plan(f.sector, e, u_review[f.row])

    def funding_need(self, needs) -> None:
        """What each firm needs beyond its deposits (the engine's kernels.credit.repay_and_apply makes
        it at the start of the credit step, as `credit_market` calls this)."""
        b, p = self.b, self.policy
        factor, cap_per_capacity = needs.factor, needs.prices.capital_per_capacity
        for f in self.live_firms():
            s = f.sector
            lag = max(int(self.lag[s]), 1)
            spend = (
                f.pipeline_cost / lag
                + f.plan_expansion * factor[s] * cap_per_capacity[s] / lag
                + f.plan_upgrade * (1 - p.upgrade_subsidy[s])
            )
            short = spend + b.cash_buffer_months * f.revenue - f.cash
            f.need = max(short, 0.0)
            # firms keep their leverage: at their yearly credit-line review (the month whose number
            # modulo 12 is their firm_id's) they borrow part of the gap to the target debt-to-assets,
            # or, above it, pay part of the excess down from deposits beyond their needs
            gap = f.leverage_target * (f.cash + f.capital + f.other_assets) - f.loans - f.other_liab
            review = f.firm_id % 12 == self.t % 12
            if gap > 0.0 and review:
                f.need += needs.repay.leverage_review_share * gap
            f.pay_down = (min(needs.repay.leverage_reduction_share * -gap, -short)
                          if review and gap < 0.0 and short < 0.0 else 0.0)

    # -- 8. investment ----------------------------------------------------------------------
    def execute_investment(self, factor, prices, u_imit) -> float:
        b, p = self.b, self.policy
        cap_per_capacity = prices.capital_per_capacity
        e = SimpleNamespace(
            lag=self.lag,
            factor=factor,
            cap_per_capacity=cap_per_capacity,
            subsidy=p.upgrade_subsidy,
            frontier_a=self.frontier_a,
            frontier_ei=self.frontier_ei,
            upgrade_lag=b.upgrade_lag,
            p_imitate=b.imitation_prob,
            imitation_speed=b.imitation_speed,
            dep=self.dep_month,
        )
        tables = new_tables(INVEST_COLUMNS)
        for f in self.live_firms():
            f.invest(f.sector, e, u_imit[f.row], tables[f.sector])
        to_array(tables, INVEST_COLUMNS, self._invest)
        self.update_net_worth()
        return self._cash_total()

    # -- 9. exit ----------------------------------------------------------------------------
    def exits(self, min_share) -> tuple[float, float]:
        b, bk = self.b, self.banking
        k = self.exit_params()
        self._exit_tables = tables = new_tables(EXIT_COLUMNS)
        F = self.firms
        u = self._draws["evergreening"].draw()  # the same uniforms as the engine's (stream "evergreening")
        for row in range(F.n_rows):  # in row order: estates and firms as the kernel's second pass
            f = self.firm_at[row]
            if f is None:
                if F.court[row] > 0:  # an estate: one more month in the court procedure
                    e = Estate(self, row)
                    e.court = e.court + 1
                    if e.court > k.court_months:
                        e.settle(k, bk.lenders(e), self.weight[e.sector], tables[e.sector])
                continue
            s = f.sector
            f.weak_months = f.weak_months_next()
            reason = f.exit_reason_now(min_share[s], b.loss_months_exit, k)
            t = tables[s]
            if reason == EXIT_BANKRUPTCY and f.rescue(u[row], k, bk.lenders(f), self.weight[s], t):
                reason = 0
            if reason == 0:
                if f.zombie():
                    t["zombies"] += 1
                    t["zombie_loans"] += f.loans
                continue
            if reason == EXIT_BANKRUPTCY:
                t["bankrupt"] += 1
                t["bankrupt_sme" if f.sme else "bankrupt_large"] += 1
                f.default(reason, 0.0, k, bk.lenders(f), self.weight[s], t)
            else:
                t["voluntary"] += 1
                f.close(reason, 0.0, k, bk.lenders(f), self.weight[s], t)
        to_array(tables, EXIT_COLUMNS, self._exits)
        self._sync_agents()
        bk.drop_dead_parts()
        return self._cash_total(), bk.loan_gap()

    def forced_closures(self, order: np.ndarray, frac: np.ndarray) -> None:
        p, bk = self.policy, self.banking
        k = xe.exit_params(self.b, self.closed)
        tables = self._exit_tables
        for j, row in enumerate(order):
            f = self.firm_at[row]
            s = f.sector
            t = tables[s]
            if frac[j] >= 1.0:
                t["forced"] += 1
                if f.zombie():  # counted among the survivors by `exits`
                    t["zombies"] -= 1
                    t["zombie_loans"] -= f.loans
                comp = p.exit_compensation[s] * f.capital
                if f.cash + comp >= 0 and f.liquidation_value(f.cash + comp, k) >= f.loans:
                    f.close(EXIT_FORCED, comp, k, bk.lenders(f), self.weight[s], t)
                else:
                    f.default(EXIT_FORCED, comp, k, bk.lenders(f), self.weight[s], t)
            else:
                f.close_part(frac[j], p.exit_compensation[s], t)
        to_array(tables, EXIT_COLUMNS, self._exits)
        self._sync_agents()
        bk.drop_dead_parts()
        return self._cash_total(), bk.loan_gap()

    def backward_candidates(self, s: int) -> np.ndarray:
        p = self.policy
        return np.array(
            [
                f.row
                for f in self.live_firms()
                if f.sector == s
                and (
                    f.energy_intensity >= p.backward_energy_intensity[s]
                    or f.productivity <= p.backward_productivity[s] * self.frontier_a[s]
                )
            ],
            dtype=np.int64,
        )

    # -- 10. entry --------------------------------------------------------------------------
    def free_rows(self, total: int) -> np.ndarray:
        F = self.firms
        never = [r for r in range(F.n_rows) if self.firm_at[r] is None and F.exit_reason[r] == 0]
        exited = [r for r in range(F.n_rows)
                  if self.firm_at[r] is None and F.exit_reason[r] != 0 and F.court[r] == 0]  # estates keep theirs
        return np.array((exited + never)[:total], dtype=np.int64)

    def _entry(self, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        out = super()._entry(demand)
        self._sync_agents()  # the entrants become agents
        return out

    # -- 11. records ------------------------------------------------------------------------
    def firm_aggregates(self) -> dict:
        F, W = self.firms, self.weight
        st = self._stocks
        st[:, :] = 0.0
        loans_cls, interest_cls = [0.0, 0.0], [0.0, 0.0]
        out, pq = np.zeros(N_S), np.zeros(N_S)
        for f in self.live_firms():
            s = f.sector
            q = f.output
            for col, v in (
                (acc.S_OUTPUT, q),
                (acc.S_CAPACITY, f.capacity),
                (acc.S_N_FIRMS, 1.0),
                (acc.S_PROD_W, f.productivity * f.capacity),
                (acc.S_EI_W, f.energy_intensity * q),
                (acc.S_LOANS, f.loans),
                (acc.S_NET_WORTH, f.net_worth),
                (acc.S_PIPELINE, f.pipeline),
                (acc.S_PRICE_W, f.price * q),
                (acc.S_MARKUP_W, f.markup * q),
                (acc.S_LOSS_MAKING, 1.0 if f.profit_year < 0.0 else 0.0),
            ):
                st[s, col] += v
            f.sme = f.capacity < self.sme_threshold  # size class from capacity (revenue threshold)
            k = 0 if f.sme else 1
            w = W[s]
            loans_cls[k] += w * f.loans
            interest_cls[k] += w * f.loans * f.loan_rate
            out[s] += q
            pq[s] += f.price * q
        self._cls_loans[:] = loans_cls
        self._cls_interest[:] = interest_cls
        new, market, market_interest, denied = np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2)
        for row in range(F.n_rows):
            k = 0 if F.sme[row] else 1
            w = W[F.sector[row]]
            new[k] += (self.scratch.granted[row] + self.credit.renewed.get(row, 0.0)) * w
            market[k] += self.scratch.granted[row] * w
            market_interest[k] += self.scratch.granted[row] * w * self.credit.new_rate.get(row, 0.0)
            if self.scratch.denied[row]:
                denied[k] += w
        guaranteed = 0.0
        for f in self.live_firms():
            guaranteed += W[f.sector] * f.guaranteed
        return {
            "credit_new": new,
            "credit_market": market,
            "credit_market_interest": market_interest,
            "credit_denied": denied,
            "credit_guaranteed": guaranteed,
            "output": out,
            "price_output": pq,
        }
