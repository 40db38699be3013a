"""numba policy (sim/_numba.py): a parallel kernel runs its prange loops in parallel and nothing
else, so its small whole-array statements (zeroing and adding up the per-chunk sums) are plain
loops, not parallel regions of their own."""

import numpy as np
from numba import njit, prange

from sim._numba import PARALLEL, kernel
from sim.compilecache import dispatchers


def test_parallel_kernels_parallelise_prange_only():
    parallel = [k for k, d in dispatchers().items() if d.targetoptions.get("parallel")]
    assert len(parallel) > 10
    for k in parallel:
        opts = dispatchers()[k].targetoptions["parallel"]
        assert opts == PARALLEL, k
    assert PARALLEL["prange"] and not any(v for k, v in PARALLEL.items() if k != "prange")


@kernel(parallel=True)
def _sums(x, out):
    part = np.zeros((4, out.shape[0]))
    for c in prange(4):
        for i in range(c, x.shape[0], 4):
            part[c, i % out.shape[0]] += x[i]
    out[:] = 0.0
    for c in range(4):
        out[:] += part[c]


def test_a_parallel_kernel_has_its_prange_loop_alone_as_parallel():
    out = np.zeros(3)
    _sums.py_func(np.arange(100.0), out)
    ref = out.copy()
    # compiled afresh with the options `kernel` gave it (code loaded from the cache has no diagnostics)
    fresh = njit(parallel=_sums.targetoptions["parallel"])(_sums.py_func)
    fresh(np.arange(100.0), out)
    assert np.array_equal(out, ref)
    # one parallel loop (the prange); np.zeros, `out[:] = 0.0` and `out[:] += ...` stay serial
    parfors = fresh.overloads[fresh.signatures[0]].metadata["parfor_diagnostics"].initial_parfors
    assert len(parfors) == 1
