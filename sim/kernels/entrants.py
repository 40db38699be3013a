"""Entrants' start-up values (phases.entry.new_firms) in one compiled pass over the entrants: their
capacity fitted to a cap's room, productivity, energy intensity, orders, market share, price and
opening balance sheet, each value as the numpy expressions over the entrants computed it (the same
operations in the same order; np.maximum's NaN rule spelled out). The exponentials stay numpy's
(given: np.exp and the C library's exp may differ in the last bit). Some forty numpy calls on
arrays of a handful of entrants were a tenth of the entry step at a small economy."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._numba import kernel
from .capacity_rules import np_maximum
from .poisson import entrant_counts
from .tables import entrant_positions, fit_to_room


class EntrantRates(NamedTuple):
    """The settings entrants' values are made from (floats)."""
    entrant_size: float  # behaviour.entrant_size: capacity over the sector's median firm's
    debt_to_assets: float  # behaviour.debt_to_assets
    interest_bearing_share: float  # behaviour.interest_bearing_share
    capital_price: float  # this month's price of capital goods
    cash_to_revenue: float  # setup.CASH_TO_REVENUE
    other_assets_to_revenue: float  # setup.OTHER_ASSETS_TO_REVENUE


class EntrantValues(NamedTuple):
    capacity: np.ndarray
    productivity: np.ndarray
    energy_intensity: np.ndarray
    orders: np.ndarray
    share: np.ndarray
    price: np.ndarray
    capital: np.ndarray  # the opening balance sheet (setup.SHEET)
    cash: np.ndarray
    other_assets: np.ndarray
    loans: np.ndarray
    other_liab: np.ndarray
    net_worth: np.ndarray


@kernel
def entrant_rows(s_of, start, size_factor, prod_factor, ei_factor, sec, r):
    """The entrants' values (EntrantValues), the rows of one (12, entrants) array: entrant i of
    sector s_of[i] (sectors' slices from `start`) sized at r.entrant_size x the sector's median
    capacity x size_factor[i] (the slices then fitted to the sectors' room: tables.fit_to_room),
    productivity and energy intensity the frontier's x prod_factor and ei_factor, orders at the
    target utilisation, priced at the sector's opening markup over unit cost with the VAT blend; the balance sheet as
    setup.balance_sheets makes it from twelve months' orders, the capital at r.capital_price, half of
    it borrowed. `sec`: phases.entry.EntrantSectors; `r`: EntrantRates."""
    n = s_of.shape[0]
    rows = np.empty((12, n))  # (one array returned: numba boxes each array and tuple it returns, ~1 us each)
    cap = rows[0]
    for i in range(n):
        cap[i] = r.entrant_size * sec.median_capacity[s_of[i]] * size_factor[i]
    fit_to_room(cap, start, sec.room)  # entrants, too, stay under a cap and quota
    out = EntrantValues(cap, rows[1], rows[2], rows[3], rows[4], rows[5], rows[6], rows[7], rows[8], rows[9],
                        rows[10], rows[11])
    other_share = r.debt_to_assets * (1 - r.interest_bearing_share)
    for i in range(n):
        s = s_of[i]
        prod = sec.frontier_a[s] * prod_factor[i]
        ei = sec.frontier_ei[s] * ei_factor[i]
        q = cap[i] * sec.util_target[s]
        unit_cost = (sec.va_cost[s] / prod + sec.energy_share[s] * ei + sec.inputs[s] + sec.materials[s]
                     + sec.wedge_level[s])
        revenue_year = 12.0 * q
        capital = sec.cap_output[s] * revenue_year
        cash = r.cash_to_revenue * revenue_year
        other_assets = r.other_assets_to_revenue * revenue_year
        other_liab = other_share * (capital + cash + other_assets)
        capital = capital * r.capital_price
        loans = 0.5 * capital
        out.productivity[i] = prod
        out.energy_intensity[i] = ei
        out.orders[i] = q
        out.share[i] = q / np_maximum(sec.demand_per_firm[s], 1e-12)
        out.price[i] = (1 + sec.markup0[s]) * unit_cost * sec.vat_blend[s]
        out.capital[i] = capital
        out.cash[i] = cash
        out.other_assets[i] = other_assets
        out.loans[i] = loans
        out.other_liab[i] = other_liab
        out.net_worth[i] = cash + capital + other_assets - loans - other_liab
    return rows


def entrant_values(s_of, start, size_factor, prod_factor, ei_factor, sec, r) -> EntrantValues:
    """The entrants' values (EntrantValues; `entrant_rows`, whose rows they are)."""
    return EntrantValues(*entrant_rows(s_of, start, size_factor, prod_factor, ei_factor, sec, r))


@kernel
def entrant_banks(size_cdf, u, alive):
    """Each entrant's drawn bank: the first bank whose cumulative size share exceeds the entrant's
    uniform `u` (np.searchsorted(size_cdf, u, side="right"), at most the last bank), or, if that
    bank has failed, the first live bank (np.argmax(alive)); as the numpy calls of
    phases.entry.new_firms made it, in one call."""
    n_b = alive.shape[0]
    first_live = 0
    for b in range(n_b):
        if alive[b]:
            first_live = b
            break
    banks = np.searchsorted(size_cdf, u, side="right")
    for i in range(banks.shape[0]):
        b = banks[i] if banks[i] < n_b - 1 else n_b - 1
        banks[i] = b if alive[b] else first_live
    return banks


@kernel
def entrants_by_sector(u, lam, most):
    """phases.entry.draw_entrants' numbers in one call: the Poisson numbers of entrants by sector
    (poisson.entrant_counts of the uniforms `u`, means `lam`, at most `most`), the widest sector's
    most (`width`, most.max()) and the entrants' positions at that width (tables.entrant_positions).
    Returns (counts, start, sector, position, width)."""
    width = most[0]
    for s in range(1, most.shape[0]):
        if most[s] > width:
            width = most[s]
    counts = entrant_counts(u, lam, most)
    start, s_of, pos = entrant_positions(counts, width)
    return counts, start, s_of, pos, width
