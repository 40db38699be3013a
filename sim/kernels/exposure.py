"""Large exposures (MODEL.md step 7): a bank's loans to one borrower are limited, and a firm row's
loans are spread over several banks.

A firm row stands for `weight` real firms of its sector; a modelled bank for `bank_weight` =
banking.banks_total / run.banks real banks of equal size. The row's book at a bank (economy-wide
yuan) is held by its real firms at the group's real banks, spread evenly over max(weight,
bank_weight) loans, so one real firm's loan at one real bank is book / max(weight, bank_weight). It
may not exceed `banking.large_exposure_limit` (10%) of that real bank's net capital, equity /
bank_weight (CBIRC 2018, Measures for the Administration of Large Exposures of Commercial Banks, and
the Commercial Banking Law art. 39: loans to one borrower at most 10% of the bank's net capital). So
a row's book at bank b is at most cap = unit_b x max(weight, bank_weight), unit_b = limit x
equity_b / bank_weight (`units`). At 1:1 (one row per real firm, one modelled bank per real bank) it
is the rule itself.

A row's loan (firms.loans, per real firm) is held by its lead bank (firms.bank: its largest lender,
where it keeps its deposits; the kernels that book interest, exposures and write-offs by bank book the whole loan
there) and by up to MAX_LENDERS - 1 participating banks, each holding a fixed share of the loan: the
table `Parts` (row, bank, share), sorted by row. Shares stay as the loan amortises, rolls over or is
written off (every lender takes its share of each flow) and change only when new credit is booked;
the lead holds 1 - (sum of the shares). The `shift_*` kernels move each participant's share of what
was booked at the lead to the participant. The table is small (only rows too large for one bank's
limit have parts), so it is kept as three arrays rather than as columns of every firm row.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from .._numba import kernel
from .credit import renewed
from .elementary import prefetch

MAX_LENDERS = 16  # banks one row may borrow from: its lead and fifteen participants (a model resolution)

Parts = namedtuple("Parts", ("row", "bank", "share"))
# place_loans' bundles: the rows to place (in `order`: their book in economy-wide yuan, real firms per
# row, risk weight and drawn bank), the banks (cap per real loan, free risk-weighted assets, indices by
# capital, largest first), and what it writes (each row's lead bank and breach flag, and the
# participations' row, bank and share buffers)
Borrowers = namedtuple("Borrowers", ("order", "book", "weight", "risk_weight", "first"))
Lenders = namedtuple("Lenders", ("unit", "free", "by_capital"))
Placement = namedtuple("Placement", ("lead", "over", "row", "bank", "share"))
# what shift_loans reads of the firms (FirmState's fields of these names)
LoanRows = namedtuple("LoanRows", ("alive", "court", "bank", "sector", "loans"))
# what shift_exposures reads of the firms and writes of the banks (BankState's fields of these names)
ExposureRows = namedtuple("ExposureRows", ("alive", "bank", "sector", "sme", "loans", "guaranteed", "loss_months",
                                           "court"))
ExposureBooks = namedtuple("ExposureBooks", ("guaranteed", "loans_doubtful", "loans_large", "loans_loss", "loans_sme",
                                             "loans_special", "loans_substandard", "npl", "rwa"))


def no_parts() -> Parts:
    return Parts(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))


def units(equity: np.ndarray, alive: np.ndarray, limit: float, bank_weight: float) -> np.ndarray:
    """The largest loan to one real firm at one real bank of each modelled bank (yuan): `limit` of
    a real bank's net capital (equity / bank_weight); 0 for a closed bank or one without capital."""
    return np.where(alive, limit * np.maximum(equity, 0.0) / bank_weight, 0.0)


@kernel
def merge_parts(parts, dropped, n_rows, new):
    """The parts table (sorted by row) without the participations of the rows `dropped` (any order),
    with the participations `new` (any order) joined: as a stable argsort by row of the kept entries
    followed by the new ones (a row's entries keep their order, kept ones before new ones), by a
    merge instead of the sort (numpy's mark, masks, concatenations and sort: 28 us a month of a
    small economy, 0.6 ms at 1:1). `n_rows`: the firm rows (the marks of the dropped)."""
    prow, pbank, pshare = parts
    keep = np.ones(prow.shape[0], dtype=np.bool_)
    if dropped.shape[0] and prow.shape[0]:
        mark = np.zeros(n_rows, dtype=np.bool_)
        for r in dropped:
            mark[r] = True
        for k in range(prow.shape[0]):
            keep[k] = not mark[prow[k]]
    order = np.argsort(new.row, kind="mergesort")  # stable
    n_old = np.count_nonzero(keep)
    n = n_old + order.shape[0]
    row = np.empty(n, dtype=np.int64)
    bank = np.empty(n, dtype=np.int64)
    share = np.empty(n)
    k = 0  # next entry of the old table
    j = 0  # next of the new, sorted
    for at in range(n):
        while k < prow.shape[0] and not keep[k]:
            k += 1
        if k < prow.shape[0] and (j == order.shape[0] or prow[k] <= new.row[order[j]]):
            row[at], bank[at], share[at] = prow[k], pbank[k], pshare[k]
            k += 1
        else:
            q = order[j]
            row[at], bank[at], share[at] = new.row[q], new.bank[q], new.share[q]
            j += 1
    return Parts(row, bank, share)


@kernel
def lenders_of(prow, i):
    """The range [lo, hi) of row i's entries in the parts table (sorted by row)."""
    lo = np.searchsorted(prow, i)
    return lo, entries_end(prow, lo, i)


@kernel
def entries_end(prow, lo, i):
    """The end of row i's entries in the parts table (sorted by row) that start at `lo`."""
    hi = lo
    while hi < prow.shape[0] and prow[hi] == i:
        hi += 1
    return hi


@kernel
def shift_loans(parts, firms, weight, rate, out):
    """Move each participant's share of weight x loans (booked at the lead: the loans a bank's firms
    owe it, the estates in the court procedure included, `court` > 0), or with `rate` (by row; length
    0: none) of the month's interest weight x loans x rate / 12 (live rows only: an estate pays no
    interest), from the lead's entry of `out` to the participant's. firms: LoanRows or FirmState (reads alive,
    court, bank, sector, loans); weight: by sector."""
    row, pbank, share = parts.row, parts.bank, parts.share
    alive, court, bank, sector, loans = firms.alive, firms.court, firms.bank, firms.sector, firms.loans
    interest = rate.shape[0] > 0
    for k in range(row.shape[0]):
        a = _ahead(row, k)
        prefetch(bank, a)
        prefetch(loans, a)
        if interest:
            prefetch(rate, a)
        i = np.uint64(row[k])
        if not alive[i] and (interest or court[i] == 0):
            continue
        x = loans[i] * rate[i] / 12.0 if interest else loans[i]
        v = share[k] * (weight[np.uint64(sector[i])] * x)
        out[np.uint64(bank[i])] -= v
        out[np.uint64(pbank[k])] += v


# parts ahead whose row's fields the `shift_*` loops fetch: the parts' rows (sorted, about one in 30
# of the rows at 1:1) are a cache miss each in every field read, which the hardware prefetcher does
# not see coming (`elementary.prefetch`)
_AHEAD = 16


@njit(inline="always")
def _ahead(row, k):
    """The row of part k + _AHEAD (of part k near the end)."""
    j = k + _AHEAD
    return np.uint64(row[j] if j < row.shape[0] else row[k])


@kernel
def shift_repayments(parts, alive, bank, sector, weight, scratch, bank_loans):
    """The lead booked a row's repayment less its renewal (scratch: ScratchState, reads repaid and
    the renewal, `credit.renewed`); each participant takes its share."""
    row, pbank, share = parts.row, parts.bank, parts.share
    granted, repaid, rolled = scratch.granted, scratch.repaid, scratch.rolled
    for k in range(row.shape[0]):
        a = _ahead(row, k)
        prefetch(alive, a)
        prefetch(bank, a)
        prefetch(sector, a)
        prefetch(granted, a)
        prefetch(repaid, a)
        prefetch(rolled, a)
        i = np.uint64(row[k])
        if not alive[i]:
            continue
        v = share[k] * weight[np.uint64(sector[i])] * (repaid[i] - renewed(granted, repaid, rolled, i))
        bank_loans[np.uint64(bank[i])] += v
        bank_loans[np.uint64(pbank[k])] -= v


@njit(inline="always")
def risk_weight(loans, guaranteed, sme, rw_sme, rw_large, rw_g):
    """A row's risk weight as accounting.month_sums makes it: its class's weight on the part the
    guarantee fund does not cover, rw_g on the covered part."""
    gshare = min(guaranteed / max(loans, 1e-300), 1.0) if loans > 0 else 0.0
    return (rw_sme if sme else rw_large) * (1 - gshare) + rw_g * gshare


# loan categories (CBIRC five-category classification); the last three are non-performing
NORMAL, SPECIAL_MENTION, SUBSTANDARD, DOUBTFUL, LOSS = range(5)
CATEGORIES = ("normal", "special_mention", "substandard", "doubtful", "loss")


@njit(inline="always")
def loan_category(live, loss_months, court, special_months, substandard_after, doubtful_after, loss_after):
    """A row's loan category: a live firm's loan is normal, or special mention after `special_months`
    loss-making months; an estate's (a firm in the court procedure since it defaulted `court` months
    ago, as many months past due) is special mention up to `substandard_after` months past due,
    then substandard, doubtful after `doubtful_after`, loss after `loss_after`."""
    if live:
        return SPECIAL_MENTION if loss_months >= special_months else NORMAL
    if court <= substandard_after:
        return SPECIAL_MENTION
    if court <= doubtful_after:
        return SUBSTANDARD
    if court <= loss_after:
        return DOUBTFUL
    return LOSS


@kernel
def shift_exposures(parts, firms, sectors, params, banks, firm_loans):
    """As accounting.month_sums books a row's exposures at its lead (loans by size class, guaranteed
    loans, risk-weighted assets, loans by category, the loans its firms owe it), each participant
    takes its share; for live rows and estates in the court procedure. Deposits stay with the lead.
    firms: ExposureRows (or FirmState); sectors: credit.Weights (or SectorTables); params:
    accounting.SumsParams; banks: ExposureBooks (or BankState)."""
    row, pbank, share = parts.row, parts.bank, parts.share
    alive, bank, sector, sme = firms.alive, firms.bank, firms.sector, firms.sme
    loans, guaranteed, loss_months, court = firms.loans, firms.guaranteed, firms.loss_months, firms.court
    weight = sectors.weight
    rw_sme, rw_large, rw_g = params.risk_weight_sme, params.risk_weight_large, params.risk_weight_guaranteed
    for k in range(row.shape[0]):
        a = _ahead(row, k)
        prefetch(alive, a)
        prefetch(court, a)
        prefetch(bank, a)
        prefetch(sector, a)
        prefetch(sme, a)
        prefetch(loans, a)
        prefetch(guaranteed, a)
        prefetch(loss_months, a)
        i = np.uint64(row[k])
        live = alive[i]
        if not live and court[i] == 0:
            continue
        w = weight[np.uint64(sector[i])]
        loans_i = loans[i]
        g_i = guaranteed[i]
        lw = w * loans_i
        rw = risk_weight(loans_i, g_i, sme[i], rw_sme, rw_large, rw_g)
        cat = loan_category(live, loss_months[i], court[i], params.special_mention_months,
                            params.substandard_after_months, params.doubtful_after_months, params.loss_after_months)
        lead = np.uint64(bank[i])
        p = np.uint64(pbank[k])
        sh = share[k]
        for b, sign in ((lead, -1.0), (p, 1.0)):
            v = sign * sh
            if sme[i]:
                banks.loans_sme[b] += v * lw
            else:
                banks.loans_large[b] += v * lw
            banks.guaranteed[b] += v * w * g_i
            banks.rwa[b] += v * rw * lw
            if cat == SPECIAL_MENTION:
                banks.loans_special[b] += v * lw
            elif cat == SUBSTANDARD:
                banks.loans_substandard[b] += v * lw
                banks.npl[b] += v * lw
            elif cat == DOUBTFUL:
                banks.loans_doubtful[b] += v * lw
                banks.npl[b] += v * lw
            elif cat == LOSS:
                banks.loans_loss[b] += v * lw
                banks.npl[b] += v * lw
            firm_loans[b] += v * lw


@kernel
def place_loans(rows, banks, bank_weight, out):
    """Place rows' loans with banks within the large-exposure limit. Rows in `order`: row r's book
    (economy-wide yuan, book[r], risk weight rw[r]) goes first to its drawn bank first[r], up to that
    bank's cap unit[b] x max(wr[r], bank_weight) and the bank's free risk-weighted assets free[b] (its
    target at set-up; infinite for entrants); the rest to the banks in `by_capital` (largest capital
    first, from the first with free assets left), each up to its cap, at most MAX_LENDERS banks in
    all. What no bank can take within the limit is shared by the row's lenders in proportion to their
    caps (a breach: over[r] is set, and counted). Writes lead[r] (the bank that took the largest
    part, first among equals: the firm's main bank, where its deposits are) and the participants'
    entries (row, bank, share of the book) into prow, pbank, pshare; returns (entries, breaches, the
    book placed beyond the limit), or -1 entries if the buffers are too small.

    rows: Borrowers (order, book, wr = weight, rw = risk_weight, first); banks: Lenders (unit, free,
    by_capital); out: Placement (lead, over, prow = row, pbank = bank, pshare = share)."""
    order, book, wr, rw, first = rows.order, rows.book, rows.weight, rows.risk_weight, rows.first
    unit, free, by_capital = banks.unit, banks.free, banks.by_capital
    lead, over, prow, pbank, pshare = out.lead, out.over, out.row, out.bank, out.share
    n_b = unit.shape[0]
    used = np.empty(MAX_LENDERS, dtype=np.int64)
    took = np.empty(MAX_LENDERS)
    n_p = 0
    breaches = 0
    beyond = 0.0
    gp = 0  # banks before by_capital[gp] have no free book left
    for r in order:
        rem = book[r]
        b0 = first[r]
        lead[r] = b0
        over[r] = False
        rw_r = rw[r] if rw[r] > 0.0 else 1.0
        if rem <= 0.0:
            continue
        scale = wr[r] if wr[r] > bank_weight else bank_weight
        k = 0
        b = b0
        j = gp
        while True:
            if b >= 0:
                take = unit[b] * scale
                if free[b] < take * rw_r:
                    take = free[b] / rw_r
                if take > rem:
                    take = rem
                if take > 0.0:
                    used[k] = b
                    took[k] = take
                    k += 1
                    free[b] -= take * rw_r
                    rem -= take
            if rem <= 1e-12 * book[r] or k == MAX_LENDERS:
                break
            while gp < n_b and free[by_capital[gp]] <= 0.0:
                gp += 1
            if j < gp:
                j = gp
            b = -1
            while j < n_b:  # the next bank with free book and room under its cap
                c = by_capital[j]
                j += 1
                if free[c] > 0.0 and unit[c] > 0.0:
                    seen = False
                    for q in range(k):
                        seen = seen or used[q] == c
                    if not seen:
                        b = c
                        break
            if b < 0:
                break
        if k == 0:  # no bank can lend to it within the limit: its drawn bank holds the loan
            used[0] = b0
            took[0] = 0.0
            k = 1
        if rem > 1e-12 * book[r]:
            breaches += 1
            beyond += rem
            over[r] = True
        if rem > 0.0:  # shared by the lenders in proportion to their caps (the last one takes the rounding)
            caps = 0.0
            for q in range(k):
                caps += unit[used[q]]
            left = rem
            for q in range(k):
                x = rem * unit[used[q]] / caps if caps > 0.0 and q < k - 1 else left
                took[q] += x
                free[used[q]] -= x * rw_r
                left -= x
        main = 0  # the lead is the largest lender (the firm's main bank, which keeps its deposits)
        for q in range(1, k):
            if took[q] > took[main]:
                main = q
        lead[r] = used[main]
        total = book[r]
        if n_p + k > prow.shape[0]:
            return -1, 0, 0.0  # the buffer is too small: the caller retries with a larger one
        for q in range(k):
            if q != main:
                prow[n_p] = r
                pbank[n_p] = used[q]
                pshare[n_p] = took[q] / total
                n_p += 1
    return n_p, breaches, beyond
