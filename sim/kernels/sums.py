"""Sums over firm rows (by sector, by bank, by size class) and small row-wise updates that the
step would otherwise do as numpy expressions over every row (masks, bincounts, temporaries).

Every sum runs in row order, as `np.bincount` does, so these kernels give the same numbers as the
numpy code they replace. Each has a plain-Python counterpart in the Mesa reference (sim/reference).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._numba import chunks, kernel, rows_of
from .elementary import add_chunks


@kernel(parallel=True)
def sector_sums(alive, sector, columns, out):
    """Per sector, the sums of each array in `columns` (a tuple of float arrays) over live rows, in
    fixed chunks of rows: out[s, j] (model-firm units)."""
    n = alive.shape[0]
    k = len(columns)
    nc, cs = chunks(n)
    part = np.zeros((nc, out.shape[0], k))
    for c in prange(nc):
        t = part[c]
        for i in rows_of(c, cs, n):
            if alive[i]:
                s = np.uint64(sector[i])
                for j in range(k):
                    t[s, j] += columns[j][i]
    out[:] = 0.0
    add_chunks(out, part)


@kernel(parallel=True)
def sector_totals(alive, sector, capacity, pipeline, out):
    """Per sector: live firms, capacity, capacity under construction (model-firm units):
    out[s] = (n, capacity, pipeline)."""
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, out.shape[0], 3))
    for c in prange(nc):
        t = part[c]
        for i in rows_of(c, cs, n):
            if alive[i]:
                s = np.uint64(sector[i])
                t[s, 0] += 1.0
                t[s, 1] += capacity[i]
                t[s, 2] += pipeline[i]
    out[:] = 0.0
    add_chunks(out, part)


@kernel(parallel=True)
def weighted_sum(alive, sector, weight, x):
    """Sum of x over live firms, each weighted by its sector's weight (economy-wide units); in fixed
    chunks of rows, so the sum does not depend on the number of threads."""
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, 8))  # padded: chunks write their own cache line
    for c in prange(nc):
        t = 0.0
        for i in rows_of(c, cs, n):
            if alive[i]:
                t += weight[np.uint64(sector[i])] * x[i]
        part[c, 0] = t
    total = 0.0
    for c in range(nc):
        total += part[c, 0]
    return total


@kernel(parallel=True)
def loan_gap(alive, court, sector, weight, bank, loans, bank_loans, firm_side):
    """Largest difference between loans on a bank's books and loans its firms owe it, the estates in
    the court procedure (`court` > 0) included (the firms' side summed in fixed chunks of rows)."""
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, firm_side.shape[0]))
    for c in prange(nc):
        fs = part[c]
        for i in rows_of(c, cs, n):
            if alive[i] or court[i] > 0:
                fs[np.uint64(bank[i])] += weight[np.uint64(sector[i])] * loans[i]
    firm_side[:] = 0.0
    add_chunks(firm_side, part)
    return book_gap(firm_side, bank_loans)


@kernel
def book_gap(firm_side, bank_loans):
    """Largest absolute difference between the loans each bank's firms owe it and its books."""
    gap = 0.0
    for b in range(bank_loans.shape[0]):
        d = abs(firm_side[b] - bank_loans[b])
        if d > gap:
            gap = d
    return gap


@kernel(parallel=True)
def reprice(alive, sector, factor, price):
    for i in prange(alive.shape[0]):
        if alive[i]:
            price[i] *= factor[np.uint64(sector[i])]


@kernel(parallel=True)
def scale_pipeline(sector, scale, pipeline, pipeline_cost):
    for i in prange(sector.shape[0]):
        f = scale[np.uint64(sector[i])]
        pipeline[i] *= f
        pipeline_cost[i] *= f


@kernel
def halt_projects(alive, sector, halted, pipeline, pipeline_cost):
    for i in range(alive.shape[0]):
        if alive[i] and halted[np.uint64(sector[i])]:
            pipeline[i] = 0.0
            pipeline_cost[i] = 0.0


@kernel
def free_rows(alive, exit_reason, court, total, out):
    """Up to `total` rows for entrants: rows of exited firms first (so the rows in use stay packed
    and the never-used rows stay at the end, where the kernels pass them by), then never-used rows.
    An estate still in the court procedure (`court` > 0) keeps its row. One pass over the rows: the
    never-used rows met on the way are kept aside (at most `total`) and follow the exited firms'."""
    k = 0
    spare = np.empty(total, dtype=np.int64)
    n_spare = 0
    for i in range(alive.shape[0]):
        if k == total:
            return k
        if alive[i]:
            continue
        if exit_reason[i] != 0:
            if court[i] == 0:
                out[k] = i
                k += 1
        elif n_spare < total:
            spare[n_spare] = i
            n_spare += 1
    for j in range(n_spare):
        if k == total:
            break
        out[k] = spare[j]
        k += 1
    return k


@kernel(parallel=True)
def classify_size(alive, capacity, threshold_month, sme):
    """Live firms are SMEs when their capacity is below the revenue threshold (monthly)."""
    for i in prange(alive.shape[0]):
        if alive[i]:
            sme[i] = capacity[i] < threshold_month


@kernel(parallel=True)
def sector_weighted_mean(alive, sector, x, weights, out):
    """Per sector, the mean of `x` over live rows weighted by `weights` (0 where the weights sum to
    0), in fixed chunks of rows: out[s] = sum w_i x_i / sum w_i."""
    n = alive.shape[0]
    n_s = out.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, n_s, 2))
    for c in prange(nc):
        t = part[c]
        for i in rows_of(c, cs, n):
            if alive[i]:
                s = np.uint64(sector[i])
                t[s, 0] += weights[i] * x[i]
                t[s, 1] += weights[i]
    tot = np.zeros((n_s, 2))
    add_chunks(tot, part)
    for s in range(n_s):
        out[s] = tot[s, 0] / tot[s, 1] if tot[s, 1] > 0 else 0.0


# numpy's float sum (np.add.reduce, `x.sum()`) is pairwise: blocks of at most PAIRWISE_BLOCK values
# are summed in eight interleaved partial sums (sequentially below eight values), and a longer run
# is split in two at half its length rounded down to a multiple of eight, each half summed so and
# the two added. Reproduced here over the values a row mask picks, without gathering them: the
# same numbers as numpy's sum of the gathered array, bit for bit (tests/test_sums_pairwise.py).
PAIRWISE_BLOCK = 128


@kernel
def _pairwise_plan(n, sizes, combines):
    """The blocks numpy's pairwise sum of n values adds up, in order (their sizes into `sizes`), and
    after each block the number of pending pairs completed (into `combines`). Returns the number of
    blocks."""
    stack = np.empty(128, dtype=np.int64)  # sizes still to visit; -1 marks a pair to add
    top = 0
    if n > 0:
        stack[0] = n
        top = 1
    k = 0
    while top > 0:
        top -= 1
        m = stack[top]
        if m < 0:
            combines[k - 1] += 1
        elif m <= PAIRWISE_BLOCK:
            sizes[k] = m
            combines[k] = 0
            k += 1
        else:
            half = m // 2
            half -= half % 8
            stack[top] = -1
            stack[top + 1] = m - half
            stack[top + 2] = half
            top += 3
    return k


@kernel
def _block_sum(buf, m):
    """numpy's sum of one block of m <= PAIRWISE_BLOCK values."""
    if m < 8:
        res = 0.0
        for i in range(m):
            res += buf[i]
        return res
    r0, r1, r2, r3, r4, r5, r6, r7 = buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7]
    i = 8
    while i < m - m % 8:
        r0 += buf[i]
        r1 += buf[i + 1]
        r2 += buf[i + 2]
        r3 += buf[i + 3]
        r4 += buf[i + 4]
        r5 += buf[i + 5]
        r6 += buf[i + 6]
        r7 += buf[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < m:
        res += buf[i]
        i += 1
    return res


@njit(cache=True, inline="always")
def _stream_plan(n):
    """A running pairwise sum of n values: its blocks' sizes and the pairs each completes
    (`_pairwise_plan`), a block buffer and a stack of partial sums. The size after the last block is
    -1, which a block's count of values never equals (values beyond n are never flushed)."""
    nb = n // 64 + 2  # blocks hold at least 64 values unless there is one
    sizes = np.empty(nb, dtype=np.int64)
    combines = np.empty(nb, dtype=np.int64)
    k = _pairwise_plan(n, sizes, combines)
    sizes[k] = -1
    return sizes, combines, np.empty(PAIRWISE_BLOCK), np.empty(128)


@kernel
def _flush(buf, m, stack, top, pairs):
    """A full block of a running pairwise sum: its sum onto the stack, then the `pairs` pairs it
    completes added. Returns the new top of the stack. (Called once a block; the values go into the
    block in the caller's own loop: a call for each value cost more than the rest of the pass.)"""
    stack[top] = _block_sum(buf, m)
    top += 1
    for _ in range(pairs):
        top -= 1
        stack[top - 1] = stack[top - 1] + stack[top]
    return top


@kernel
def pairwise_sum(x):
    """numpy's sum of x (float64, contiguous or strided), value by value as `live_weights` sums.
    Up to one of numpy's blocks (the values of the sectors, of the banks, of a matrix's row or
    column) it is that block's sum, without the running sum's buffers: a sum of 30 values took 0.25
    us, mostly their allocation, and a month of accounts makes a hundred."""
    n = x.shape[0]
    if n <= PAIRWISE_BLOCK:
        return _block_sum(x, n)
    sizes, combines, buf, stack = _stream_plan(n)
    top = j = f = 0
    for i in range(n):
        buf[f] = x[i]
        f += 1
        if f == sizes[j]:
            top, j, f = _flush(buf, f, stack, top, combines[j]), j + 1, 0
    return stack[0]


@kernel
def live_weights(alive, sme, sector, weight, court, loans):
    """For the records, over the firm rows as `accounts._record` summed them with numpy, bit for
    bit: the sector weights of live SMEs and of all live firms, summed as numpy sums the gathered
    weights (`weight[sector][alive & sme].sum()`, `weight[sector][alive].sum()`), and the weights
    and loans of the estates in the court procedure (rows not alive with `court` > 0), in row order
    (the records take their dot product). Two passes over the rows (counting, then summing), no
    array of the rows' size. Returns (live SME weight, live weight, estate weights, estate loans).
    (`classify_and_weigh` makes the same sums in one pass each, with the size classes.)"""
    n = alive.shape[0]
    n_sme = 0
    n_all = 0
    n_est = 0
    for i in range(n):  # counted without branches (whether a row is an SME varies row to row)
        a = alive[i]
        n_all += a
        n_sme += a & sme[i]
        n_est += (not a) & (court[i] > 0)
    w_est = np.empty(n_est)
    l_est = np.empty(n_est)
    size_s, comb_s, buf_s, st_s = _stream_plan(n_sme)
    size_a, comb_a, buf_a, st_a = _stream_plan(n_all)
    top_s = j_s = f_s = 0  # stack top, block being filled, values in it
    top_a = j_a = f_a = 0
    e = 0
    for i in range(n):
        if alive[i]:
            w = weight[np.uint64(sector[i])]
            buf_a[f_a] = w
            f_a += 1
            if f_a == size_a[j_a]:
                top_a, j_a, f_a = _flush(buf_a, f_a, st_a, top_a, comb_a[j_a]), j_a + 1, 0
            buf_s[f_s] = w  # (a select, as in `_stream`)
            f_s += np.int64(sme[i])
            if f_s == size_s[j_s]:
                top_s, j_s, f_s = _flush(buf_s, f_s, st_s, top_s, comb_s[j_s]), j_s + 1, 0
        elif court[i] > 0:
            w_est[e] = weight[np.uint64(sector[i])]
            l_est[e] = loans[i]
            e += 1
    return (st_s[0] if n_sme > 0 else 0.0), (st_a[0] if n_all > 0 else 0.0), w_est, l_est


@kernel(parallel=True)
def classify_and_weigh(firms, weight, threshold_month, counts):
    """`classify_size` and `live_weights` without a counting pass: live firms are SMEs when their
    capacity is below the revenue threshold (monthly; writes `sme`), and the records' live weights
    by that class and the estates in court, as `live_weights` makes them, bit for bit.

    `counts` (live firms, live firms below the threshold, estates in court), as `accounting.
    month_sums` counted them after entry, plan numpy's pairwise blocks. Two tasks, one pass over
    the rows each (on two threads at once): the SMEs' weights; all live weights, the classes and the
    estates. Each checks the counts: if any is negative (not counted) or the rows no longer match
    it, the rows are counted and summed again (the classes are written by then).

    firms: FirmState (reads alive, capacity, sector, court, loans; writes sme)."""
    alive = firms.alive
    capacity = firms.capacity
    sme = firms.sme
    n_all, n_sme, n_est = int(counts[0]), int(counts[1]), int(counts[2])
    if counts[0] >= 0.0 and counts[1] >= 0.0 and counts[2] >= 0.0:
        w_est = np.empty(n_est)
        l_est = np.empty(n_est)
        res = np.zeros((2, 8))  # per task: the sum, whether the counts held (a cache line each)
        for task in prange(2):
            held, total = _stream(firms, weight, threshold_month, w_est, l_est, n_all if task == 1 else n_sme,
                                  task == 1)
            res[task, 0] = total
            res[task, 1] = 1.0 if held else 0.0
        if res[0, 1] == 1.0 and res[1, 1] == 1.0:
            return res[0, 0], res[1, 0], w_est, l_est
    else:
        for i in range(alive.shape[0]):
            if alive[i]:
                sme[i] = capacity[i] < threshold_month
    return live_weights(alive, sme, firms.sector, weight, firms.court, firms.loans)


@kernel
def _stream(firms, weight, threshold_month, w_est, l_est, n_vals, all_rows):
    """One of `classify_and_weigh`'s tasks: numpy's pairwise sum of the weights of the live rows
    below the threshold, or with `all_rows` of all live rows (then also writing their classes and
    the estates' weights and loans), planned for `n_vals` values. Returns (whether the counts held,
    the sum).

    A live row's weight goes into the block buffer whether it counts or not, and the count of values
    in the block moves on only if it does: no branch on the class, which varies row to row (its
    mispredictions were most of the pass). A block is summed when its count reaches the plan's size
    (never after the last: -1); counts that do not hold leave a value unsummed or a block short,
    which the end tells."""
    alive = firms.alive
    sector = firms.sector
    capacity = firms.capacity
    sme = firms.sme
    court = firms.court
    loans = firms.loans
    size, comb, buf, st = _stream_plan(n_vals)
    top = j = f = 0  # stack top, block being filled, values in it
    e = 0
    n_est = w_est.shape[0]
    mask = PAIRWISE_BLOCK - 1  # (indices stay in the buffer if the counts do not hold)
    for i in range(alive.shape[0]):
        if alive[i]:
            w = weight[np.uint64(sector[i])]
            small = capacity[i] < threshold_month
            buf[f & mask] = w
            if all_rows:
                sme[i] = small
                f += 1
            else:
                f += np.int64(small)
            if f == size[j]:
                top, j, f = _flush(buf, f, st, top, comb[j]), j + 1, 0
        elif all_rows and court[i] > 0:
            if e < n_est:
                w_est[e] = weight[np.uint64(sector[i])]
                l_est[e] = loans[i]
            e += 1
    held = f == 0 and size[j] == -1 and (e == n_est or not all_rows)
    return held, (st[0] if n_vals > 0 else 0.0)
