"""One mesa Agent per firm and per bank, each rule written out as a plain method.

A `FirmAgent`'s attributes (`cash`, `capacity`, `share`, ...) are the columns of `sim/state.py`
(FIRM_FIELDS, with their units): each attribute reads and writes the firm's own row, so the set-up,
the regulators, entry and the records that the reference shares with the numba engine see the same
state. The methods follow docs/model.md section by section; `ReferenceEconomy` calls them one firm
at a time in row order, so sums add up in the same order as in the kernels.
"""

from __future__ import annotations

import math

import mesa

from ..kernels import exit_entry as xe
from ..state import BANK_FIELDS, EXIT_BANKRUPTCY, EXIT_VOLUNTARY, FIRM_FIELDS


class Column:
    """An agent attribute stored in the agent's row of a structure-of-arrays container."""

    def __init__(self, doc: str = ""):
        self.__doc__ = doc

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        return getattr(agent.rows, self.name).item(agent.row)

    def __set__(self, agent, value) -> None:
        getattr(agent.rows, self.name)[agent.row] = value


class FirmAgent(mesa.Agent):
    """A firm. Its state is one row of `model.firms`; see FIRM_FIELDS for every attribute."""

    def __init__(self, model, row: int):
        super().__init__(model)
        self.rows = model.firms
        self.row = int(row)

    # -- 3. lumpy shocks, then market shares -------------------------------------------------
    def shock(self, u: float, k) -> None:
        """One uniform u: an order jump with probability p_o (the share moves with the order shock,
        x' = rho x + Laplace jump), else a new cost wedge with probability p_c (kernels.shocks).
        k: shocks.ShockParams."""
        x = self.order_shock
        x_new = k.order_shock_persistence * x
        if u < k.order_jump_prob:
            x_new += laplace(u / k.order_jump_prob, k.order_jump_scale)
        elif u < k.order_jump_prob + k.cost_shock_prob:
            self.cost_wedge = laplace((u - k.order_jump_prob) / k.cost_shock_prob, k.cost_wedge_scale)
        if x_new != x:
            self.share = self.share * math.exp(x_new - x)
            self.order_shock = x_new

    def competitiveness(self, price_index: float, w_price: float, w_backlog: float) -> float:
        """E = exp(-w_p ln(p / P_s) - w_l l): a lower relative price and fewer unfilled orders win."""
        return math.exp(-w_price * math.log(self.price / price_index) - w_backlog * self.unfilled)

    def customer_pull(self, e: float) -> float:
        """b E e^x, the firm's term of its sector's sum in the partial adjustment of shares (`update_share`):
        its customer base times its competitiveness and the order shock's factor. A new firm's customer
        base is set here, at its first market step, to its share over E e^x."""
        g = e * math.exp(self.order_shock)
        if self.customer_base <= 0.0:
            self.customer_base = self.share / g
        return self.customer_base * g

    def update_share(self, e: float, e_bar: float, chi: float, lam: float = 0.0, pull_total: float = 0.0) -> None:
        """Replicator equation f <- f (1 + chi (E / E_bar - 1)); with 0 <= chi <= 1 it stays >= 0. Then
        the partial adjustment toward the customer-base share, f <- (1 - lambda) f + lambda b E e^x /
        sum_j b_j E_j e^x_j (behaviour.share_level_adjustment; the sum of `customer_pull` over the
        sector, `pull_total`)."""
        self.share_prev = self.share
        f = self.share
        if e_bar > 0:
            f = f * (1.0 + chi * (e / e_bar - 1.0))
        if lam > 0.0 and pull_total > 0.0:
            f = (1.0 - lam) * f + lam * self.customer_base * e * math.exp(self.order_shock) / pull_total
        self.share = f

    # -- 4. orders and production -----------------------------------------------------------
    def take_orders(self, demand_per_firm: float) -> tuple[float, float]:
        """Orders = share x sector demand; output = min(orders, capacity). Returns (unfilled
        orders, spare capacity)."""
        self.orders = self.share * demand_per_firm
        q = self.orders if self.orders < self.capacity else self.capacity
        self.output = q
        return self.orders - q, self.capacity - q

    def fill_spillover(self, short: float, spare: float, input_fill: float) -> None:
        """Orders other firms could not fill arrive pro rata to spare capacity, once; a sector short
        of a critical input produces the share `input_fill` of that."""
        free = self.capacity - self.output
        if short > 0 and spare > 0 and free > 0:
            frac = short / spare
            if frac > 1.0:
                frac = 1.0
            self.output = self.output + free * frac
        self.output = self.output * input_fill
        self.unfilled = 1.0 - self.output / self.orders if self.orders > self.output else 0.0
        self.revenue = self.price * self.output

    # -- 5. costs and prices ----------------------------------------------------------------
    def overtime_output(self, normal_utilisation: float) -> float:
        """Output beyond normal utilisation: made with labour paid the overtime premium."""
        return max(self.output - normal_utilisation * self.capacity, 0.0)

    def compute_unit_cost(self, va_cost: float, labour_cost: float, normal_utilisation: float, premium: float,
                          energy_cost: float, material_cost: float) -> None:
        extra = self.overtime_output(normal_utilisation)
        over = premium * labour_cost * extra / self.output if extra > 0.0 else 0.0
        self.unit_cost = (va_cost + over) / self.productivity + energy_cost * self.energy_intensity + material_cost

    def set_price(self, anchor: float, vat_blend: float, response: float, anchor_speed: float) -> None:
        """Markup follows share growth (clipped to +-20%) and is pulled to the sector norm;
        price = (1 + markup) x unit cost x VAT margin factor."""
        g = 0.0
        if self.share_prev > 0:
            g = math.log(self.share / self.share_prev) if self.share > 0 else -0.2
            if g > 0.2:
                g = 0.2
            elif g < -0.2:
                g = -0.2
        mu = self.markup * (1.0 + response * g)
        mu = mu + anchor_speed * (anchor - mu)
        if mu < 0.0:
            mu = 0.0
        elif mu > 2.0:
            mu = 2.0
        self.markup = mu
        self.price = (1.0 + mu) * self.unit_cost * vat_blend

    # -- 6. income --------------------------------------------------------------------------
    def earn(self, s: int, e, deposit_rate: float) -> dict:
        """The month's income statement; updates deposits, capital, profit and the loss counter.
        `e` holds the sector-level prices and tax rates. Returns the items the sector table sums
        (value added, profits and cash flow follow from them: `tables.INCOME_SUMMED`)."""
        q = self.output
        r = self.revenue
        q_per_a = q / self.productivity  # output in units of labour-augmenting productivity
        extra = self.overtime_output(e.normal_utilisation[s])
        wages = (q + e.overtime_premium * extra) / self.productivity * e.labour_cost[s]
        serv = q_per_a * e.services[s]
        en = q * e.energy_cost[s] * self.energy_intensity
        wedge = q * self.cost_wedge  # the firm's own cost beyond the sector's, bought from the rest of the economy
        mat = q * e.material_cost[s] + wedge
        interest = self.loans * self.loan_rate / 12.0
        cash = self.cash
        dint = cash * deposit_rate / 12.0 if cash > 0 else 0.0
        dep = self.capital * e.dep_month[s]
        pre = r - wages - serv - en - mat - interest + dint - dep
        vat = e.vat_rate[s] * r - e.vat_rate_inputs * (serv + en + wedge) - q * e.vat_inputs_per_q[s]
        tax = 0.0
        if pre > 0:
            if self.sme and pre <= e.small_profit_month:
                low = pre if pre < e.small_low_month else e.small_low_month
                tax = e.cit_rate_small * low + e.cit_rate_small_upper * (pre - low)
            else:
                tax = e.cit_rate * pre
        net = pre - tax
        div = e.payout * net if net > 0 else 0.0
        flow = r - wages - serv - en - mat - interest + dint - tax - div
        self.cash = cash + flow
        self.capital = self.capital - dep
        self.profit = net
        self.profit_year = self.profit_year * (11.0 / 12.0) + net  # about the last twelve months
        self.loss_months = self.loss_months + 1 if net < 0 else 0
        return {
            "revenue": r,
            "wages": wages,
            "services": serv,
            "energy": en,
            "materials": mat,
            "interest": interest,
            "depreciation": dep,
            "vat": vat,
            "cit": tax,
            "dividends": div,
            "output": q,
            "capacity": self.capacity,
            "deposit_interest": dint,
            "workers": q_per_a * e.workers_per_yuan[s],  # employment and energy use
            "energy_use": q * e.mwh_per_yuan[s] * self.energy_intensity,
        }

    def equity(self) -> float:
        """Net worth now (the stored `net_worth` is the investment step's: its array is `pd`'s before)."""
        return self.cash + self.capital + self.other_assets - self.loans - self.other_liab

    def update_net_worth(self) -> None:
        self.net_worth = self.equity()

    # -- 7. credit --------------------------------------------------------------------------
    def score(self, k) -> None:
        """Annual default probability banks assign: logistic in leverage, persistent losses, size
        and margin; state ownership cuts it by the implicit guarantee. k: credit.ScoreParams."""
        assets = self.cash + self.capital + self.other_assets
        lev = self.loans / assets if assets > 0 else 1.0
        m = self.profit / self.revenue if self.revenue > 0 else -0.1
        x = (
            k.pd_intercept
            + k.pd_leverage * lev
            + (k.pd_loss if self.loss_months >= 3 else 0.0)
            + (k.pd_sme if self.sme else 0.0)
            - (k.pd_margin * m)
        )
        p = 1.0 / (1.0 + math.exp(-x))
        if self.soe:
            p *= 1.0 - k.soe_implicit_guarantee
        self.pd = p

    def repay(self, maturity: float) -> float:
        """Amortisation: 1/maturity of the loan is repaid from deposits. Returns the instalment."""
        if self.loans <= 0:
            return 0.0
        due = self.loans / maturity
        self.loans = self.loans - due
        self.guaranteed = self.guaranteed - self.guaranteed / maturity
        self.cash = self.cash - due
        return due

    # -- 8. investment ----------------------------------------------------------------------
    def plan(self, s: int, e, u_review: float) -> float:
        """Adaptive expectations, the stock-management rule with time to build, and an upgrade to
        the frontier when its discounted saving beats its cost net of subsidy. Returns the
        planned expansion."""
        self.plan_expansion = 0.0
        self.plan_upgrade = 0.0
        self.expected = self.expected + e.alpha * (self.orders - self.expected)
        expected, capacity = self.expected, self.capacity
        target = expected / e.util_normal[s]
        flow = e.dep[s] + e.growth[s] / 12.0
        target_pipe = flow * e.lag[s] * target
        x = (
            e.dep[s] * capacity
            + e.growth[s] / 12.0 * target
            + e.adjust * (target - capacity)
            + e.adjust * (target_pipe - self.pipeline)
        )
        if x > e.max_expansion * capacity:
            x = e.max_expansion * capacity
        planned = 0.0
        if x > 0:
            self.plan_expansion = x
            planned = x
        if self.upgrade_left == 0 and u_review < e.p_review:
            a, ei = self.productivity, self.energy_intensity
            a_star, e_star = e.frontier_a[s], e.frontier_ei[s]
            gain = 0.0
            if a_star > a:
                gain += math.log(a_star / a)
            if e_star < ei:
                gain += math.log(ei / e_star)
            if gain > 0:
                a_new = a_star if a_star > a else a
                e_new = e_star if e_star < ei else ei
                c_old = e.va_cost[s] / a + e.energy_cost[s] * ei
                c_new = e.va_cost[s] / a_new + e.energy_cost[s] * e_new
                q = expected if expected < capacity else capacity
                value = q * (c_old - c_new) * e.annuity
                cost = e.cap_per_capacity[s] * capacity * (e.cost_fixed + e.cost_per_gap * gain)
                if value > cost * (1.0 - e.subsidy[s]):
                    self.plan_upgrade = cost
        return planned

    def invest(self, s: int, e, u_imitate: float, t: dict) -> None:
        """Construction completes at 1/lag a month; upgrades count down; new projects and
        upgrades start within funds; laggards imitate; capacity depreciates. `t` is the sector's
        row of the investment table."""
        self.age = self.age + 1
        lag = e.lag[s]
        inv = 0.0
        if self.pipeline > 0:
            frac = 1.0 / lag if lag > 1 else 1.0
            done = self.pipeline * frac
            pay = self.pipeline_cost * frac
            self.cash = self.cash - pay
            self.capital = self.capital + pay
            self.pipeline_cost = self.pipeline_cost - pay
            inv += pay
            self.capacity = self.capacity + done
            self.pipeline = self.pipeline - done
            t["added"] += done
        if self.upgrade_left > 0:
            self.upgrade_left = self.upgrade_left - 1
            if self.upgrade_left == 0:
                if self.upgrade_productivity > self.productivity:
                    self.productivity = self.upgrade_productivity
                if self.upgrade_energy < self.energy_intensity:
                    self.energy_intensity = self.upgrade_energy
                t["upgrades_done"] += 1.0
        x = self.plan_expansion * e.factor[s]
        capex = x * e.cap_per_capacity[s]
        first = capex / lag if lag > 0 else capex
        up = self.plan_upgrade
        own_up = up * (1.0 - e.subsidy[s])
        avail = self.cash if self.cash > 0 else 0.0
        if first + own_up > avail:
            up = 0.0
            own_up = 0.0
            if first > avail:
                scale = avail / first if first > 0 else 0.0
                x *= scale
                capex *= scale
        if x > 0:
            if lag == 0:
                self.capacity = self.capacity + x
                t["added"] += x
                self.cash = self.cash - capex
                self.capital = self.capital + capex
                inv += capex
            else:
                self.pipeline = self.pipeline + x
                self.pipeline_cost = self.pipeline_cost + capex
            t["granted"] += x
        if up > 0:
            self.cash = self.cash - own_up
            self.capital = self.capital + up
            inv += up
            t["subsidy"] += up - own_up
            t["upgrades"] += 1.0
            self.upgrade_productivity = e.frontier_a[s]
            self.upgrade_energy = e.frontier_ei[s]
            if e.upgrade_lag == 0:
                if e.frontier_a[s] > self.productivity:
                    self.productivity = e.frontier_a[s]
                if e.frontier_ei[s] < self.energy_intensity:
                    self.energy_intensity = e.frontier_ei[s]
                t["upgrades_done"] += 1.0
            else:
                self.upgrade_left = e.upgrade_lag
        t["investment"] += inv
        t["cash"] -= inv - (up - own_up)
        if u_imitate < e.p_imitate:
            if e.frontier_a[s] > self.productivity:
                self.productivity = self.productivity * math.exp(
                    e.imitation_speed * math.log(e.frontier_a[s] / self.productivity)
                )
            if e.frontier_ei[s] < self.energy_intensity:
                self.energy_intensity = self.energy_intensity * math.exp(
                    -e.imitation_speed * math.log(self.energy_intensity / e.frontier_ei[s])
                )
        d = self.capacity * e.dep[s]
        self.capacity = self.capacity - d
        t["retired_dep"] += d

    # -- 9. exit ----------------------------------------------------------------------------
    def exit_reason_now(self, min_share: float, loss_months_exit: int, k) -> int:
        """Default when equity or deposits are negative; exit after sustained losses or with a
        vanishing share: voluntary if the liquidation value covers the loans, else a default."""
        if self.net_worth < 0 or self.cash < 0:
            return EXIT_BANKRUPTCY
        small = self.share < min_share and (not k.min_share_needs_loss or self.profit_year < 0)
        if self.loss_months >= loss_months_exit or small:
            return EXIT_VOLUNTARY if self.liquidation_value(self.cash, k) >= self.loans else EXIT_BANKRUPTCY
        return 0

    def weak_months_next(self) -> int:
        """Consecutive months with loans and a loss after interest over about the last year (interest
        coverage below one), this month included (capped at the int16 ceiling)."""
        if self.profit_year < 0 and self.loans > 0:
            return self.weak_months + 1 if self.weak_months < xe.WEAK_MONTHS_MAX else self.weak_months
        return 0

    def zombie(self) -> bool:
        """The OECD zombie: at least ten years old, interest coverage below one for three years."""
        return self.age >= xe.ZOMBIE_AGE_MONTHS and self.weak_months >= xe.ZOMBIE_WEAK_MONTHS

    def rescue(self, u: float, k, lenders: list, weight: float, t: dict) -> bool:
        """A firm that would default is kept: a state-owned firm by its local government (a transfer
        that brings its deposits and equity back to zero, within soft_budget_limit of its annual
        sales), else by its lead bank with the rollover probability (a loan that brings its deposits
        back to zero, each lender its share). Returns whether it was kept."""
        if not (k.soft_budget or k.evergreening):
            return False
        c, nw = self.cash, self.net_worth
        short = -c if c < 0 else 0.0
        need = -nw if -nw > short else short
        if k.soft_budget and self.soe and need <= k.soft_budget_limit * 12.0 * self.revenue:
            self.cash = c + need
            self.net_worth = nw + need
            t["support"] += need
            t["supported"] += 1
            t["cash"] += need
            return True
        lead = lenders[0][0]
        if not k.evergreening or self.loans <= 0 or not lead.alive:
            return False
        p = k.evergreen_prob * (k.evergreen_soe_factor if self.soe else 1.0)
        buf = k.capital_buffer if k.capital_buffer > 0 else 1e-12
        thin = min(max((k.min_capital_ratio + buf - lead.capital_ratio) / buf, 0.0), 1.0)
        p = min(p * (1.0 + k.evergreen_thin_capital * thin), 1.0)
        if u >= p:
            return False
        book_loans(lenders, weight, -short, 0.0)
        self.loans = self.loans + short
        self.cash = c + short
        t["evergreen"] += short
        t["evergreened"] += 1
        t["cash"] += short
        return True

    def liquidation_value(self, cash: float, k) -> float:
        """Deposits (if positive), receivables and inventories and fixed capital at their recovery
        rates (k: kernels.exit_entry.ExitParams)."""
        return ((cash if cash > 0 else 0.0) + k.other_assets_recovery * self.other_assets
                + k.recovery_rate * self.capital)

    def close(self, reason: int, compensation: float, k, lenders: list, weight: float, t: dict) -> None:
        """A solvent exit: plant, receivables and inventories sold at their recovery rates, the loans
        repaid in full (each lender its share; `lenders`: (BankAgent, share), the lead first), then
        the trade creditors, then the owners."""
        c = self.cash + compensation
        overdraft = -c if c < 0 else 0.0
        scrap = k.other_assets_recovery * self.other_assets + k.recovery_rate * self.capital
        liquid = (c if c > 0 else 0.0) + scrap
        repaid = self.loans
        book_loans(lenders, weight, repaid, 0.0)
        if k.book_overdrafts:  # the lead, where its deposits were, bears a closed firm's negative deposits
            lenders[0][0].book_exit(0.0, weight * overdraft)
        pay_out(self, liquid - repaid, t)
        t["scrap"] += scrap
        t["overdraft"] += overdraft
        t["loans_repaid"] += repaid
        t["compensation"] += compensation
        t["cash"] -= self.cash
        self.retire(reason, t)
        for name in ("loans", "guaranteed", "cash", "capital", "other_assets", "other_liab"):
            setattr(self, name, 0.0)

    def default(self, reason: int, compensation: float, k, lenders: list, weight: float, t: dict) -> None:
        """Default: the firm stops; its deposits (and compensation) are set off against its loans, what
        exceeds them goes to trade creditors and owners, negative deposits are the lead's loss (closed
        economy); the rest of the loans stays on the books while the estate is in court (court = 1)."""
        c = self.cash + compensation
        overdraft = -c if c < 0 else 0.0
        pos = c if c > 0 else 0.0
        loans = self.loans
        setoff = pos if pos < loans else loans
        if loans > 0:
            self.guaranteed = self.guaranteed * ((loans - setoff) / loans)
        book_loans(lenders, weight, setoff, 0.0)
        if k.book_overdrafts:
            lenders[0][0].book_exit(0.0, weight * overdraft)
        pay_out(self, pos - setoff, t)
        t["overdraft"] += overdraft
        t["loans_repaid"] += setoff
        t["compensation"] += compensation
        t["cash"] -= self.cash
        t["default_sme" if self.sme else "default_large"] += 1
        self.retire(reason, t)
        self.loans = loans - setoff
        self.cash = 0.0
        self.court = 1

    def retire(self, reason: int, t: dict) -> None:
        t["retired"] += self.capacity + self.pipeline
        self.alive = False
        self.exit_reason = reason
        for name in ("capacity", "pipeline", "pipeline_cost", "share"):
            setattr(self, name, 0.0)

    def close_part(self, fraction: float, comp_rate: float, t: dict) -> None:
        """Forced closure of a fraction of the firm's capacity, with the same share of capital."""
        comp = comp_rate * self.capital * fraction
        self.cash = self.cash + comp
        t["cash"] += comp
        t["compensation"] += comp
        t["retired"] += self.capacity * fraction
        self.capacity = self.capacity - self.capacity * fraction
        self.capital = self.capital - self.capital * fraction


class Estate:
    """A defaulted firm's estate in the court procedure: its row (no longer alive, `court` > 0) with
    what is left of its loans, its plant, receivables and inventories and its trade credit; not an
    agent (it takes no decisions), its attributes the row's columns as a FirmAgent's."""

    def __init__(self, model, row: int):
        self.model = model
        self.rows = model.firms
        self.row = int(row)

    def settle(self, k, lenders: list, weight: float, t: dict) -> None:
        """The procedure ends: the assets are sold at their recovery rates, the costs paid, the banks
        recover the rest up to their claim, the fund pays its share of the loss, the banks write off
        the rest; any surplus to trade creditors, then owners."""
        value = k.other_assets_recovery * self.other_assets + k.recovery_rate * self.capital
        costs = k.court_cost * value
        net = value - costs
        claim = self.loans
        repaid = net if net < claim else claim
        loss = claim - repaid
        gshare = self.guaranteed / claim if claim > 0 else 0.0
        if gshare > 1.0:
            gshare = 1.0
        payout = loss * gshare
        book_loans(lenders, weight, repaid + payout, loss - payout)
        pay_out(self, net - repaid, t)
        t["scrap"] += value
        t["court_costs"] += costs
        t["loans_repaid"] += repaid
        t["write_off"] += loss - payout
        t["fund_payout"] += payout
        t["settled"] += 1
        t["claims_settled"] += claim
        self.court = 0
        for name in ("loans", "guaranteed", "capital", "other_assets", "other_liab"):
            setattr(self, name, 0.0)


def book_loans(lenders: list, weight: float, repaid: float, write_off: float) -> None:
    """Each lender (BankAgent, share; the lead first) takes its share: `repaid` and `write_off` (per
    real firm) leave its books, the write-off goes to its month's write-offs; participants first."""
    for bank, share in lenders[1:]:
        bank.book_exit(share * (weight * (repaid + write_off)), share * (weight * write_off))
    lead, share = lenders[0]
    lead.book_exit(share * (weight * (repaid + write_off)), share * (weight * write_off))


def pay_out(f, amount: float, t: dict) -> None:
    """What is left after the loans: the trade creditors first (up to other_liab), then the owners."""
    owed = f.other_liab
    trade = amount if amount < owed else owed
    f.other_liab = owed - trade
    t["trade_credit"] += trade
    t["residual"] += amount - trade


for _cls in (FirmAgent, Estate):
    for _name, (_dtype, _units, _doc) in FIRM_FIELDS.items():
        _col = Column(f"{_doc} ({_units})")
        _col.__set_name__(_cls, _name)
        setattr(_cls, _name, _col)


class BankAgent(mesa.Agent):
    """A bank. Its state is one row of `model.banking.banks`; see BANK_FIELDS."""

    def __init__(self, model, banks, row: int):
        super().__init__(model)
        self.rows = banks
        self.row = int(row)

    def book_exit(self, loans: float, write_off: float) -> None:
        """A borrower left: its loan leaves the books, the unrecovered part is written off."""
        self.loans = self.loans - loans
        self.model.banking.writeoff[self.row] += write_off

    def lend(self, amount: float) -> None:
        self.loans = self.loans + amount


for _name, (_dtype, _units, _doc) in BANK_FIELDS.items():
    _col = Column(f"{_doc} ({_units})")
    _col.__set_name__(BankAgent, _name)
    setattr(BankAgent, _name, _col)


def laplace(v: float, scale: float) -> float:
    """The Laplace(0, scale) quantile of the uniform v."""
    v = min(max(v, 1e-16), 1.0 - 1e-16)
    return scale * math.log(2.0 * v) if v < 0.5 else -scale * math.log(2.0 * (1.0 - v))
