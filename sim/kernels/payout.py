"""Distributions of excess liquidity (the closed economy, sim.economy): a firm whose deposits exceed
its liquidity target pays part of the excess to its owners each month, so that firms' saving does
not pile up as deposits the economy never spends (the industries' deposits rose from 11 to 30 trn
yuan in five years without it)."""

from __future__ import annotations

import numpy as np
from numba import prange

from .._numba import chunks, kernel, rows_of


@kernel(parallel=True)
def pay_out_excess_cash(firms, weight, target, speed, paid):
    """For each live firm: excess = deposits - target x annual revenue (this month's revenue x 12);
    when positive, `speed` of it is paid out (deposits fall). firms: FirmState (cash written);
    weight: real firms per model firm by sector; target: liquidity target by sector, share of annual
    revenue; speed: share of the excess paid a month; paid: by sector, economy-wide yuan (written).
    Sums in fixed chunks of rows (the same whatever the thread count)."""
    cash = firms.cash  # written inside prange: bound to a local (a write through firms.cash[i] is lost)
    alive = firms.alive
    sector = firms.sector
    revenue = firms.revenue
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, paid.shape[0]))
    for c in prange(nc):
        t = part[c]
        for i in rows_of(c, cs, n):
            if not alive[i]:
                continue
            s = np.uint64(sector[i])
            excess = cash[i] - target[s] * 12.0 * revenue[i]
            if excess > 0.0:
                pay = speed * excess
                cash[i] = cash[i] - pay
                t[s] += weight[s] * pay
    paid[:] = 0.0
    for c in range(nc):
        paid[:] += part[c]
