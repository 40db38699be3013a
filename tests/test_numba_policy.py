"""numba policy (sim/_numba.py): a parallel kernel runs its prange loops in parallel and nothing
else, so its small whole-array statements (zeroing and adding up the per-chunk sums) are plain
loops, not parallel regions of their own."""

import subprocess
import sys

import numpy as np
from numba import njit, prange

from sim._numba import PARALLEL, kernel
from sim.compilecache import dispatchers

_COUNT = """
from sim._numba import PARALLEL
from sim.compilecache import dispatchers
par = {k: d.targetoptions["parallel"] for k, d in dispatchers().items() if d.targetoptions.get("parallel")}
print(len(par), sum(v == PARALLEL for v in par.values()))
"""


def test_parallel_kernels_parallelise_prange_only():
    # in a fresh interpreter: a test worker's modules may have been reloaded by earlier tests (a clean
    # checkout's CI run found 5 parallel kernels in one worker, against 30)
    out = subprocess.run([sys.executable, "-c", _COUNT], capture_output=True, text=True, check=True)
    n_parallel, n_prange_only = map(int, out.stdout.split())
    assert n_parallel > 10
    assert n_prange_only == n_parallel
    assert PARALLEL["prange"] and not any(v for k, v in PARALLEL.items() if k != "prange")
    assert dispatchers()  # the engine's kernels are found in this process too


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
