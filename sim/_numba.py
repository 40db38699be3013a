"""numba policy in one place: every kernel is compiled through `kernel`.

cache=True so a second run starts fast; fastmath off so results are bit-reproducible; kernels are
serial unless a parallel version has been measured to pay and shown to give identical results for
any thread count (reductions go through fixed chunks of rows, never through thread ids).

numba keys each kernel's cache by the kernel's own source file: after changing this file (say
CHUNK), clear sim/kernels/__pycache__.
"""

from __future__ import annotations

import warnings

import numpy as np
from numba import njit
from numba.core.errors import NumbaPerformanceWarning

# Rows per chunk of a parallel kernel, at most. Reductions (sums by sector or bank) are accumulated
# per chunk in row order and the chunk totals are then added in chunk order, so results do not
# depend on the number of threads; up to CHUNK rows there is one chunk and the sums are exactly
# the serial ones (the Mesa reference's order).
CHUNK = 1 << 16
# Above CHUNK rows the rows are cut into a multiple of CHUNK_GROUP chunks of equal size (rounded
# up to ALIGN rows, a cache line of float64 at each boundary), so that 2, 4 or 8 threads get equal
# shares: 437,583 rows in 7 chunks of 2^16 left one of two threads 4 chunks and the other 2.7
# (the month took 64 ms; in 8 equal chunks 56 ms, benchmarks/RESULTS.md).
CHUNK_GROUP = 8
ALIGN = 64


@njit(cache=True)
def chunks(n):
    """(number of chunks, rows per chunk) for n rows; depends on n only, never on threads."""
    if n <= CHUNK:
        return 1, max(n, 1)
    nc = (n + CHUNK - 1) // CHUNK
    nc = (nc + CHUNK_GROUP - 1) // CHUNK_GROUP * CHUNK_GROUP
    size = (n + nc - 1) // nc
    size = (size + ALIGN - 1) // ALIGN * ALIGN
    return nc, size


@njit(cache=True)
def rows_of(c, cs, n):
    """The rows of chunk c (of cs rows each, n rows in all) as a range of unsigned integers.

    numba compiles an array access through a signed index with a check for negative values
    (Python's a[-1]); through an unsigned index it leaves the check out (the income kernel: 16.2 ->
    14.9 ms a month on one thread at 1:1, same results). numba's prange indices are unsigned
    already; the rows of a chunk were not. Mind that numba makes a float of arithmetic between
    uint64 and int64: kernels index with these rows and do no arithmetic on them."""
    lo = c * cs
    hi = lo + cs
    if hi > n:
        hi = n
    return range(np.uint64(lo), np.uint64(hi))


# A parallel kernel runs its prange loops in parallel and nothing else: numba's other automatic
# parallelisation (array expressions, np.zeros and the like, `a[:] = x`, `a += b`, reductions,
# loop fusion) is off. Each such statement became a parallel loop of its own, compiled as a
# function of its own and started as a parallel region of its own (a wait for every thread) for a
# handful of values (the zeroing and adding up of the per-chunk sums by sector or bank).
PARALLEL = {"prange": True, "numpy": False, "setitem": False, "inplace_binop": False, "reduction": False,
            "comprehension": False, "stencil": False, "fusion": False}
# numba compiles a prange loop's body as a function of its own with the kernel's options, and warns
# when that body (a serial loop over a chunk's rows) has nothing parallel in it (month_sums's did)
warnings.filterwarnings("ignore", message="(?s).*no transformation for parallel execution was possible",
                        category=NumbaPerformanceWarning)


def kernel(fn=None, *, parallel: bool = False):
    deco = njit(cache=True, fastmath=False, parallel=dict(PARALLEL) if parallel else False, nogil=True,
                error_model="numpy")
    return deco(fn) if fn is not None else deco
