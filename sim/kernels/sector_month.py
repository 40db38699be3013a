"""The step's own arithmetic by sector (sim/model.py, steps 1-3) in compiled loops over the sectors:
each value as the numpy expressions over sector arrays computed it, operation by operation in the
same order (no fused multiply-adds: fastmath is off), in one call instead of some twenty numpy calls
on arrays of thirty sectors each (benchmarks/RESULTS.md, "The step's own Python"). What numpy
computes with its own vectorised transcendental functions (exp, power) and the input-output
products (BLAS) stays in numpy."""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from .capacity_rules import np_maximum
from .sums import pairwise_sum


@kernel
def vat_margin(vat_factor, decay, final_share, vat_blend):
    """Step 1's VAT margin by sector: the margin factor kept from VAT changes decays
    (1 + (factor - 1) x (1 - decay)), and its sales-weighted blend (1 + (factor - 1) x the final
    buyers' share of sales). Returns the factor, the blend and whether the blend moved from
    `vat_blend` (posted prices then follow)."""
    n = vat_factor.shape[0]
    factor, blend = np.empty(n), np.empty(n)
    moved = False
    for s in range(n):
        factor[s] = 1 + (vat_factor[s] - 1) * (1 - decay)
        blend[s] = 1 + (factor[s] - 1) * final_share[s]
        moved |= blend[s] != vat_blend[s]
    return factor, blend, moved


@kernel
def buyers_prices(price_index, vat_blend, vat_factor, vat_rate, purchase_subsidy, inv_share, invest_prev):
    """Step 2's prices by sector: the ex-VAT price business buyers pay (price_index / vat_blend),
    the tax-inclusive price final buyers pay (base x vat_factor x (1 + VAT) x (1 - purchase
    subsidy)), and investment orders at the base price (inv_share x invest_prev / base). Returns
    the three."""
    n = price_index.shape[0]
    base, ptax, invest = np.empty(n), np.empty(n), np.empty(n)
    for s in range(n):
        base[s] = price_index[s] / vat_blend[s]
        ptax[s] = base[s] * vat_factor[s] * (1 + vat_rate[s]) * (1 - purchase_subsidy[s])
        invest[s] = inv_share[s] * invest_prev / base[s]
    return base, ptax, invest


@kernel
def demand_cycle(cycle, shock, terms, support, demand_support):
    """Step 2's demand cycle by sector after this month's shocks (`shock`: one per sector, then the
    common one; `terms`: the cycle's persistence and the common and sectoral shocks' sigmas):
    persistence x cycle + common sigma x common shock + sector sigma x the sector's. Scales
    `support` by this month's demand support in place. Returns the cycle."""
    persistence, sigma_common, sigma_sector = terms
    n = cycle.shape[0]
    out = np.empty(n)
    common = sigma_common * shock[n]
    for s in range(n):
        out[s] = persistence * cycle[s] + common + sigma_sector * shock[s]
        support[s] *= 1 + demand_support[s] / 12.0
    return out


@kernel
def markup_anchor(markup0, response, import_share, util_smooth, util_target):
    """Step 5's markup norm by sector: markup0 + response x (1 - import share) x (smoothed
    utilisation - target), at least 0 (np.maximum's NaN rule)."""
    n = markup0.shape[0]
    out = np.empty(n)
    for s in range(n):
        out[s] = np_maximum(markup0[s] + response * (1.0 - import_share[s]) * (util_smooth[s] - util_target[s]), 0.0)
    return out


@kernel
def investment_price(inv_share, price_index, vat_blend):
    """The price of capital goods: the investment-weighted ex-VAT price business buyers pay,
    the mean of price_index / vat_blend weighted by inv_share (`weighted_mean`)."""
    return weighted_mean(price_index / vat_blend, inv_share)


@kernel
def abs_sum(x):
    """np.sum(np.abs(x)), as numpy sums (`sums.pairwise_sum`)."""
    return pairwise_sum(np.abs(x))


@kernel
def weighted_column_sums(table, first, second, weight):
    """(np.sum(table[:, first] * weight), np.sum(table[:, second] * weight)): two columns of a
    per-sector table made economy-wide and summed, as numpy sums (`sums.pairwise_sum`)."""
    return pairwise_sum(table[:, first] * weight), pairwise_sum(table[:, second] * weight)


@kernel
def max_abs_gap(a, b):
    """np.max(np.abs(a - b)) (NaN if any gap is NaN, as np.max gives)."""
    out = np.abs(a[0] - b[0])
    for i in range(a.shape[0]):
        gap = np.abs(a[i] - b[i])
        if np.isnan(gap):
            return gap
        if gap > out:
            out = gap
    return out


@kernel
def learned_growth(orders, smooth, growth_expected, speed, learning):
    """phases.demand.learn_growth by sector: orders smoothed at `speed`, and the expected growth a
    year learnt at `learning` from their monthly growth (1 where last month's smoothed orders were
    not positive, as np.divide's `where`). Returns both."""
    n = orders.shape[0]
    new, growth = np.empty(n), np.empty(n)
    for s in range(n):
        new[s] = smooth[s] + speed * (orders[s] - smooth[s])
        g = (new[s] / smooth[s] if smooth[s] > 0 else 1.0) - 1.0
        growth[s] = growth_expected[s] + learning * (12.0 * g - growth_expected[s])
    return new, growth


@kernel
def learned_turnover(retired, entered, capacity, turnover, learning):
    """phases.demand.learn_turnover by sector: 12 x (retired - entered) / capacity (0 where capacity
    is not positive, as np.divide's `where`), learnt at `learning`."""
    n = retired.shape[0]
    out = np.empty(n)
    for s in range(n):
        x = 12.0 * ((retired[s] - entered[s]) / capacity[s] if capacity[s] > 0 else 0.0)
        out[s] = turnover[s] + learning * (x - turnover[s])
    return out


@kernel
def inputs_received(io, phi, rho):
    """io * phi[:, None] / rho[None, :]: what each sector receives from each supplier per unit of its
    output (phases.demand.solve_orders)."""
    n, m = io.shape
    out = np.empty((n, m))
    for k in range(n):
        for s in range(m):
            out[k, s] = io[k, s] * phi[k] / rho[s]
    return out


@kernel
def energy_price_index(large_share, elec_share, changes):
    """The energy price index by sector: electricity (large users' and general tariffs, weighted by
    the sector's large-user share) and fuels weighted by electricity's share of its energy bill;
    `changes`: the changes of the large users' and general tariffs and of fuel prices."""
    change_large, change_general, change_fuel = changes
    n = large_share.shape[0]
    out = np.empty(n)
    for s in range(n):
        elec = 1 + large_share[s] * change_large + (1 - large_share[s]) * change_general
        out[s] = elec_share[s] * elec + (1 - elec_share[s]) * (1 + change_fuel)
    return out


@kernel
def weighted_mean(values, weights):
    """np.sum(values * weights) / np.sum(weights), as numpy sums (`sums.pairwise_sum`)."""
    return pairwise_sum(values * weights) / pairwise_sum(weights)


@kernel
def purchase_subsidy_cost(subsidy, ptax, final):
    """What the purchase subsidy costs the government this month: np.sum(subsidy / (1 - subsidy) x
    ptax x final), as numpy sums (`sums.pairwise_sum`)."""
    return pairwise_sum(subsidy / (1 - subsidy) * ptax * final)


@kernel
def frontier_moves(growth, ei_change, shocks, terms):
    """Step 8's exponents of this month's moves of the productivity and energy-intensity frontiers
    by sector (numpy's exp takes them): growth / 12 + sigma x shocks[0] - half and ei_change / 12 +
    sigma x shocks[1] - half (`ei_change`: minus the decline, negated by numpy, whose negation flips
    a NaN's sign where LLVM's may not; `shocks`: two by sector; `terms` = (sigma, half: sigma^2 /
    2)). Returns both."""
    sigma, half = terms
    n = growth.shape[0]
    up, down = np.empty(n), np.empty(n)
    for s in range(n):
        up[s] = growth[s] / 12.0 + sigma * shocks[0, s] - half
        down[s] = ei_change[s] / 12.0 + sigma * shocks[1, s] - half
    return up, down


@kernel
def energy_costs(energy_share, large_share, elec_share, changes):
    """The energy cost per unit of output by sector: energy_share x `energy_price_index` (new array)."""
    index = energy_price_index(large_share, elec_share, changes)
    for s in range(index.shape[0]):
        index[s] = energy_share[s] * index[s]
    return index


@kernel
def capital_prices(inv_share, price_index, vat_blend, cap_output, util_target):
    """Step 7's price of capital goods (`investment_price`) and the capital a unit of capacity
    costs by sector at it, cap_output x 12 x util_target x price. Returns both."""
    price = investment_price(inv_share, price_index, vat_blend)
    out = np.empty(cap_output.shape[0])
    for s in range(out.shape[0]):
        out[s] = cap_output[s] * 12.0 * util_target[s] * price
    return price, out


@kernel
def min_shares(share, firms):
    """Step 9's least share of its sector's output a firm keeps before it exits: share /
    np.maximum(firms, 1) by sector (new array)."""
    out = np.empty(firms.shape[0])
    for s in range(out.shape[0]):
        out[s] = share / np_maximum(firms[s], 1)
    return out


@kernel
def learn_margin(income, profit, revenue, smooth, speed):
    """Step 10's smoothed margins by sector, in place: smooth += speed x (margin - smooth), the
    margin income[:, profit] / np.maximum(income[:, revenue], 1e-12)."""
    for s in range(smooth.shape[0]):
        margin = income[s, profit] / np_maximum(income[s, revenue], 1e-12)
        smooth[s] += speed * (margin - smooth[s])


@kernel
def smooth_toward(smooth, value, speed):
    """smooth += speed x (value - smooth), in place."""
    for s in range(smooth.shape[0]):
        smooth[s] += speed * (value[s] - smooth[s])


@kernel
def price_index_after(output, price_output, price_index):
    """Next month's price index by sector: np.where(output > 0, price_output / np.maximum(output,
    1e-300), price_index) (new array)."""
    out = np.empty(output.shape[0])
    for s in range(out.shape[0]):
        out[s] = price_output[s] / np_maximum(output[s], 1e-300) if output[s] > 0 else price_index[s]
    return out


@kernel
def entrant_terms(size, price_index, vat_blend, labour, services, demand, room):
    """Step 10's sector terms of entrants (sim/model.py `_entry`), by sector: the median capacity
    (scaled by the growth of capacity per live firm, cap_now / weight / np.maximum(firms, 1) /
    capacity_per_firm0, unless `firms` is empty), the ex-VAT price (price_index / vat_blend), the
    value-added cost (labour + services), and demand and room per model firm (/ weight). New arrays.
    `size`: cap_now, weight, firms, median, capacity_per_firm0."""
    cap_now, weight, firms, median, capacity_per_firm0 = size
    n = weight.shape[0]
    scaled, base, va_cost, per_firm, room_per_firm = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for s in range(n):
        if firms.shape[0] > 0:
            scaled[s] = median[s] * (cap_now[s] / weight[s] / np_maximum(firms[s], 1)) / capacity_per_firm0[s]
        else:
            scaled[s] = median[s]
        base[s] = price_index[s] / vat_blend[s]
        va_cost[s] = labour[s] + services[s]
        per_firm[s] = demand[s] / weight[s]
        room_per_firm[s] = room[s] / weight[s]
    return scaled, base, va_cost, per_firm, room_per_firm
