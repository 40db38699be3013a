"""Exit (MODEL.md step 9): bankruptcy, voluntary exit after sustained losses or a vanishing market
share, forced closure of backward capacity. Entry (step 10) is array code in sim/phases/entry.py:
entrants are few per month.

On every exit the firm's loan leaves its bank's books: the part creditors recover is repaid, the
guarantee fund pays its share of the loss, the bank writes off the rest.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import prange

from .._numba import chunks, kernel, rows_of
from ..state import EXIT_BANKRUPTCY, EXIT_FORCED, EXIT_VOLUNTARY
from .exposure import lenders_of, shift_loans
from .sums import book_gap

# columns of the per-sector exit table
(X_BANKRUPT, X_VOLUNTARY, X_FORCED, X_RETIRED, X_WRITE_OFF, X_RESIDUAL, X_COMPENSATION, X_LOANS_REPAID,
 X_BANKRUPT_SME, X_BANKRUPT_LARGE, X_CASH, X_FUND_PAYOUT, X_SCRAP, X_OVERDRAFT) = range(14)
N_EXIT = 14  # X_SCRAP: what the buyers of closed plant pay for it; X_OVERDRAFT: negative deposits left at exit


# the scalar parameters of exit (the behaviour settings of the same names)
EXIT_FIELDS = {
    "loss_months_exit": (int, "consecutive loss-making months after which a firm exits"),
    "recovery_rate": (float, "share of a closed firm's fixed capital its creditors recover"),
    "book_overdrafts": (bool, "the bank books a closed firm's negative deposits as a loss (the closed economy; "
                              "without it they vanish from the deposits with no one bearing them)"),
}
ExitParams = namedtuple("ExitParams", tuple(EXIT_FIELDS))


def exit_params(behaviour, book_overdrafts: bool = False) -> ExitParams:
    values = {"book_overdrafts": book_overdrafts}
    return ExitParams(*(kind(values[name] if name in values else getattr(behaviour, name))
                        for name, (kind, _) in EXIT_FIELDS.items()))


@kernel
def _close(i, reason, compensation, firms, banks, sectors, params, writeoff, table, parts):
    """Liquidate firm i: creditors recover cash, compensation and part of the fixed capital; the fund
    pays its share of the loss; the banks write off the rest (into `writeoff`, by bank: each lender
    its share, kernels.exposure; an overdraft is the lead's, where the deposits are); any residual
    goes to the owners. Serial (called outside any prange), so it writes through the bundles'
    attributes."""
    s = np.uint64(firms.sector[i])
    w = sectors.weight[s]
    cash, capital, loans, guaranteed = firms.cash, firms.capital, firms.loans, firms.guaranteed
    c = cash[i] + compensation
    scrap = params.recovery_rate * capital[i]
    liquid = (c if c > 0 else 0.0) + scrap
    overdraft = -c if c < 0 else 0.0
    if liquid >= loans[i]:
        residual = liquid - loans[i]
        loss = 0.0
        repaid = loans[i]
    else:
        residual = 0.0
        loss = loans[i] - liquid
        repaid = liquid
    gshare = guaranteed[i] / loans[i] if loans[i] > 0 else 0.0
    if gshare > 1.0:
        gshare = 1.0
    payout = loss * gshare
    b = np.uint64(firms.bank[i])
    lead = 1.0
    lo, hi = lenders_of(parts.row, np.int64(i))
    for q in range(lo, hi):
        p = np.uint64(parts.bank[q])
        sh = parts.share[q]
        banks.loans[p] -= sh * (w * loans[i])
        writeoff[p] += sh * (w * (loss - payout))
        lead -= sh
    banks.loans[b] -= lead * (w * loans[i])
    writeoff[b] += lead * (w * (loss - payout))
    if params.book_overdrafts:
        writeoff[b] += w * overdraft
    table[s, X_SCRAP] += scrap
    table[s, X_OVERDRAFT] += overdraft
    table[s, X_RETIRED] += firms.capacity[i] + firms.pipeline[i]
    table[s, X_WRITE_OFF] += loss - payout
    table[s, X_FUND_PAYOUT] += payout
    table[s, X_RESIDUAL] += residual
    table[s, X_LOANS_REPAID] += repaid
    table[s, X_COMPENSATION] += compensation
    table[s, X_CASH] -= cash[i]  # the firm's deposits leave it (to creditors and owners)
    firms.alive[i] = False
    firms.exit_reason[i] = reason
    firms.capacity[i] = 0.0
    firms.pipeline[i] = 0.0
    firms.pipeline_cost[i] = 0.0
    firms.share[i] = 0.0
    loans[i] = 0.0
    guaranteed[i] = 0.0
    cash[i] = 0.0
    capital[i] = 0.0


@kernel(parallel=True)
def exits(firms, banks, sectors, params, min_share, writeoff, table, totals, parts):
    """Bankruptcy when net worth or cash (after credit) is negative; voluntary exit after
    `loss_months_exit` consecutive loss-making months or when the market share has fallen below
    the sector's minimum (Dosi et al. 2010).

    Two passes: the decisions in parallel (the reason goes to `exit_reason` of a row still alive,
    the row to its chunk's list of exits), then the closures one by one in row order (they move
    bank books and the exit table), through the chunks' lists rather than over all rows. The
    survivors' sums come out of the first pass, each in the chunks and order of the kernel that
    would otherwise sum it (so the same numbers): number, capacity and pipeline by sector into
    `totals` (sums.sector_totals), the loans each bank's firms owe it into `firm_side`
    (sums.loan_gap), and their deposits (sums.weighted_sum of cash). Returns the deposits and the
    largest gap between a bank's books and its firms' loans.

    firms: FirmState; banks: BankState (their loans move with each closure); sectors:
    SectorTables; params: ExitParams; min_share: by sector; writeoff: loans written off this
    month, by bank (added to); table: the exit table (columns X_*), written; totals: (sector, 3);
    parts: the participations (kernels.exposure.Parts: each lender's share of a row's loan)."""
    # arrays the parallel loop writes must be bound to locals before it (a write through
    # `firms.x[i]` inside prange is lost); the reads are bound too, so the loop is unchanged
    exit_reason = firms.exit_reason
    alive = firms.alive
    sector = firms.sector
    sme = firms.sme
    cash = firms.cash
    net_worth = firms.net_worth
    loss_months = firms.loss_months
    share = firms.share
    capacity = firms.capacity
    pipeline = firms.pipeline
    bank = firms.bank
    loans = firms.loans
    weight = sectors.weight
    bank_loans = banks.loans
    loss_months_exit = params.loss_months_exit
    firm_side = np.empty(bank_loans.shape[0])  # the loans each bank's survivors owe it
    table[:, :] = 0.0
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, totals.shape[0], 3))
    part_bank = np.zeros((nc, firm_side.shape[0]))
    part_dep = np.zeros((nc, 8))  # padded: chunks write their own cache line
    leaving = np.empty(n, dtype=np.int64)  # chunk c's exiting rows from c * cs on, in row order
    n_leaving = np.zeros(nc, dtype=np.int64)
    for c in prange(nc):
        t = part[c]
        fs = part_bank[c]
        dep = 0.0
        k = np.int64(c) * cs
        for i in rows_of(c, cs, n):
            if not alive[i]:
                continue
            s = np.uint64(sector[i])
            cash_i = cash[i]
            if net_worth[i] < 0 or cash_i < 0:
                exit_reason[i] = EXIT_BANKRUPTCY
                leaving[k] = i
                k += 1
            elif loss_months[i] >= loss_months_exit or share[i] < min_share[s]:
                exit_reason[i] = EXIT_VOLUNTARY
                leaving[k] = i
                k += 1
            else:
                w = weight[s]
                t[s, 0] += 1.0
                t[s, 1] += capacity[i]
                t[s, 2] += pipeline[i]
                fs[np.uint64(bank[i])] += w * loans[i]
                dep += w * cash_i
        part_dep[c, 0] = dep
        n_leaving[c] = k - np.int64(c) * cs
    for c in range(nc):
        for k in range(c * cs, c * cs + n_leaving[c]):
            i = np.uint64(leaving[k])
            s = np.uint64(sector[i])
            reason = exit_reason[i]
            if reason == EXIT_BANKRUPTCY:
                table[s, X_BANKRUPT] += 1
                table[s, X_BANKRUPT_SME if sme[i] else X_BANKRUPT_LARGE] += 1
            else:
                table[s, X_VOLUNTARY] += 1
            _close(i, reason, 0.0, firms, banks, sectors, params, writeoff, table, parts)
    totals[:] = 0.0
    firm_side[:] = 0.0
    deposits = 0.0
    for c in range(nc):
        totals[:] += part[c]
        firm_side[:] += part_bank[c]
        deposits += part_dep[c, 0]
    shift_loans(parts, alive, bank, sector, weight, loans, np.zeros(0), firm_side)  # the survivors' participations
    return deposits, book_gap(firm_side, bank_loans)


@kernel
def forced_closures(order, fraction, compensation, firms, banks, sectors, params, writeoff, table, parts):
    """Close the firms in `order` (fraction 1: the whole firm; below 1: that share of its capacity,
    scrapping the same share of its fixed capital). The government pays compensation as a share of
    the book value of the capital closed (`compensation`, by sector). Serial: it writes through the
    bundles' attributes."""
    for k in range(order.shape[0]):
        i = np.uint64(order[k])
        s = np.uint64(firms.sector[i])
        f = fraction[k]
        if f >= 1.0:
            comp = compensation[s] * firms.capital[i]
            table[s, X_FORCED] += 1
            _close(i, EXIT_FORCED, comp, firms, banks, sectors, params, writeoff, table, parts)
        else:
            comp = compensation[s] * firms.capital[i] * f
            firms.cash[i] += comp
            table[s, X_CASH] += comp
            table[s, X_COMPENSATION] += comp
            table[s, X_RETIRED] += firms.capacity[i] * f
            firms.capacity[i] -= firms.capacity[i] * f
            firms.capital[i] -= firms.capital[i] * f
