"""The log of the rows leaving in the exit step (kernels.exit_entry).

A leaving row's work is split in two. Its own work (its fields; what it pays and is paid) depends on
its row alone, so `exit_books` does it for all leaving rows in parallel, and each row logs what it adds
to the sums that rows share (the exit table by sector, its lenders' loans and write-offs, the rescued
firms' sums) in an ExitLog; those additions are then made serially, row after row in row order
(`book_row`), so that every shared sum adds the same terms in the same order as one serial pass (bit
for bit, for any number of threads). A row adds to each cell of its sector's exit table once at most
(each mechanism to columns of its own), so its additions are one value a column (`table`, in the
columns of the bit mask `mask`: 32 at most); its lenders' books move in its one `book_loans`, made from
its logged arguments (`book`: repaid and written off per real firm, the sector weight, and the lead's
loss on its negative deposits; `lenders`: the row's range in the participations, found in the parallel
pass). `extra`: what a rescued or defaulted row adds to `exit_books`' own sums (columns E_*).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from .._numba import kernel
from .elementary import prefetch
from .exposure import lenders_of

ExitLog = namedtuple("ExitLog", ("kind", "sector", "bank", "mask", "table", "book", "lenders", "extra"))
# kinds of leaving row: an estate liquidated, a firm kept by a soft budget or evergreening, a default, a
# solvent closure
K_SETTLED, K_SUPPORTED, K_EVERGREENED, K_DEFAULTED, K_CLOSED = range(5)
B_REPAID, B_WRITE_OFF, B_WEIGHT, B_OVERDRAFT = range(4)  # columns of ExitLog.book
E_CAPACITY, E_PIPELINE, E_ZOMBIE, E_LOANS, E_LATE, E_DEPOSITS = range(6)  # columns of ExitLog.extra


@kernel
def exit_log(m, n_columns):
    """An empty log for m leaving rows."""
    return ExitLog(np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64),
                   np.zeros(m, dtype=np.uint32), np.zeros((m, n_columns)), np.zeros((m, 4)),
                   np.zeros((m, 2), dtype=np.int64), np.zeros((m, 6)))


@kernel
def log_table(k, col, amount, log):
    """Row k adds `amount` to column `col` of its sector's exit table (once a column). Callers pass the
    column as `np.int64(X_...)`: numba compiles a function called with a constant once for each
    value (a `Literal[int]` argument), and the exit kernels' 20 columns made 40 versions of this one
    (~6 s of a cold compile)."""
    log.mask[k] |= np.uint32(1 << col)
    log.table[k, col] = amount


@kernel
def log_lenders(i, k, repaid, write_off, w, prow, log):
    """Row i (the k-th leaving) books `repaid` and `write_off` (per real firm) with its lenders
    (`book_loans`, from `book_row`); prow: the participations' rows (kernels.exposure.Parts)."""
    log.book[k, B_REPAID] = repaid
    log.book[k, B_WRITE_OFF] = write_off
    log.book[k, B_WEIGHT] = w
    lo, hi = lenders_of(prow, np.int64(i))
    log.lenders[k, 0] = lo
    log.lenders[k, 1] = hi


# `book_loans` and `book_row` are inlined into their callers (the serial replay of `exit_books`, and
# `forced_closures`): as calls, each leaving row passed the log, the bank bundle, params and books (some
# 100 pointer arguments) to one and they to the other, 0.8 ms of `exit_books`' 4.6-5.3 (one thread,
# CPU, 1:1 on this session's host: benchmarks/RESULTS.md, session 20)
@njit(inline="always")
def book_loans(b, lo, hi, repaid, write_off, w, banks, books):
    """A row's lenders take their shares (participations lo to hi, the lead b the rest): `repaid`
    (per real firm) leaves their books with the `write_off` (per real firm, net of the fund's share),
    which goes into books.writeoff by bank."""
    writeoff, parts = books.writeoff, books.parts
    lead = 1.0
    for q in range(lo, hi):
        p = np.uint64(parts.bank[q])
        sh = parts.share[q]
        banks.loans[p] -= sh * (w * (repaid + write_off))
        writeoff[p] += sh * (w * write_off)
        lead -= sh
    banks.loans[b] -= lead * (w * (repaid + write_off))
    writeoff[b] += lead * (w * write_off)


@njit(inline="always")
def book_row(k, log, banks, params, books):
    """Row k's logged additions to the shared sums: its lenders' books, the lead's loss on negative
    deposits (the closed economy), the exit table."""
    kind = log.kind[k]
    b = np.uint64(log.bank[k])
    book = log.book
    if kind != K_SUPPORTED:
        book_loans(b, log.lenders[k, 0], log.lenders[k, 1], book[k, B_REPAID], book[k, B_WRITE_OFF],
                    book[k, B_WEIGHT], banks, books)
    if params.book_overdrafts and (kind == K_DEFAULTED or kind == K_CLOSED):
        books.writeoff[b] += book[k, B_OVERDRAFT]
    table = books.table
    s = np.uint64(log.sector[k])
    mask = log.mask[k]
    for col in range(table.shape[1]):
        if (mask >> np.uint32(col)) & np.uint32(1):
            table[s, col] += log.table[k, col]


# the leaving rows' fields `exit_books`' row work (`_leave`) reads, fetched AHEAD rows ahead: the leaving
# rows lie at random among the rows, each field of each a cache miss the row's work waited for (1.0 ms
# of `exit_books`' 4.6-5.3 on one thread at 1:1, this session's host)
AHEAD = 8


@njit(inline="always")
def prefetch_leaving(rows, k, firms):
    """Fetch the fields of leaving row rows[k + AHEAD] (of rows[k] near the end); no effect on results."""
    j = k + AHEAD
    a = np.uint64(rows[j] if j < rows.shape[0] else rows[k])
    prefetch(firms.alive, a)
    prefetch(firms.sector, a)
    prefetch(firms.bank, a)
    prefetch(firms.exit_reason, a)
    prefetch(firms.cash, a)
    prefetch(firms.loans, a)
    prefetch(firms.other_assets, a)
    prefetch(firms.capital, a)
    prefetch(firms.other_liab, a)
    prefetch(firms.capacity, a)
    prefetch(firms.pipeline, a)
    prefetch(firms.pipeline_cost, a)
    prefetch(firms.share, a)
    prefetch(firms.guaranteed, a)
    prefetch(firms.sme, a)
    prefetch(firms.court, a)
    prefetch(firms.net_worth, a)
