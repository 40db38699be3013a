"""Entry (MODEL.md step 10), as plain functions: Poisson numbers of entrants by sector, rows for them
(exited firms' rows first; the rows grow when none is free), and their start-up state."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import entrants, sums, tables
from ..kernels.shocks import laplace_quantiles
from ..rng import uniforms_at
from .setup import CASH_TO_REVENUE, OTHER_ASSETS_TO_REVENUE, SHEET, leverage_ratio


class EntrantDraws(NamedTuple):
    """The month's entrants and their draws (the "entry" stream, the same whatever the scenario),
    entrants in sector order: the j-th entrant of sector s has the draws [s, j] of the stream's
    layout (`draw_entrants`)."""
    counts: np.ndarray  # (sectors,): entrants by sector (model firms)
    start: np.ndarray  # (sectors + 1,): each sector's first entrant (the last: the end)
    sector: np.ndarray  # (entrants,): their sector
    u: np.ndarray  # (entrants, 3): uniforms of the productivity gap, energy intensity and bank
    size: np.ndarray  # (entrants,): standard normal of size
    leverage: np.ndarray  # (entrants,): standard normal of the leverage target
    wedge: np.ndarray  # (entrants,): uniform of the cost wedge


class EntrantSectors(NamedTuple):
    """What entrants of each sector start from (by sector)."""
    weight: np.ndarray  # real firms per model firm
    median_capacity: np.ndarray  # the median firm entrants are sized on (behaviour.entrant_size_reference)
    util_target: np.ndarray
    frontier_a: np.ndarray
    frontier_ei: np.ndarray
    va_cost: np.ndarray  # labour and services per unit of output at 2019 productivity
    energy_share: np.ndarray
    inputs: np.ndarray  # inputs from the modelled sectors per unit of output, at this month's prices (input_costs)
    materials: np.ndarray
    wedge_level: np.ndarray
    markup0: np.ndarray
    vat_blend: np.ndarray
    demand_per_firm: np.ndarray  # orders per model firm this month
    room: np.ndarray  # capacity left under a cap and within the replacement quota, model-firm units (inf: none)
    cap_output: np.ndarray  # capital per unit of yearly output


class Entered(NamedTuple):
    rows: np.ndarray  # the entrants' rows
    entries: np.ndarray  # entrants by sector, real firms
    capacity: np.ndarray  # their capacity by sector, economy-wide
    cash: float  # their deposits, economy-wide yuan (paid in by their owners and lenders)


def draw_entrants(g, lam: np.ndarray, most: np.ndarray) -> EntrantDraws:
    """The month's entrants (Poisson with means `lam`, at most `most` a sector) and their draws
    from the generator `g`, drawn as if in a fixed order and of fixed shapes: a uniform a sector
    for the counts, then (sectors, most.max()) arrays of draws, of which the entrants use the first
    counts[s] of row s. Of the uniforms only those are made (`rng.uniforms_at`; the generator left
    where drawing them all leaves it); the normals, whose draws use a varying number of the
    generator's outputs, are all drawn and the entrants' gathered."""
    n_s = lam.shape[0]
    counts, start, s_of, pos, width = entrants.entrants_by_sector(g.random(n_s), lam, most)
    u = uniforms_at(g, n_s * width, 3, pos)  # g.random((n_s, width, 3))[s, j]
    z = g.standard_normal(n_s * width)[pos]  # g.standard_normal((n_s, width))[s, j]
    # the entrant's own cost wedge and leverage target, from the distributions incumbents' are
    # drawn from (set-up and lumpy cost shocks): entrants are not average firms
    z_lev = g.standard_normal(n_s * width)[pos]
    u_wedge = uniforms_at(g, n_s * width, 1, pos)[:, 0]  # g.random((n_s, width))[s, j]
    return EntrantDraws(counts, start, s_of, u, z, z_lev, u_wedge)


def entry_intensity(n_alloc, entry_rate, margin_smooth, margin0, behaviour, policy, rules_share,
                    room) -> np.ndarray:
    """Expected entrants a month by sector: the pool of would-be entrants scales with the sector's
    2019 population (`n_alloc`), not with the firms alive now (with exits proportional to the firms
    alive, the number of firms is stationary), rises with the sector's smoothed margin over 2019's,
    is damped by the entry barrier and is zero under a ban on new capacity where the ban covers the
    whole sector (`rules_share` 1); where it covers a part (aluminium of non-ferrous metals), firms
    still enter, the covered part of their capacity within the replacement quota (`entry_room`).
    It is zero too where a cap or the replacement quota leaves no `room` at all (`entry_room`):
    entrants would be scaled to no capacity (`new_firms`), firms with nothing to produce."""
    lam = (n_alloc * entry_rate / 12.0
           * np.exp(behaviour.entry_profit_response * (margin_smooth - margin0))
           * (1 - policy.entry_barrier) / 0.5)
    shut = ((policy.ban_new_capacity > 0) & (rules_share >= 1.0)) | (room <= 0.0)
    return np.where(shut, 0.0, lam)


def new_firms(firms, banking, rows: np.ndarray, draws: EntrantDraws, sec: EntrantSectors,
              rules, capital_price: float, first_id: int) -> Entered:
    """Entrants' rows: private SMEs drawn behind the frontier, funded half by equity and half by a
    loan from a bank drawn by size (within its large-exposure limit), with a cost wedge and a
    leverage target drawn as incumbents' are. The j-th entrant of sector s takes row
    rows[start_s + j] and the draws [s, j]. Writes every field of those rows and the banks' books
    (banking); `rules`: phases.firms.Rules."""
    F, b, p = firms, rules.behaviour, rules.policy
    counts, start, s_of, us, zs = draws.counts, draws.start, draws.sector, draws.u, draws.size
    wedge = laplace_quantiles(draws.wedge, b.cost_wedge_scale)
    lev_target = leverage_ratio(b, 0.0, draws.leverage)  # private SMEs: no shift
    gap = b.entrant_gap_min + (b.entrant_gap_max - b.entrant_gap_min) * us[:, 0]
    v = entrants.entrant_values(s_of, start, np.exp(0.5 * zs), np.exp(-gap), np.exp(gap * us[:, 1] * 2.0), sec,
                                entrants.EntrantRates(float(b.entrant_size), float(b.debt_to_assets),
                                                      float(b.interest_bearing_share), float(capital_price),
                                                      CASH_TO_REVENUE, OTHER_ASSETS_TO_REVENUE))
    sheet = {name: getattr(v, name) for name in SHEET}
    bk = banking
    banks = entrants.entrant_banks(bk.size_cdf, us[:, 2], bk.banks.alive)
    # the drawn bank lends within its large-exposure limit, the banks with most capital the rest
    banks = bk.place_entrants(rows, banks, sec.weight[s_of], sheet["loans"])
    c = rules.banking
    # the entrants' rows, every field at once (as F.set_rows would write them, in one compiled call):
    # private (not SOE) SMEs of age 0 with their own cost wedge and leverage target; no pipeline,
    # upgrade, output, unfilled orders, revenue, profit, losses, exit reason or guaranteed loans
    tables.write_entrants(F.bundle(), rows, first_id, tables.EntrantValues(
        sector=s_of, bank=banks, capacity=v.capacity, productivity=v.productivity, energy_intensity=v.energy_intensity,
        share=v.share, orders=v.orders, price=v.price, markup=sec.markup0[s_of],
        loan_rate=p.policy_rate + bk.banks.margin[banks] + c.sme_premium + 0.02 * c.loss_given_default,
        cost_wedge=wedge, leverage_target=lev_target, **sheet))
    entry_cap, cash = tables.entrant_totals(v.capacity, v.cash, start, sec.weight)
    return Entered(rows, counts * sec.weight, entry_cap * sec.weight, cash)


def input_costs(io: np.ndarray, price: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Inputs from the modelled sectors per unit of output at prices `price`, of the sectors with
    entrants this month (`counts` > 0; 0 elsewhere, where nothing reads it): thirty dot products
    were made a month for the handful of sectors firms entered."""
    out = np.zeros(io.shape[1])
    for s in np.flatnonzero(counts):
        out[s] = io[:, s] @ price
    return out


def free_rows(firms, total: int) -> np.ndarray:
    """Up to `total` rows for entrants: rows of exited firms first, then rows never used (a row
    keeps a firm's data until an entrant takes it; `firm_id` tells firms apart in panels)."""
    out = np.empty(total, dtype=np.int64)
    k = sums.free_rows(firms.alive, firms.exit_reason, firms.court, total, out)
    return out[:k]
