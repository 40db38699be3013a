"""Entrants' start-up values compiled (kernels.entrants) are the numpy expressions phases.entry
computed, bit for bit, room fitting and a zero demand included."""

import numpy as np

from sim.kernels import tables
from sim.kernels.entrants import EntrantRates, entrant_values
from sim.phases.entry import EntrantSectors


def test_entrant_values_as_numpy():
    rng = np.random.default_rng(4)
    n_s, counts = 6, np.array([3, 0, 5, 1, 2, 4])
    start = np.concatenate(([0], np.cumsum(counts)))
    s_of = np.repeat(np.arange(n_s), counts)
    n = s_of.size
    sec = EntrantSectors(*(rng.random(n_s) + 0.1 for _ in EntrantSectors._fields))
    sec = sec._replace(room=np.array([np.inf, 1.0, 0.05, np.inf, 0.0, 2.0]),
                       demand_per_firm=np.array([1.0, 0.0, 2.0, 1e-13, 3.0, 1.0]))
    grow, pf, ef = np.exp(rng.normal(size=n)), np.exp(-rng.random(n)), np.exp(rng.random(n))
    r = EntrantRates(0.4, 0.55, 0.6, 1.3, 0.12, 0.55)
    got = entrant_values(s_of, start, grow, pf, ef, sec, r)
    cap = r.entrant_size * sec.median_capacity[s_of] * grow
    tables.fit_to_room(cap, start, sec.room)
    prod_, ei = sec.frontier_a[s_of] * pf, sec.frontier_ei[s_of] * ef
    q = cap * sec.util_target[s_of]
    unit_cost = (sec.va_cost[s_of] / prod_ + sec.energy_share[s_of] * ei + sec.inputs[s_of] + sec.materials[s_of]
                 + sec.wedge_level[s_of])
    rev = 12.0 * q
    capital, cash, other = sec.cap_output[s_of] * rev, r.cash_to_revenue * rev, r.other_assets_to_revenue * rev
    other_liab = r.debt_to_assets * (1 - r.interest_bearing_share) * (capital + cash + other)
    capital = capital * r.capital_price
    loans = 0.5 * capital
    want = (cap, prod_, ei, q, q / np.maximum(sec.demand_per_firm, 1e-12)[s_of],
            (1 + sec.markup0)[s_of] * unit_cost * sec.vat_blend[s_of], capital, cash, other, loans, other_liab,
            cash + capital + other - loans - other_liab)
    for g, w in zip(got, want, strict=True):
        assert g.tobytes() == w.tobytes()


def test_entrant_banks_as_numpy():
    """The drawn banks (kernels.entrants.entrant_banks) are numpy's searchsorted, clipped to the last
    bank, a failed bank's entrants sent to the first live bank; uniforms a column of (n, 3) draws."""
    from sim.kernels.entrants import entrant_banks

    rng = np.random.default_rng(7)
    share = rng.random(9)
    cdf = np.cumsum(share / share.sum())
    cdf[-1] = 1.0
    us = rng.random((40, 3))
    us[:3, 2] = (0.0, cdf[2], 1.0)  # on a boundary, and at the ends
    for dead in ([], [0], [0, 1, 4], [8]):
        alive = np.ones(9, dtype=bool)
        alive[dead] = False
        want = np.minimum(np.searchsorted(cdf, us[:, 2], side="right"), alive.size - 1)
        want = np.where(alive[want], want, int(np.argmax(alive)))
        got = entrant_banks(cdf, us[:, 2], alive)
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_entrants_by_sector_is_its_pieces():
    """entrants_by_sector: poisson.entrant_counts, most.max() and tables.entrant_positions in one call."""
    from sim.kernels.entrants import entrants_by_sector
    from sim.kernels.poisson import entrant_counts

    rng = np.random.default_rng(5)
    u, lam = rng.random(30), rng.random(30) * 6.0
    lam[:3] = (0.0, -1.0, 40.0)
    most = rng.integers(4, 12, 30)
    counts = entrant_counts(u, lam, most)
    want = (counts, *tables.entrant_positions(counts, int(most.max())))
    got = entrants_by_sector(u, lam, most)
    assert got[4] == int(most.max())
    for a, b in zip(got[:4], want, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
