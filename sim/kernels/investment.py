"""Investment (MODEL.md step 8): capacity expansion with a build lag, technology upgrades toward a
moving frontier, imitation, and depreciation of capacity."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import prange

from .._numba import chunks, kernel, rows_of
from .elementary import add_chunks, prefetch

# this month's prices of investment by sector (arrays of one value per sector)
PRICE_FIELDS = {
    "capital_per_capacity": (np.float64, "fixed capital per unit of monthly capacity, yuan per yuan/month"),
    "subsidy": (np.float64, "upgrade subsidy, share of the upgrade's cost"),
}
# the scalar parameters of each kernel (the behaviour settings of the same names, and the annuity)
PLAN_FIELDS = {
    "expectation_speed": (float, "adaptive-expectations weight on the latest orders, 1/month"),
    "investment_adjustment": (float, "share of the capacity and pipeline gaps closed a month"),
    "max_expansion": (float, "largest monthly project, share of capacity"),
    "upgrade_review_prob": (float, "monthly probability that a firm reviews an upgrade"),
    "upgrade_cost_fixed": (float, "fixed cost of an upgrade, share of fixed capital"),
    "upgrade_cost_per_gap": (float, "cost of an upgrade per log point closed, share of fixed capital"),
    "annuity": (float, "present value of a yuan a month over the upgrade horizon, months"),
}
EXECUTE_FIELDS = {
    "upgrade_lag": (int, "months an upgrade takes"),
    "imitation_prob": (float, "monthly probability that a firm imitates"),
    "imitation_speed": (float, "share of the log gap to the frontier closed by imitation"),
}
InvestmentPrices = namedtuple("InvestmentPrices", tuple(PRICE_FIELDS))
PlanParams = namedtuple("PlanParams", tuple(PLAN_FIELDS))
ExecuteParams = namedtuple("ExecuteParams", tuple(EXECUTE_FIELDS))


def upgrade_annuity(behaviour) -> float:
    """Present value of a yuan a month over the upgrade horizon at the upgrade discount rate, months
    (the horizon itself at a zero rate)."""
    r, n = behaviour.upgrade_discount_rate / 12.0, behaviour.upgrade_horizon
    return float(n) if r <= 0 else (1 - (1 + r) ** (-n)) / r


def plan_params(behaviour) -> PlanParams:
    annuity = upgrade_annuity(behaviour)
    return PlanParams(*(kind(annuity if name == "annuity" else getattr(behaviour, name))
                        for name, (kind, _) in PLAN_FIELDS.items()))


def execute_params(behaviour) -> ExecuteParams:
    return ExecuteParams(*(kind(getattr(behaviour, name)) for name, (kind, _) in EXECUTE_FIELDS.items()))


@kernel(parallel=True)
def plan_investment(firms, sectors, prices, params, va_cost, energy_cost, u_review, requested):
    """Adaptive expectations of orders and a stock-management rule for capacity (time to build):
    new projects replace depreciation, follow expected growth, and close a share `adjust` of the
    gaps between desired and actual capacity and between desired and actual capacity under
    construction (desired capacity = expected orders over normal utilisation).

    An upgrade (jump to the sector frontier) is planned when its discounted cost saving exceeds its
    cost net of subsidy; firms review upgrades at random times (u_review < p_review).

    firms: FirmState; sectors: SectorTables; prices: InvestmentPrices; params: PlanParams; va_cost,
    energy_cost: this month's unit costs by sector at productivity and energy intensity 1 (yuan per
    yuan of output); u_review: a uniform per row. Writes expected, plan_expansion, plan_upgrade and
    the expansion requested by sector (model-firm units) into `requested`.
    """
    # arrays the loop writes must be bound to locals before it (a write through `firms.x[i]` inside
    # prange is lost); the reads are bound too, so the loop is the one the kernel had before bundles
    expected = firms.expected
    plan_expansion = firms.plan_expansion
    plan_upgrade = firms.plan_upgrade
    alive = firms.alive
    sector = firms.sector
    orders = firms.orders
    capacity = firms.capacity
    pipeline = firms.pipeline
    upgrade_left = firms.upgrade_left
    productivity = firms.productivity
    energy_intensity = firms.energy_intensity
    target_util = sectors.util_normal
    growth = sectors.growth_expected
    dep = sectors.dep_month
    lag = sectors.lag
    frontier_a = sectors.frontier_a
    frontier_ei = sectors.frontier_ei
    capital_per_capacity = prices.capital_per_capacity
    subsidy = prices.subsidy
    alpha = params.expectation_speed
    adjust = params.investment_adjustment
    max_expansion = params.max_expansion
    p_review = params.upgrade_review_prob
    annuity = params.annuity
    cost_fixed = params.upgrade_cost_fixed
    cost_per_gap = params.upgrade_cost_per_gap
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, requested.shape[0]))
    for c in prange(nc):
        t = part[c]
        for i in rows_of(c, cs, n):
            if not alive[i]:
                plan_expansion[i] = 0.0
                plan_upgrade[i] = 0.0
                continue
            s = np.uint64(sector[i])
            k = capacity[i]
            ex = expected[i]
            ex += alpha * (orders[i] - ex)
            expected[i] = ex
            target = ex / target_util[s]
            flow = (dep[s] + growth[s] / 12.0)
            target_pipe = flow * lag[s] * target
            x = dep[s] * k + growth[s] / 12.0 * target + adjust * (target - k) + adjust * (target_pipe - pipeline[i])
            if x > max_expansion * k:
                x = max_expansion * k
            x = x if x > 0 else 0.0  # a select: whether a firm expands varies row to row (2.0 -> 1.7 ms)
            plan_expansion[i] = x
            t[s] += x
            plan_upgrade[i] = 0.0
            # the rows that review an upgrade (2% a month, at random) read their technology, each a
            # cache miss the loop waited for (1.1 of the pass's 2.6 ms on one thread at 1:1): the
            # lines are fetched 64 rows ahead
            prefetch(productivity, i + np.uint64(64))
            prefetch(energy_intensity, i + np.uint64(64))
            if upgrade_left[i] == 0 and u_review[i] < p_review:
                a_i = productivity[i]
                e_i = energy_intensity[i]
                a_star = frontier_a[s]
                e_star = frontier_ei[s]
                gain = 0.0
                if a_star > a_i:
                    gain += np.log(a_star / a_i)
                if e_star < e_i:
                    gain += np.log(e_i / e_star)
                if gain > 0:
                    a_new = a_star if a_star > a_i else a_i
                    e_new = e_star if e_star < e_i else e_i
                    c_old = va_cost[s] / a_i + energy_cost[s] * e_i
                    c_new = va_cost[s] / a_new + energy_cost[s] * e_new
                    q = ex if ex < k else k
                    value = q * (c_old - c_new) * annuity
                    cost = capital_per_capacity[s] * k * (cost_fixed + cost_per_gap * gain)
                    if value > cost * (1.0 - subsidy[s]):
                        plan_upgrade[i] = cost
    requested[:] = 0.0
    add_chunks(requested, part)



# columns of the per-sector investment table
(V_ADDED, V_RETIRED_DEP, V_GRANTED, V_UPGRADES, V_UPGRADES_DONE, V_SUBSIDY, V_INVESTMENT, V_CASH, V_FIRMS,
 V_CAPACITY, V_PIPELINE) = range(11)
N_INVEST = 11  # the last three: live firms, their capacity and pipeline after the step (sums.sector_totals)


@kernel(parallel=True)
def execute_investment(firms, sectors, prices, params, factor, u_imitate, table):
    """Capacity under construction is completed and paid for at the rate 1/lag a month (a mean
    build lag of `lag` months); new projects and upgrades start within the firm's funds (an unaffordable upgrade is
    dropped first, then the expansion is scaled down); laggards imitate; capacity depreciates.

    Fused into the same pass: every row's net worth (deposits + capital + other assets - loans -
    other liabilities) and the firms' deposits after the step (summed as `sums.weighted_sum` sums
    cash, for the stock-flow check), which is returned.

    firms: FirmState; sectors: SectorTables; prices: InvestmentPrices; params: ExecuteParams; factor:
    the share of planned expansion the capacity rules allow, by sector; u_imitate: a uniform per
    row; `table`: the per-sector investment table (columns V_*), written."""
    # arrays the loop writes must be bound to locals before it (a write through `firms.x[i]` inside
    # prange is lost); the reads are bound too, so the loop is the one the kernel had before bundles
    cash = firms.cash
    capital = firms.capital
    capacity = firms.capacity
    pipeline = firms.pipeline
    pipeline_cost = firms.pipeline_cost
    upgrade_left = firms.upgrade_left
    upgrade_productivity = firms.upgrade_productivity
    upgrade_energy = firms.upgrade_energy
    productivity = firms.productivity
    energy_intensity = firms.energy_intensity
    age = firms.age
    net_worth = firms.net_worth
    alive = firms.alive
    sector = firms.sector
    plan_expansion = firms.plan_expansion
    plan_upgrade = firms.plan_upgrade
    other_assets = firms.other_assets
    loans = firms.loans
    other_liab = firms.other_liab
    lag = sectors.lag
    frontier_a = sectors.frontier_a
    frontier_ei = sectors.frontier_ei
    dep_capacity = sectors.dep_month
    weight = sectors.weight
    capital_per_capacity = prices.capital_per_capacity
    subsidy = prices.subsidy
    upgrade_lag = params.upgrade_lag
    p_imitate = params.imitation_prob
    imitation_speed = params.imitation_speed
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, table.shape[0], N_INVEST))
    part_dep = np.zeros((nc, 8))  # padded: chunks write their own cache line
    for c in prange(nc):
        t = part[c]
        deposits = 0.0
        for i in rows_of(c, cs, n):
            if not alive[i]:
                net_worth[i] = cash[i] + capital[i] + other_assets[i] - loans[i] - other_liab[i]
                continue
            s = np.uint64(sector[i])
            age[i] += 1
            cash_i = cash[i]
            capital_i = capital[i]
            cap_i = capacity[i]
            pipe_i = pipeline[i]
            a_i = productivity[i]
            e_i = energy_intensity[i]
            inv = 0.0
            # capacity under construction: a share 1/lag is completed and paid for each month
            # (selects rather than a branch on pipe_i > 0, which is taken or not row by row: 2.8 -> 2.4 ms)
            frac = 1.0 / lag[s] if lag[s] > 1 else 1.0
            building = pipe_i > 0
            done = pipe_i * frac if building else 0.0
            pay = pipeline_cost[i] * frac if building else 0.0
            cash_i -= pay
            capital_i += pay
            pipeline_cost[i] -= pay
            inv += pay
            cap_i += done
            pipe_i -= done
            t[s, V_ADDED] += done
            if upgrade_left[i] > 0:
                left = upgrade_left[i] - 1
                upgrade_left[i] = left
                if left == 0:
                    if upgrade_productivity[i] > a_i:
                        a_i = upgrade_productivity[i]
                    if upgrade_energy[i] < e_i:
                        e_i = upgrade_energy[i]
                    t[s, V_UPGRADES_DONE] += 1.0
            # new projects
            x = plan_expansion[i] * factor[s]
            capex = x * capital_per_capacity[s]
            first = capex / lag[s] if lag[s] > 0 else capex  # first instalment, paid next month
            up = plan_upgrade[i]
            own_up = up * (1.0 - subsidy[s])
            avail = cash_i if cash_i > 0 else 0.0
            if first + own_up > avail:
                up = 0.0
                own_up = 0.0
                if first > avail:
                    scale = avail / first if first > 0 else 0.0
                    x *= scale
                    capex *= scale
            if x > 0:
                if lag[s] == 0:
                    cap_i += x
                    t[s, V_ADDED] += x
                    cash_i -= capex
                    capital_i += capex
                    inv += capex
                else:
                    pipe_i += x
                    pipeline_cost[i] += capex
                t[s, V_GRANTED] += x
            if up > 0:
                cash_i -= own_up
                capital_i += up
                inv += up
                t[s, V_SUBSIDY] += up - own_up
                t[s, V_UPGRADES] += 1.0
                upgrade_productivity[i] = frontier_a[s]
                upgrade_energy[i] = frontier_ei[s]
                if upgrade_lag == 0:
                    if frontier_a[s] > a_i:
                        a_i = frontier_a[s]
                    if frontier_ei[s] < e_i:
                        e_i = frontier_ei[s]
                    t[s, V_UPGRADES_DONE] += 1.0
                else:
                    upgrade_left[i] = upgrade_lag
            t[s, V_INVESTMENT] += inv
            t[s, V_CASH] -= inv - (up - own_up)  # the firm pays all but the subsidy
            # imitation of the frontier by laggards (free, gradual)
            if u_imitate[i] < p_imitate:
                if frontier_a[s] > a_i:
                    a_i *= np.exp(imitation_speed * np.log(frontier_a[s] / a_i))
                if frontier_ei[s] < e_i:
                    e_i *= np.exp(-imitation_speed * np.log(e_i / frontier_ei[s]))
            # physical depreciation
            d = cap_i * dep_capacity[s]
            cap_i -= d
            t[s, V_RETIRED_DEP] += d
            t[s, V_FIRMS] += 1.0
            t[s, V_CAPACITY] += cap_i
            t[s, V_PIPELINE] += pipe_i
            cash[i] = cash_i
            capital[i] = capital_i
            capacity[i] = cap_i
            pipeline[i] = pipe_i
            productivity[i] = a_i
            energy_intensity[i] = e_i
            net_worth[i] = cash_i + capital_i + other_assets[i] - loans[i] - other_liab[i]
            deposits += weight[s] * cash_i
        part_dep[c, 0] = deposits
    table[:] = 0.0
    total = 0.0
    add_chunks(table, part)
    for c in range(nc):
        total += part_dep[c, 0]
    return total
