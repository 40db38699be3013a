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

import bisect
from types import SimpleNamespace

import numpy as np

from ..kernels import accounting as acc
from ..kernels import credit_allocation as ca
from ..kernels.credit import score_params
from ..kernels.exposure import MAX_LENDERS, Parts
from ..model import N_S, IndustrialEconomy
from ..state import EXIT_BANKRUPTCY, EXIT_FORCED
from .agents import BankAgent, FirmAgent
from .banking import ReferenceBanking
from .tables import EXIT_COLUMNS, INCOME_COLUMNS, INCOME_SUMMED, INVEST_COLUMNS, new_tables, to_array


class ReferenceEconomy(IndustrialEconomy):
    """The plain Mesa way: a FirmAgent per firm, a BankAgent per bank, rules as methods."""

    engine = "reference"
    banking_class = ReferenceBanking

    # -- agents -----------------------------------------------------------------------------
    def _setup_firms(self) -> None:
        super()._setup_firms()
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

    # -- 3-6. the month's production and accounts, phase by phase ----------------------------
    def produce_and_book(self, demand_per_firm, input_fill, energy_cost, material_cost, anchor, tau,
                         vat_inputs_per_q):
        self.market(demand_per_firm, input_fill)
        wage_index = self._wage_index()
        labour_cost = self.labour * wage_index
        va_cost = labour_cost + self.services
        self.costs_and_prices(va_cost, labour_cost, energy_cost, material_cost, anchor)
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
        firms = self.live_firms()
        e_bar, tot = [0.0] * N_S, [0.0] * N_S
        e = {}
        for f in firms:
            s = f.sector
            e[f.row] = f.competitiveness(P[s], b.share_price_sensitivity, b.share_backlog_sensitivity)
            e_bar[s] += f.share * e[f.row]
            tot[s] += f.share
        scale = [1.0] * N_S  # shares sum to one again (entrants since last month took share)
        for s in range(N_S):
            if tot[s] > 0:
                e_bar[s] /= tot[s]
                scale[s] = 1.0 / tot[s]
        short, spare = [0.0] * N_S, [0.0] * N_S
        for f in firms:
            # with 0 <= chi <= 1 the new shares of a sector add up to one (no need to divide again)
            f.share = f.share * scale[f.sector]
            f.update_share(e[f.row], e_bar[f.sector], b.replicator_speed)
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

    # -- 7. credit --------------------------------------------------------------------------
    def plan_investment(self, u_review, va_cost, energy_cost, cap_per_capacity, annuity) -> None:
        b, p = self.b, self.policy
        e = SimpleNamespace(
            alpha=b.expectation_speed,
            util_normal=self.util_normal,
            dep=self.dep_month,
            growth=self.growth,
            lag=self.lag,
            adjust=b.investment_adjustment,
            max_expansion=b.max_expansion,
            p_review=b.upgrade_review_prob,
            frontier_a=self.frontier_a,
            frontier_ei=self.frontier_ei,
            va_cost=va_cost,
            energy_cost=energy_cost,
            annuity=annuity,
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

    def funding_need(self, factor, cap_per_capacity) -> None:
        b, p = self.b, self.policy
        for f in self.live_firms():
            s = f.sector
            lag = max(int(self.lag[s]), 1)
            spend = (
                f.pipeline_cost / lag
                + f.plan_expansion * factor[s] * cap_per_capacity[s] / lag
                + f.plan_upgrade * (1 - p.upgrade_subsidy[s])
            )
            f.need = max(spend + b.cash_buffer_months * f.revenue - f.cash, 0.0)
            # firms keep their leverage: at their yearly credit-line review (the month whose number
            # modulo 12 is their firm_id's) they borrow part of the gap to the target debt-to-assets
            gap = b.debt_to_assets * (f.cash + f.capital + f.other_assets) - f.loans - f.other_liab
            if gap > 0.0 and f.firm_id % 12 == self.t % 12:
                f.need += self.leverage_review_share() * gap

    def credit_market(self) -> float:
        """Loans amortise; the own bank rolls over the instalment of sound firms; applicants, best
        score first, ask their bank and a few banks drawn by size and take the cheapest quote."""
        F, b, p, c = self.firms, self.b, self.policy, self.sc.banking
        bk, W = self.banking, self.weight
        banks = [bk.bank(j) for j in range(bk.banks.n_rows)]
        self._scores()
        for arr in (
            self.scratch.repaid,
            self.scratch.rolled,
            self.scratch.request,
            self.scratch.limit,
            self.scratch.granted,
            self.scratch.fees,
            self.scratch.new_rate,
        ):
            arr[:] = 0.0
        firms = self.live_firms()
        change = [0.0] * len(banks)  # each bank's book changes by its firms' repayments and renewals
        for f in firms:
            due = f.repay(float(b.loan_maturity))
            self.scratch.repaid[f.row] = due
            lenders = bk.lenders(f)  # each lender is repaid, and renews, its share of the instalment
            for bank, share in lenders:
                change[bank.row] -= share * (W[f.sector] * due)
            f.update_net_worth()
            # relationship lending: the own banks renew the instalment of sound firms
            if due <= 0 or f.net_worth <= 0 or f.pd > c.pd_rollover_max:
                continue
            f.loans = f.loans + due
            f.cash = f.cash + due
            for bank, share in lenders:
                change[bank.row] += share * (W[f.sector] * due)
            self.scratch.rolled[f.row] = due
        for bank in banks:
            bank.lend(change[bank.row])
        applicants = []
        for f in firms:
            request = f.need + (self.scratch.repaid[f.row] - self.scratch.rolled[f.row])
            self.scratch.request[f.row] = request
            assets = f.cash + f.capital + f.other_assets
            if c.market == "passive":
                limit = b.max_debt_to_assets * assets - f.loans
            else:
                collateral = (1 - c.collateral_haircut_capital) * f.capital + (1 - p.pledge_haircut) * (
                    p.receivables_pledge * f.other_assets + p.ip_pledge * f.capital
                )
                unsecured = (
                    (c.unsecured_sme if f.sme and not f.soe else c.unsecured_large)
                    + (c.soe_unsecured * p.soe_implicit_guarantee if f.soe else 0.0)
                ) * assets
                limit = collateral + unsecured - f.loans
            self.scratch.limit[f.row] = 0.0 if f.net_worth <= 0 else max(limit, 0.0)
            if request > 0:
                applicants.append(f)
        applicants.sort(key=lambda f: f.pd)  # stable: ties stay in row order
        u = self._draws["credit"].draw()  # the same uniforms as the engine's (stream "credit")
        n_search = u.shape[1]
        cdf = list(bk.size_cdf)
        outstanding = 0.0
        for f in firms:
            outstanding += W[f.sector] * f.guaranteed
        terms = ca.lending_terms(bk)  # the engine's names: per-bank terms (room used up) and parameters
        params = ca.allocation_params(p, c, outstanding, bk.bank_weight)
        fund_room = params.fund_room
        self._new_parts = ([], [], [], [])  # rows lent to; their participations now (row, bank, share)
        for f in applicants:
            cands = [f.bank] + [
                min(bisect.bisect_right(cdf, u[f.row, j]), len(banks) - 1) for j in range(n_search)
            ]
            fund_room = self._serve(f, cands, banks, terms, params, fund_room)
        touched, prow, pbank, pshare = self._new_parts
        bk.replace_parts(np.array(touched, dtype=np.int64),
                         Parts(np.array(prow, dtype=np.int64), np.array(pbank, dtype=np.int64), np.array(pshare)))
        fees = flow = 0.0
        for row in range(F.n_rows):
            w = W[F.sector[row]]
            fees += self.scratch.fees[row] * w
            S = self.scratch
            flow += w * (S.granted[row] + S.rolled[row] - S.repaid[row] - S.fees[row])
        self._credit_month = {"fees": fees}
        np.logical_and(F.alive & (self.scratch.request > 0), self.scratch.granted <= 0, out=self.scratch.denied)
        for f in firms:
            f.update_net_worth()
        return flow, self._cash_total(), bk.loan_gap()

    def _serve(self, f: FirmAgent, cands: list[int], banks: list[BankAgent], terms, params,
               fund_room: float) -> float:
        """One applicant: quotes from the candidate banks that accept its risk and have room; it
        borrows from the cheapest as much as that bank's room and large-exposure limit allow, the rest
        from the next cheapest (at most MAX_LENDERS lenders); a new cheapest bank takes over the loan
        if the firm has no other lender and the bank's room and limit hold its stock. `terms` and
        `params` are the engine's (credit_allocation.LendingTerms, AllocationParams); `terms.room` is
        used up. Returns the fund's remaining room."""
        req = self.scratch.request[f.row]
        if self.scratch.limit[f.row] < req:
            req = self.scratch.limit[f.row]
        if req <= 0:
            return fund_room
        w = self.weight[f.sector]
        lgd = params.loss_given_default
        rw_own = params.risk_weight_sme if f.sme else params.risk_weight_large
        fee = params.fee_small if req <= params.small_loan else params.fee_large
        g = 0.0
        if f.sme and not f.soe and params.coverage > 0 and fund_room > 0:
            if f.pd * lgd * params.coverage > fee:
                g = params.coverage
        pd_net = f.pd * (1.0 - g)
        quotes = []  # (rate, bank), in candidate order
        for b in cands:
            if b < 0 or not banks[b].alive or terms.room[b] <= 0 or b in [q[1] for q in quotes]:
                continue
            if pd_net > (terms.pdmax_sme[b] if f.sme else terms.pdmax_large[b]):
                continue
            rate = params.policy_rate + terms.margin[b] + pd_net * lgd
            if f.sme:
                rate += params.sme_premium * (1.0 - terms.discount[b])
            if b != f.bank:
                rate += params.switching_cost
            quotes.append((rate, b))
        if not quotes:
            return fund_room
        mine = f.bank
        stock = f.loans
        # the firm's lenders and what each holds per real firm (the lead first)
        held = [[bank.row, share * stock] for bank, share in self.banking.lenders(f)]
        rw = rw_own * (1.0 - g) + params.risk_weight_guaranteed * g
        spread = max(w, params.bank_weight)
        rem, amt, paid, moved = req, 0.0, 0.0, False
        for step, (rate, b) in enumerate(sorted(quotes, key=lambda q: q[0])):  # stable: ties keep candidate order
            if rem <= 0.0:
                break
            at = next((j for j, h in enumerate(held) if h[0] == b), -1)
            cap = terms.exposure_unit[b] * spread / w  # one real firm's loan this bank may hold
            if at < 0:
                moved_stock = rw_own * w * stock
                if step == 0 and len(held) == 1 and stock < cap and moved_stock < terms.room[b]:
                    terms.room[b] -= moved_stock  # a move: the new bank takes over the loan
                    terms.room[held[0][0]] += moved_stock
                    banks[held[0][0]].lend(-(w * stock))
                    banks[b].lend(w * stock)
                    held[0][0] = b
                    at, moved = 0, True
                elif len(held) < MAX_LENDERS:
                    held.append([b, 0.0])
                    at = len(held) - 1
                else:
                    continue
            x = min(cap - held[at][1], rem)
            if rw > 0 and x * rw * w > terms.room[b]:
                x = terms.room[b] / (rw * w)
            if x <= 0.0:
                continue
            banks[b].lend(w * x)
            terms.room[b] -= rw * w * x
            held[at][1] += x
            rem -= x
            amt += x
            paid += (rate - (params.switching_cost if b != mine else 0.0)) * x
        if amt <= 0.0 and not moved:
            return fund_room
        main = max(range(len(held)), key=lambda j: (held[j][1], -j))  # the largest lender leads (first among equals)
        held[0], held[main] = held[main], held[0]
        cover = amt * g
        if cover * w > fund_room:
            cover = fund_room / w
        fund_room -= cover * w
        new_rate = paid / amt if amt > 0.0 else 0.0
        f.bank = held[0][0]
        total = f.loans + amt
        if amt > 0.0:
            f.loan_rate = (f.loan_rate * f.loans + new_rate * amt) / total
        f.loans = total
        f.guaranteed = f.guaranteed + cover
        fee_paid = fee * cover
        f.cash = f.cash + (amt - fee_paid)
        self.scratch.granted[f.row] = amt
        self.scratch.fees[f.row] = fee_paid
        self.scratch.new_rate[f.row] = new_rate
        touched, prow, pbank, pshare = self._new_parts
        touched.append(f.row)
        for b, h in held[1:]:
            if h > 0.0:
                prow.append(f.row)
                pbank.append(b)
                pshare.append(h / (stock + amt))
        return fund_room

    # -- 8. investment ----------------------------------------------------------------------
    def execute_investment(self, factor, cap_per_capacity, u_imit) -> float:
        b, p = self.b, self.policy
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
        self._exit_tables = tables = new_tables(EXIT_COLUMNS)
        for f in self.live_firms():
            s = f.sector
            reason = f.exit_reason_now(min_share[s], b.loss_months_exit)
            if reason == 0:
                continue
            t = tables[s]
            if reason == EXIT_BANKRUPTCY:
                t["bankrupt"] += 1
                t["bankrupt_sme" if f.sme else "bankrupt_large"] += 1
            else:
                t["voluntary"] += 1
            f.liquidate(reason, 0.0, b.recovery_rate, bk.lenders(f), self.weight[s], t)
        to_array(tables, EXIT_COLUMNS, self._exits)
        self._sync_agents()
        bk.drop_dead_parts()
        return self._cash_total(), bk.loan_gap()

    def forced_closures(self, order: np.ndarray, frac: np.ndarray) -> None:
        p, b, bk = self.policy, self.b, self.banking
        tables = self._exit_tables
        for k, row in enumerate(order):
            f = self.firm_at[row]
            s = f.sector
            t = tables[s]
            if frac[k] >= 1.0:
                t["forced"] += 1
                f.liquidate(
                    EXIT_FORCED,
                    p.exit_compensation[s] * f.capital,
                    b.recovery_rate,
                    bk.lenders(f),
                    self.weight[s],
                    t,
                )
            else:
                f.close_part(frac[k], p.exit_compensation[s], t)
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
        exited = [r for r in range(F.n_rows) if self.firm_at[r] is None and F.exit_reason[r] != 0]
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
            new[k] += (self.scratch.granted[row] + self.scratch.rolled[row]) * w
            market[k] += self.scratch.granted[row] * w
            market_interest[k] += self.scratch.granted[row] * w * self.scratch.new_rate[row]
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
