"""Sums over firm rows (by sector, by bank, by size class) and small row-wise updates that the
step would otherwise do as numpy expressions over every row (masks, bincounts, temporaries).

Every sum runs in row order, as `np.bincount` does, so these kernels give the same numbers as the
numpy code they replace. Each has a plain-Python counterpart in the Mesa reference (sim/reference).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._numba import chunks, kernel, rows_of


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
    for c in range(nc):
        out[:] += part[c]


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
    for c in range(nc):
        out[:] += part[c]


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
    for c in range(nc):
        firm_side[:] += part[c]
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
    for c in range(nc):
        tot[:] += part[c]
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
    (`_pairwise_plan`), a block buffer and a stack of partial sums."""
    nb = n // 64 + 2  # blocks hold at least 64 values unless there is one
    sizes = np.empty(nb, dtype=np.int64)
    combines = np.empty(nb, dtype=np.int64)
    _pairwise_plan(n, sizes, combines)
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
    """numpy's sum of x (float64), value by value as `live_weights` sums: for tests of both."""
    n = x.shape[0]
    sizes, combines, buf, stack = _stream_plan(n)
    top = j = f = 0
    for i in range(n):
        buf[f] = x[i]
        f += 1
        if f == sizes[j]:
            top, j, f = _flush(buf, f, stack, top, combines[j]), j + 1, 0
    return stack[0] if n > 0 else 0.0


@kernel
def _blocks_of(total):
    """The blocks of numpy's pairwise sum of `total` values (`_pairwise_plan`): their sizes, the
    pairs each completes, where each starts (offsets[j], with offsets[nb] = total) and their number."""
    sizes = np.empty(total // 64 + 2, dtype=np.int64)  # blocks hold at least 64 values unless there is one
    combines = np.empty(sizes.shape[0], dtype=np.int64)
    nb = _pairwise_plan(total, sizes, combines)
    offsets = np.zeros(nb + 1, dtype=np.int64)
    for j in range(nb):
        offsets[j + 1] = offsets[j] + sizes[j]
    return sizes, combines, offsets, nb


@kernel
def _stack_blocks(block_sums, combines, nb):
    """numpy's pairwise sum from its blocks' sums, in order, each followed by the pairs it completes."""
    if nb == 0:
        return 0.0
    stack = np.empty(128)
    top = 0
    for j in range(nb):
        stack[top] = block_sums[j]
        top += 1
        for _ in range(combines[j]):
            top -= 1
            stack[top - 1] = stack[top - 1] + stack[top]
    return stack[0]


@kernel
def _straddling_blocks(plan, block_sums, head, n_head, tail, n_tail, tail_block):
    """The sums of the blocks that span chunks (`live_weights`): each starts with the values a chunk
    left at its end (`tail`) and takes the values the next chunks have before their first block
    (`head`) until it is full."""
    sizes = plan[0]
    nc = n_tail.shape[0]
    tmp = np.empty(PAIRWISE_BLOCK)
    for c in range(nc):
        f = n_tail[c]
        if f == 0:
            continue
        j = tail_block[c]
        m = sizes[j]
        for k in range(f):
            tmp[k] = tail[c, k]
        c2 = c + 1
        while f < m:
            take = n_head[c2] if n_head[c2] < m - f else m - f
            for k in range(take):
                tmp[f + k] = head[c2, k]
            f += take
            c2 += 1
        block_sums[j] = _block_sum(tmp, m)


@kernel(parallel=True)
def live_weights(alive, sme, sector, weight, court, loans, capacity, threshold_month):
    """For the records, over the firm rows as `accounts._record` summed them with numpy, bit for
    bit: the sector weights of live SMEs and of all live firms, summed as numpy sums the gathered
    weights (`weight[sector][alive & sme].sum()`, `weight[sector][alive].sum()`), and the weights
    and loans of the estates in the court procedure (rows not alive with `court` > 0), in row order
    (the records take their dot product). With `capacity` (length > 0), the live firms are first
    classified by size as `classify_size` does (sme[i] = capacity[i] < threshold_month, written),
    in the same pass. Returns (live SME weight, live weight, estate weights, estate loans).

    Two parallel passes over the rows in fixed chunks, no array of the rows' size: the first counts
    each chunk's values (so each knows where in the gathered sequence it starts), the second sums
    each block of numpy's pairwise sum (`_pairwise_plan`) that lies within a chunk and keeps the
    values of the few that span chunks, which are summed after (`_straddling_blocks`); the block
    sums are then added as numpy adds them (`_stack_blocks`). The numbers do not depend on the
    threads. (Before: two serial passes, 2.6 ms a month at 1:1 on one thread or two, and the size
    classes a pass of their own.)"""
    n = alive.shape[0]
    classify = capacity.shape[0] > 0
    nc, cs = chunks(n)
    counts = np.zeros((nc, 8), dtype=np.int64)  # padded: chunks write their own cache line
    for c in prange(nc):
        ka = 0
        ks = 0
        ke = 0
        for i in rows_of(c, cs, n):
            if alive[i]:
                if classify:
                    sme[i] = capacity[i] < threshold_month
                ka += 1
                if sme[i]:
                    ks += 1
            elif court[i] > 0:
                ke += 1
        counts[c, 0] = ka
        counts[c, 1] = ks
        counts[c, 2] = ke
    start = np.zeros((nc + 1, 3), dtype=np.int64)  # where each chunk's values start in the gathered sequences
    for c in range(nc):
        for k in range(3):
            start[c + 1, k] = start[c, k] + counts[c, k]
    plan_a = _blocks_of(start[nc, 0])
    plan_s = _blocks_of(start[nc, 1])
    size_a, off_a, nb_a = plan_a[0], plan_a[2], plan_a[3]
    size_s, off_s, nb_s = plan_s[0], plan_s[2], plan_s[3]
    sums_a = np.empty(nb_a)
    sums_s = np.empty(nb_s)
    w_est = np.empty(start[nc, 2])
    l_est = np.empty(start[nc, 2])
    # per chunk and sum: the values before its first block (head) and of a block left unfilled (tail)
    head = np.empty((2, nc, PAIRWISE_BLOCK))
    tail = np.empty((2, nc, PAIRWISE_BLOCK))
    n_head = np.zeros((2, nc), dtype=np.int64)
    n_tail = np.zeros((2, nc), dtype=np.int64)
    tail_block = np.zeros((2, nc), dtype=np.int64)
    for c in prange(nc):
        buf = np.empty((2, PAIRWISE_BLOCK))
        g_a = start[c, 0]
        g_s = start[c, 1]
        e = start[c, 2]
        j_a = np.searchsorted(off_a, g_a)  # the first block that starts in this chunk
        j_s = np.searchsorted(off_s, g_s)
        h_a = 0
        h_s = 0
        # (the two sums written out: a helper called per value cost more than the pass, see _flush)
        for i in rows_of(c, cs, n):
            if alive[i]:
                w = weight[np.uint64(sector[i])]
                if j_a < nb_a and g_a >= off_a[j_a]:  # block j_a has started: into its buffer
                    f = g_a - off_a[j_a]
                    buf[0, f] = w
                    if f + 1 == size_a[j_a]:
                        sums_a[j_a] = _block_sum(buf[0], size_a[j_a])
                        j_a += 1
                else:  # the rest of a block begun in an earlier chunk
                    head[0, c, h_a] = w
                    h_a += 1
                g_a += 1
                if sme[i]:
                    if j_s < nb_s and g_s >= off_s[j_s]:
                        f = g_s - off_s[j_s]
                        buf[1, f] = w
                        if f + 1 == size_s[j_s]:
                            sums_s[j_s] = _block_sum(buf[1], size_s[j_s])
                            j_s += 1
                    else:
                        head[1, c, h_s] = w
                        h_s += 1
                    g_s += 1
            elif court[i] > 0:
                w_est[e] = weight[np.uint64(sector[i])]
                l_est[e] = loans[i]
                e += 1
        n_head[0, c] = h_a
        n_head[1, c] = h_s
        # a block begun here and not filled: its values wait for the next chunks' heads
        if j_a < nb_a and g_a > off_a[j_a]:
            n_tail[0, c] = g_a - off_a[j_a]
            tail_block[0, c] = j_a
            tail[0, c, :] = buf[0]
        if j_s < nb_s and g_s > off_s[j_s]:
            n_tail[1, c] = g_s - off_s[j_s]
            tail_block[1, c] = j_s
            tail[1, c, :] = buf[1]
    _straddling_blocks(plan_a, sums_a, head[0], n_head[0], tail[0], n_tail[0], tail_block[0])
    _straddling_blocks(plan_s, sums_s, head[1], n_head[1], tail[1], n_tail[1], tail_block[1])
    live_all = _stack_blocks(sums_a, plan_a[1], plan_a[3])
    live_sme = _stack_blocks(sums_s, plan_s[1], plan_s[3])
    return live_sme, live_all, w_est, l_est
