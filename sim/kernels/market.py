"""Market: shares by replicator dynamics and orders (MODEL.md steps 3-4)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._numba import chunks, kernel, rows_of
from .elementary import add_chunks, exp, log
from .production import new_price, no_pricing  # noqa: F401  (no_pricing: the market step alone, for tests)

# this month's demand by sector (arrays of one value per sector)
DEMAND_FIELDS = {
    "price_index": (np.float64, "sector price index: last month's output-weighted mean posted price (repriced "
                                "at once by a VAT change)"),
    "demand": (np.float64, "the sector's demand in model-firm units (over real firms per model firm), yuan/month "
                           "at 2019 prices"),
    "input_fill": (np.float64, "share of its orders the sector can fill given the supply of its critical inputs "
                               "(1 unless a supplier sector is at capacity)"),
}
# the scalar parameters of the market step (the behaviour settings of the same names)
MARKET_FIELDS = {
    "replicator_speed": (float, "speed chi of the replicator dynamics of market shares"),
    "share_price_sensitivity": (float, "weight w_p of the log relative price in competitiveness"),
    "share_backlog_sensitivity": (float, "weight w_l of last month's unfilled orders in competitiveness"),
    "share_level_adjustment": (float, "monthly partial adjustment lambda of shares toward the customer-base shares "
                                      "b_i E_i e^x_i / sum_j b_j E_j e^x_j (0: the replicator alone)"),
}
MarketDemand = namedtuple("MarketDemand", tuple(DEMAND_FIELDS))
MarketParams = namedtuple("MarketParams", tuple(MARKET_FIELDS), defaults=(0.0,))  # no partial adjustment unless given


def market_params(behaviour) -> MarketParams:
    return MarketParams(*(kind(getattr(behaviour, name)) for name, (kind, _) in MARKET_FIELDS.items()))


@kernel(parallel=True)
def market_step(firms, sectors, month, params, prices, pricing, sold):
    """Steps 3-4 in four passes over the rows (parallel chunks; sums by sector go through fixed
    chunks, so results do not depend on the number of threads):
    1. competitiveness E_i = exp(-w_p log(p_i/P_s) - w_l l_i) (Dosi et al. 2010), kept in `unfilled`
       (recomputed in the last pass), for every row: a loop of nothing else, which LLVM vectorises
       (`elementary`); an empty row's value is never read;
    2. sums by sector of f_i and f_i E_i, and the capacity-weighted harmonic mean of productivity
       behind step 5's wage index;
    3. shares divided by their sector's total (entrants since the last step took share from
       incumbents; E_bar_s does not depend on that scale), kept in `share_prev`, then replicator
       shares f_i <- f_i (1 + chi (E_i / E_bar_s - 1)), orders (share x sector demand) and
       first-pass output (the lesser of orders and capacity). With 0 <= chi <= 1 (the schema's
       range) no share turns negative and the new shares of a sector add up to one, so they are
       not divided by their sum again;
    4. spill-over of unfilled orders, pro rata, to firms of the sector with spare capacity; a sector
       short of a critical input (`input_fill` < 1) produces that much less, every firm in
       proportion (its suppliers ration their buyers pro rata); revenue at the posted price
       (employment and energy use are summed with the income statements, `accounting.income`);
       and, when `prices` has sectors, step 5 for each live row (`production.costs_and_prices`, fused
       here: the same numbers through `production.new_price`): the wage index
       (harmonic / harmonic0) ** wage_elasticity is made from pass 2's harmonic mean and written to
       prices.wage_index[0], unit costs from it, then markups and next month's prices; and, when
       `sold` has rows, the live rows' output and revenue by sector into sold[s] (as
       `costs_and_prices` sums them: the same chunks and order).
    Returns the capacity-weighted harmonic mean of productivity (step 5's wage index).
    (Steps 5 and 6 together in the last pass were measured slower, one large loop body; step 5 alone
    pays: benchmarks/RESULTS.md, session 21, `mkt`.)

    firms: FirmState (reads alive, sector, price, capacity, productivity, order_shock; writes unfilled,
    share, share_prev, orders, output, revenue, and a new firm's customer_base); sectors: SectorTables
    (weight); month: MarketDemand; params: MarketParams; prices: production.PriceInputs (or
    production.no_prices(): no pricing); pricing: production.PricingParams; sold: by sector
    (written), or of length 0. With prices, it also reads markup and energy_intensity and writes
    markup and price of live rows (after reading the price for revenue).
    """
    # arrays the loops write must be bound to locals before them (a write through `firms.x[i]`
    # inside prange is lost); the reads are bound too, so the loops are the ones they were before bundles
    unfilled = firms.unfilled
    share = firms.share
    share_prev = firms.share_prev
    orders = firms.orders
    output = firms.output
    revenue = firms.revenue
    alive = firms.alive
    sector = firms.sector
    price = firms.price
    capacity = firms.capacity
    productivity = firms.productivity
    weight = sectors.weight
    price_index = month.price_index
    demand = month.demand
    fill = month.input_fill
    chi = params.replicator_speed
    w_price = params.share_price_sensitivity
    w_backlog = params.share_backlog_sensitivity
    lam = params.share_level_adjustment
    base = firms.customer_base
    shock = firms.order_shock
    n = alive.shape[0]
    n_s = price_index.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, n_s, 3))
    part_h = np.zeros((nc, 8))  # padded: chunks write their own cache line
    for c in prange(nc):
        for i in rows_of(c, cs, n):
            unfilled[i] = exp(-w_price * log(price[i] / price_index[np.uint64(sector[i])]) - w_backlog * unfilled[i])
    for c in prange(nc):
        hn = 0.0
        hd = 0.0
        for i in rows_of(c, cs, n):
            if alive[i]:
                s = np.uint64(sector[i])
                e = unfilled[i]
                f = share[i]
                part[c, s, 0] += f * e
                part[c, s, 1] += f
                if base[i] <= 0.0:  # a firm's first market step: its share now is its customer base's
                    base[i] = f / (e * exp(shock[i]))
                if lam > 0.0:  # the partial adjustment's sum (not needed by the replicator alone)
                    part[c, s, 2] += base[i] * (e * exp(shock[i]))
                w = capacity[i] * weight[s]
                hn += w
                hd += w / productivity[i]
        part_h[c, 0] = hn
        part_h[c, 1] = hd
    ebar = np.zeros(n_s)
    tot = np.zeros(n_s)
    bsum = np.zeros(n_s)
    num = 0.0
    den = 0.0
    for c in range(nc):
        for s in range(n_s):
            ebar[s] += part[c, s, 0]
            tot[s] += part[c, s, 1]
            bsum[s] += part[c, s, 2]
        num += part_h[c, 0]
        den += part_h[c, 1]
    scale = np.ones(n_s)
    for s in range(n_s):
        if tot[s] > 0:
            ebar[s] /= tot[s]
            scale[s] = 1.0 / tot[s]
    harmonic = num / den
    part[:, :, :] = 0.0
    for c in prange(nc):
        for i in rows_of(c, cs, n):
            if alive[i]:
                s = np.uint64(sector[i])
                f = share[i] * scale[s]
                share_prev[i] = f
                if ebar[s] > 0:
                    f = f * (1.0 + chi * (unfilled[i] / ebar[s] - 1.0))
                if lam > 0.0 and bsum[s] > 0.0:
                    f = (1.0 - lam) * f + lam * base[i] * unfilled[i] * exp(shock[i]) / bsum[s]
                share[i] = f
                o = f * demand[s]
                k = capacity[i]
                orders[i] = o
                q = o if o < k else k
                output[i] = q
                part[c, s, 0] += o - q
                part[c, s, 1] += k - q
            else:
                share_prev[i] = 0.0
                share[i] = 0.0
                orders[i] = 0.0
                output[i] = 0.0
    short = np.zeros(n_s)
    spare = np.zeros(n_s)
    for c in range(nc):
        for s in range(n_s):
            short[s] += part[c, s, 0]
            spare[s] += part[c, s, 1]
    frac_s = np.zeros(n_s)
    for s in range(n_s):
        if short[s] > 0 and spare[s] > 0:
            frac_s[s] = short[s] / spare[s] if short[s] < spare[s] else 1.0
    # step 5's sector-level inputs: the wage index from this month's harmonic mean, then unit costs
    n_p = prices.vat_factor.shape[0]
    va_cost = np.empty(n_p)
    labour = np.empty(n_p)
    if n_p > 0:
        h0 = prices.harmonic0 if prices.harmonic0 > 0.0 else harmonic
        wage_index = (harmonic / h0) ** prices.wage_elasticity
        prices.wage_index[0] = wage_index
        for s in range(n_p):
            labour[s] = prices.labour[s] * wage_index
            va_cost[s] = labour[s] + prices.services[s]
    u_normal = prices.normal_utilisation
    energy_cost = prices.energy_cost
    material_cost = prices.material_cost
    markup_anchor = prices.markup_anchor
    vat_factor = prices.vat_factor
    response = pricing.markup_share_response
    anchor_speed = pricing.markup_anchor_speed
    premium = pricing.overtime_premium
    markup = firms.markup
    energy_intensity = firms.energy_intensity
    n_sold = sold.shape[0]
    part_sold = np.zeros((nc, n_sold, 2))
    # (selects rather than branches on spare capacity and unfilled orders, which vary row to row:
    # the pass took 0.6 ms more with them)
    for c in prange(nc):
        t = part_sold[c]
        for i in rows_of(c, cs, n):
            if not alive[i]:
                unfilled[i] = 0.0
                revenue[i] = 0.0
                continue
            s = np.uint64(sector[i])
            q = output[i]
            k = capacity[i]
            free = k - q
            frac = frac_s[s]
            q = q + free * frac if (frac > 0) & (free > 0) else q
            q = q * fill[s]
            output[i] = q
            o = orders[i]
            u = 1.0 - q / o
            unfilled[i] = u if o > q else 0.0
            r = price[i] * q
            revenue[i] = r
            if n_sold > 0:
                t[s, 0] += q
                t[s, 1] += r
            if n_p > 0:
                mu, p = new_price(markup[i], (q, k, productivity[i], energy_intensity[i], share[i], share_prev[i]),
                                  (va_cost[s], labour[s], u_normal[s], energy_cost[s], material_cost[s],
                                   markup_anchor[s], vat_factor[s]), (response, anchor_speed, premium))
                markup[i] = mu
                price[i] = p
    sold[:] = 0.0
    add_chunks(sold, part_sold)
    return harmonic


@njit(cache=True, inline="always")
def _fill_rate(made, ordered, import_share):
    """Share of its orders a sector's buyers get: what it made, plus the imported share of the rest."""
    if ordered <= 0.0:
        return 1.0
    short = ordered - made
    short = short if short > 0.0 else 0.0
    return (made + import_share * short) / ordered


@njit(cache=True, inline="always")
def _orders(other, cap, io, x, inter, demand, planned):
    """Orders D = other + A x (intermediate ones into `inter`) and the output each sector plans,
    min(D, K), into `planned`; returns the largest planned output."""
    n = other.shape[0]
    top = 0.0
    for k in range(n):
        z = 0.0
        for s in range(n):
            z += io[k, s] * x[s]
        inter[k] = z
        demand[k] = other[k] + z
        planned[k] = demand[k] if demand[k] < cap[k] else cap[k]
        top = planned[k] if planned[k] > top else top
    return top


@kernel
def solve_orders(other, cap, io, critical, import_share, x0, tol, max_iter):
    """Steps 2-4 at the sector level: the fixed point of x = min(other + A x, K), then the input
    rationing of critical inputs as the greatest fixed point of rho = min_k phi_k(rho), iterated down
    from rho = 1 (phases.demand.solve_orders says what it means). Loops over the ten sectors: a
    compiled loop of microseconds where numpy's small-array calls took 0.8 ms a month.

    other: final and investment orders; cap: capacity; io[k, s]: yuan from k per yuan of s;
    critical[k, s]: a shortage of k limits s; import_share[k]: m_k, by sector; x0: the starting point (last month's
    output). Returns (orders, intermediate orders, input_fill rho, supply_fill phi, iterations);
    iterations is -1 if it did not converge within max_iter."""
    n = other.shape[0]
    x = np.empty(n)
    for s in range(n):
        x[s] = x0[s] if x0[s] < cap[s] else cap[s]
    rho = np.ones(n)
    demand = np.empty(n)
    inter = np.empty(n)
    phi = np.ones(n)
    x_new = np.empty(n)
    rho_new = np.empty(n)
    done = -1
    # 1. the planned outputs: orders are placed before rationing, so x does not depend on rho
    for it in range(max_iter + 1):
        top = _orders(other, cap, io, x, inter, demand, x_new)
        dx = 0.0
        for s in range(n):
            a = abs(x_new[s] - x[s])
            dx = a if a > dx else dx
            x[s] = x_new[s]
        if dx <= tol * top:
            done = it
            break
    if done < 0:
        return demand, inter, rho, phi, done
    _orders(other, cap, io, x, inter, demand, x_new)
    # 2. the rationing: the greatest fixed point of rho = min over critical inputs of phi(rho), from
    # rho = 1 down (phi rises with rho, so the steps fall monotonically and converge; sectors that
    # are critical to each other would otherwise swap their values for ever)
    done = -1
    for it in range(max_iter + 1):
        for k in range(n):
            phi[k] = _fill_rate(rho[k] * x_new[k], demand[k], import_share[k])
        dr = 0.0
        for s in range(n):
            r = rho[s]
            for k in range(n):
                if critical[k, s] and phi[k] < r:
                    r = phi[k]
            b = rho[s] - r
            dr = b if b > dr else dr
            rho_new[s] = r
        for s in range(n):
            rho[s] = rho_new[s]
        if dr <= tol:
            done = it
            break
    # orders and fill rates at the converged point
    _orders(other, cap, io, x, inter, demand, x_new)
    for k in range(n):
        phi[k] = _fill_rate(rho[k] * x_new[k], demand[k], import_share[k])
    return demand, inter, rho, phi, done
