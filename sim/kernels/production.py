"""Production, costs and prices (MODEL.md steps 4-5)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._numba import chunks, kernel, rows_of
from .elementary import add_chunks, masked

# this month's unit-cost blocks and price factors by sector (arrays of one value per sector)
COST_FIELDS = {
    "va_cost": (np.float64, "wages and services per yuan of output at productivity 1 (labour share x wage index "
                            "+ services share)"),
    "labour": (np.float64, "wages per yuan of output at productivity 1 (labour share x wage index), the base of "
                           "the overtime premium"),
    "normal_utilisation": (np.float64, "output / capacity above which labour is paid the overtime premium"),
    "energy_cost": (np.float64, "energy per yuan of output at energy intensity 1 (energy share x energy price "
                                "index)"),
    "material_cost": (np.float64, "intermediate inputs and other materials per yuan of output"),
    "markup_anchor": (np.float64, "the sector's markup norm, rising with its utilisation"),
    "vat_factor": (np.float64, "the VAT margin factor on posted prices, blended by the final buyers' share of sales"),
}
# the scalar parameters of pricing (the behaviour settings of the same names)
PRICING_FIELDS = {
    "markup_share_response": (float, "markup response to market-share growth"),
    "markup_anchor_speed": (float, "share of the gap to the sector's markup norm closed a month"),
    "overtime_premium": (float, "wage premium on the labour output above normal utilisation takes"),
}
# the inputs of pricing when it is fused into the market step's last pass (`market.market_step`), where
# the wage index is made from the pass before: labour at wage index 1, the rest as in COST_FIELDS
PRICE_INPUT_FIELDS = {
    "labour": (np.float64, "wages per yuan of output at productivity 1 and wage index 1 (labour share)"),
    "services": (np.float64, "services bought per yuan of output (va_cost = labour x wage index + services)"),
    "normal_utilisation": COST_FIELDS["normal_utilisation"],
    "energy_cost": COST_FIELDS["energy_cost"],
    "material_cost": COST_FIELDS["material_cost"],
    "markup_anchor": COST_FIELDS["markup_anchor"],
    "vat_factor": COST_FIELDS["vat_factor"],
    "harmonic0": (float, "the first month's harmonic mean of productivity (<= 0: this month is the first)"),
    "wage_elasticity": (float, "elasticity of the wage index to (harmonic / harmonic0)"),
    "wage_index": (np.float64, "one value, written: (harmonic / harmonic0) ** wage_elasticity"),
}
UnitCosts = namedtuple("UnitCosts", tuple(COST_FIELDS))
PricingParams = namedtuple("PricingParams", tuple(PRICING_FIELDS))
PriceInputs = namedtuple("PriceInputs", tuple(PRICE_INPUT_FIELDS))


def pricing_params(behaviour) -> PricingParams:
    return PricingParams(*(kind(getattr(behaviour, name)) for name, (kind, _) in PRICING_FIELDS.items()))


def no_prices() -> PriceInputs:
    """PriceInputs of no sectors: `market.market_step` then leaves markups and prices alone."""
    e = np.zeros(0)
    return PriceInputs(e, e, e, e, e, e, e, 0.0, 0.0, np.zeros(1))


def no_pricing() -> tuple:
    """The last three arguments of `market.market_step` for the market step alone (no pricing, no sums)."""
    return no_prices(), PricingParams(0.0, 0.0, 0.0), np.zeros((0, 2))


@njit(cache=True, inline="always")
def overtime_output(q, capacity, normal_utilisation):
    """Output beyond normal utilisation, max(0, q - u_n K): made with labour paid the overtime
    premium (in unit costs here, in wages in `accounting.income`)."""
    extra = q - normal_utilisation * capacity
    return extra if extra > 0.0 else 0.0


@njit(cache=True, inline="always")
def new_price(mu, row, sector, rule):
    """One live row's markup and next month's price (`costs_and_prices` says how): (markup, price)
    from its markup `mu`; `row`, the tuple (output q, capacity, productivity, energy intensity,
    shares now and before the replicator); `sector`, its sector's (va_cost, labour, normal
    utilisation, energy cost, material cost, markup norm, VAT factor); `rule`, PricingParams' three
    values (response, anchor speed, overtime premium). Shared by `costs_and_prices` and the fused
    last pass of `market.market_step` (inlined: the tuples cost nothing)."""
    q, capacity, productivity, energy_intensity, share, share_prev = row
    va_cost, labour, u_normal, energy_cost, material_cost, anchor, vat_factor = sector
    response, anchor_speed, premium = rule
    extra = overtime_output(q, capacity, u_normal)
    over = masked(premium * labour * extra / q, extra > 0.0)  # (not a branch: `masked`)
    unit_cost = (va_cost + over) / productivity + energy_cost * energy_intensity + material_cost
    g = 0.0
    if share_prev > 0:
        # log growth: zero on average for a share that is stationary, where the ratio's
        # mean exceeds one (Jensen) and ratcheted markups up with the share's noise
        g = np.log(share / share_prev) if share > 0 else -0.2
        if g > 0.2:
            g = 0.2
        elif g < -0.2:
            g = -0.2
    mu = mu * (1.0 + response * g)
    mu = mu + anchor_speed * (anchor - mu)
    if mu < 0.0:
        mu = 0.0
    elif mu > 2.0:
        mu = 2.0
    return mu, (1.0 + mu) * unit_cost * vat_factor


@kernel(parallel=True)
def costs_and_prices(firms, costs, params, sold):
    """Unit cost c = (wage and services block)_s / A + overtime + energy_s x EI + (IO inputs and
    materials)_s (per yuan of output: va_cost = labour share x wage index + services share,
    energy_cost = energy share x energy price index, material_cost = sum_k a_ks P_k + other
    materials). Output above normal utilisation u_n takes labour paid the overtime premium pi:
    overtime per yuan of output = pi (labour_s / A) max(0, q - u_n k) / q, so unit cost rises as a
    firm nears capacity and is bounded (at most pi (1 - u_n) labour_s / A). Markups rise with
    market-share growth (Dosi et al. 2013; log growth, clipped to +-20%) and are pulled toward the sector
    norm, which rises with sector utilisation; price for next month = (1 + mu) c times the sector's
    VAT margin factor. Unfilled orders do not move the markup (they cost the firm market share,
    `market_step`).

    In the same pass, when `sold` has rows (the closed economy's input bill, economy.Institutions.
    input_bill), the live rows' output and revenue by sector into sold[s] = (output, revenue), summed
    in fixed chunks of rows as `sums.sector_sums` sums them (the same numbers, one pass fewer).

    A month runs this fused into the last pass of `market.market_step` (through `new_price`, the same
    numbers); this kernel alone is the reference the tests check that fusion against.

    firms: FirmState (reads alive, sector, productivity, energy_intensity, share, share_prev,
    output, capacity, revenue; writes markup and price of live rows); costs: UnitCosts; params:
    PricingParams; sold: by sector (written), or of length 0."""
    # arrays the loop writes must be bound to locals before it (a write through `firms.x[i]` inside
    # prange is lost); the reads are bound too, so the loop is the one it was before bundles
    markup = firms.markup
    price = firms.price
    alive = firms.alive
    sector = firms.sector
    productivity = firms.productivity
    energy_intensity = firms.energy_intensity
    share = firms.share
    share_prev = firms.share_prev
    output = firms.output
    capacity = firms.capacity
    va_cost = costs.va_cost
    labour = costs.labour
    u_normal = costs.normal_utilisation
    energy_cost = costs.energy_cost
    material_cost = costs.material_cost
    markup_anchor = costs.markup_anchor
    vat_factor = costs.vat_factor
    response = params.markup_share_response
    anchor_speed = params.markup_anchor_speed
    premium = params.overtime_premium
    revenue = firms.revenue
    n = alive.shape[0]
    n_sold = sold.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, n_sold, 2))
    for c in prange(nc):
        t = part[c]
        for i in rows_of(c, cs, n):
            if not alive[i]:
                continue
            s = np.uint64(sector[i])
            q = output[i]
            if n_sold > 0:
                t[s, 0] += q
                t[s, 1] += revenue[i]
            row = (q, capacity[i], productivity[i], energy_intensity[i], share[i], share_prev[i])
            mu, p = new_price(markup[i], row, (va_cost[s], labour[s], u_normal[s], energy_cost[s], material_cost[s],
                                               markup_anchor[s], vat_factor[s]), (response, anchor_speed, premium))
            markup[i] = mu
            price[i] = p
    sold[:] = 0.0
    add_chunks(sold, part)
