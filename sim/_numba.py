"""numba policy in one place: every kernel is compiled through `kernel`.

cache=True so a second run starts fast; fastmath off so results are bit-reproducible; kernels are
serial unless a parallel version has been measured to pay and shown to give identical results for
any thread count (reductions go through fixed-size chunks, never through thread ids).
"""

from __future__ import annotations

from numba import njit


def kernel(fn=None, *, parallel: bool = False):
    deco = njit(cache=True, fastmath=False, parallel=parallel, nogil=True, error_model="numpy")
    return deco(fn) if fn is not None else deco
