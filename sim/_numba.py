"""numba policy in one place: every kernel is compiled through `kernel`.

cache=True so a second run starts fast; fastmath off so results are bit-reproducible; kernels are
serial unless a parallel version has been measured to pay and shown to give identical results for
any thread count (reductions go through fixed-size chunks, never through thread ids).
"""

from __future__ import annotations

from numba import njit

# Rows per chunk of a parallel kernel. Reductions (sums by sector or bank) are accumulated per
# chunk in row order and the chunk totals are then added in chunk order, so results do not depend
# on the number of threads; below CHUNK rows there is one chunk and the sums are exactly the serial
# ones (the Mesa reference's order).
CHUNK = 1 << 16


def n_chunks(n: int) -> int:
    return (n + CHUNK - 1) // CHUNK


def kernel(fn=None, *, parallel: bool = False):
    deco = njit(cache=True, fastmath=False, parallel=parallel, nogil=True, error_model="numpy")
    return deco(fn) if fn is not None else deco
