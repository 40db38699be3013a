"""Sums over firm rows (by sector, by bank, by size class) and small row-wise updates that the
step would otherwise do as numpy expressions over every row (masks, bincounts, temporaries).

Every sum runs in row order, as `np.bincount` does, so these kernels give the same numbers as the
numpy code they replace. Each has a plain-Python counterpart in the Mesa reference (sim/reference).
"""

from __future__ import annotations

import numpy as np
from numba import prange

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
    An estate still in the court procedure (`court` > 0) keeps its row."""
    k = 0
    for i in range(alive.shape[0]):
        if k == total:
            break
        if not alive[i] and exit_reason[i] != 0 and court[i] == 0:
            out[k] = i
            k += 1
    for i in range(alive.shape[0]):
        if k == total:
            break
        if not alive[i] and exit_reason[i] == 0:
            out[k] = i
            k += 1
    return k


@kernel(parallel=True)
def zero_rows(rows, arrays):
    """arrays[j][rows] = 0 for a tuple of same-typed arrays."""
    for arr in arrays:
        for k in prange(rows.shape[0]):
            arr[np.uint64(rows[k])] = 0


@kernel(parallel=True)
def put_rows(rows, targets, values):
    """targets[j][rows[k]] = values[j][k] for tuples of same-typed arrays (values: one per row)."""
    for j in range(len(targets)):
        arr = targets[j]
        val = values[j]
        for k in prange(rows.shape[0]):
            arr[np.uint64(rows[k])] = val[k]


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
