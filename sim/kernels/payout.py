"""Distributions of excess liquidity (the closed economy, sim.economy): a firm whose deposits exceed
its liquidity target pays part of the excess to its owners each month, so that firms' saving does
not pile up as deposits the economy never spends (the industries' deposits rose from 11 to 30 trn
yuan in five years without it)."""

from __future__ import annotations

import numpy as np
from numba import prange

from .._numba import chunks, kernel, rows_of
from .credit import credit_score, default_probability
from .elementary import add_chunks


@kernel(parallel=True)
def pay_out_excess_cash(firms, weight, target, speed, score, paid):
    """For each live firm: excess = deposits - target x annual revenue (this month's revenue x 12);
    when positive, `speed` of it is paid out (deposits fall) and the firm's credit score is made
    again from what it has left (`credit.credit_scores`' rule; the others' scores are unchanged).
    firms: FirmState (cash and pd written); weight: real firms per model firm by sector; target:
    liquidity target by sector, share of annual revenue; speed: share of the excess paid a month;
    score: credit.ScoreParams; paid: by sector, economy-wide yuan (written). Returns the live firms'
    deposits after, economy-wide (as sums.weighted_sum adds them: the stock-flow check needs no pass
    of its own). Sums in fixed chunks of rows (the same whatever the thread count)."""
    cash = firms.cash  # written inside prange: bound to locals (a write through firms.cash[i] is lost)
    pd = firms.pd
    capital = firms.capital
    other_assets = firms.other_assets
    loans = firms.loans
    profit = firms.profit
    loss_months = firms.loss_months
    sme = firms.sme
    soe = firms.soe
    soe_cut = score.soe_implicit_guarantee
    alive = firms.alive
    sector = firms.sector
    revenue = firms.revenue
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, paid.shape[0]))
    part_dep = np.zeros((nc, 8))  # padded: chunks write their own cache line
    for c in prange(nc):
        t = part[c]
        dep = 0.0
        for i in rows_of(c, cs, n):
            if not alive[i]:
                continue
            s = np.uint64(sector[i])
            c_i = cash[i]
            excess = c_i - target[s] * 12.0 * revenue[i]
            if excess > 0.0:
                pay = speed * excess
                c_i = c_i - pay
                cash[i] = c_i
                t[s] += weight[s] * pay
                x = credit_score(c_i + capital[i] + other_assets[i], loans[i], profit[i], revenue[i],
                                 loss_months[i], sme[i], score)
                pd[i] = default_probability(x, soe[i], soe_cut)
            dep += weight[s] * c_i
        part_dep[c, 0] = dep
    paid[:] = 0.0
    deposits = 0.0
    add_chunks(paid, part)
    for c in range(nc):
        deposits += part_dep[c, 0]
    return deposits
