"""Exit (MODEL.md step 9): bankruptcy, voluntary exit after sustained losses, forced closure of
backward capacity. Entry (step 10) is array code in sim/model.py: entrants are few per month."""

from __future__ import annotations

from .._numba import kernel
from ..state import EXIT_BANKRUPTCY, EXIT_FORCED, EXIT_VOLUNTARY

# columns of the per-sector exit table
(X_BANKRUPT, X_VOLUNTARY, X_FORCED, X_RETIRED, X_WRITE_OFF, X_RESIDUAL, X_COMPENSATION, X_LOANS_REPAID,
 X_BANKRUPT_SME, X_BANKRUPT_LARGE) = range(10)
N_EXIT = 10


@kernel
def _close(i, reason, compensation, recovery, cash, capital, other_assets, other_liab, loans, capacity, pipeline,
           share, alive, exit_reason, table):
    """Liquidate firm i: creditors recover cash, compensation and part of the fixed capital; the
    rest of the loan is written off; any residual goes to the owners."""
    s_cash = cash[i] + compensation
    liquid = (s_cash if s_cash > 0 else 0.0) + recovery * capital[i]
    if liquid >= loans[i]:
        residual = liquid - loans[i]
        loss = 0.0
        repaid = loans[i]
    else:
        residual = 0.0
        loss = loans[i] - liquid
        repaid = liquid
    alive[i] = False
    exit_reason[i] = reason
    retired = capacity[i] + pipeline[i]
    capacity[i] = 0.0
    pipeline[i] = 0.0
    share[i] = 0.0
    loans[i] = 0.0
    cash[i] = 0.0
    capital[i] = 0.0
    return retired, loss, residual, repaid


@kernel
def exits(alive, sector, sme, cash, capital, other_assets, other_liab, loans, net_worth, loss_months, capacity,
          pipeline, share, min_share, loss_months_exit, recovery, exit_reason, table):
    """Bankruptcy when net worth or cash (after credit) is negative; voluntary exit after
    `loss_months_exit` consecutive loss-making months or when the market share has fallen below
    the sector's minimum (Dosi et al. 2010)."""
    table[:, :] = 0.0
    for i in range(alive.shape[0]):
        if not alive[i]:
            continue
        s = sector[i]
        if net_worth[i] < 0 or cash[i] < 0:
            reason = EXIT_BANKRUPTCY
            table[s, X_BANKRUPT] += 1
            table[s, X_BANKRUPT_SME if sme[i] else X_BANKRUPT_LARGE] += 1
        elif loss_months[i] >= loss_months_exit or share[i] < min_share[s]:
            reason = EXIT_VOLUNTARY
            table[s, X_VOLUNTARY] += 1
        else:
            continue
        retired, loss, residual, repaid = _close(i, reason, 0.0, recovery, cash, capital, other_assets, other_liab,
                                                 loans, capacity, pipeline, share, alive, exit_reason, table)
        table[s, X_RETIRED] += retired
        table[s, X_WRITE_OFF] += loss
        table[s, X_RESIDUAL] += residual
        table[s, X_LOANS_REPAID] += repaid


@kernel
def forced_closures(order, fraction, comp_rate, sector, recovery, cash, capital, other_assets, other_liab, loans,
                    capacity, pipeline, share, alive, exit_reason, table):
    """Close the firms in `order` (fraction 1: the whole firm; below 1: that share of its capacity,
    scrapping the same share of its fixed capital). The government pays compensation as a share of
    the book value of the capital closed."""
    for k in range(order.shape[0]):
        i = order[k]
        s = sector[i]
        f = fraction[k]
        if f >= 1.0:
            comp = comp_rate[s] * capital[i]
            retired, loss, residual, repaid = _close(i, EXIT_FORCED, comp, recovery, cash, capital, other_assets,
                                                     other_liab, loans, capacity, pipeline, share, alive,
                                                     exit_reason, table)
            table[s, X_FORCED] += 1
            table[s, X_RETIRED] += retired
            table[s, X_WRITE_OFF] += loss
            table[s, X_RESIDUAL] += residual
            table[s, X_LOANS_REPAID] += repaid
        else:
            comp = comp_rate[s] * capital[i] * f
            cash[i] += comp
            table[s, X_RETIRED] += capacity[i] * f
            capacity[i] -= capacity[i] * f
            capital[i] -= capital[i] * f
        table[s, X_COMPENSATION] += comp
