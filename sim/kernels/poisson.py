"""Poisson numbers of entrants (phases.entry) in one compiled loop over the sectors: the quantile
function as scipy.stats.poisson.ppf makes it (scipy.special's pdtrik, then pdtr to step back one),
calling the very C functions the ufuncs call (scipy.special.cython_special's entry points, bound by
name so the kernel caches), so the counts are the same bit for bit. The ufuncs, numpy's masks and
errstate took about 60 us a month at a small economy, of which the functions' own work is 25."""

from __future__ import annotations

import ctypes

import llvmlite.binding as llvm
import numpy as np
import scipy.special.cython_special as _special
from numba import types

from .._numba import kernel
from .capacity_rules import np_maximum, np_minimum

DOUBLE_2 = b"double (double, double, int __pyx_skip_dispatch)"  # the signature the kernel calls


def _address(name: str) -> int:
    """The address of scipy.special.cython_special's double version of `name`: the entry of that
    name, or of a fused version of it (`__pyx_fuse_<i>name`), whose C signature is DOUBLE_2. Checked
    rather than assumed: which fused index is the double one is Cython's choice, and calling a float
    version through a double signature would give wrong counts without an error."""
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    for key, capsule in _special.__pyx_capi__.items():
        if (key == name or (key.startswith("__pyx_fuse_") and key.endswith(name)
                            and key[len("__pyx_fuse_"):-len(name)].isdigit())) and get_name(capsule) == DOUBLE_2:
            return get_pointer(capsule, get_name(capsule))
    import scipy

    raise ImportError(f"scipy {scipy.__version__}: scipy.special.cython_special has no {name} taking and "
                      "returning doubles, which sim's entrant counts call")


# double f(double, double, int skip_dispatch): the double versions of scipy's cpdef functions
llvm.add_symbol("sim_scipy_pdtrik", _address("pdtrik"))
llvm.add_symbol("sim_scipy_pdtr", _address("pdtr"))
_pdtrik = types.ExternalFunction("sim_scipy_pdtrik", types.float64(types.float64, types.float64, types.intc))
_pdtr = types.ExternalFunction("sim_scipy_pdtr", types.float64(types.float64, types.float64, types.intc))


@kernel
def poisson_ppf(u, lam):
    """scipy.stats.poisson.ppf(u, lam) of one uniform and mean: the smallest k whose Poisson CDF
    reaches u as pdtrik's inverse and one step of pdtr find it; -1 at u = 0, inf at u = 1, NaN for
    a negative (or NaN) mean or u outside [0, 1]."""
    if not (lam >= 0 and u >= 0 and u <= 1):
        return np.nan
    if u == 1:
        return np.inf
    if u == 0:
        return -1.0
    vals = np.ceil(_pdtrik(u, lam, 0))
    vals1 = np_maximum(vals - 1, 0.0)
    return vals1 if _pdtr(vals1, lam, 0) >= u else vals


@kernel
def entrant_counts(u, lam, most):
    """Poisson numbers of entrants by sector (inverse CDF of fixed uniforms `u`, so every scenario
    consumes the same draws), at most `most` a sector, none where the mean `lam` is not positive."""
    n = lam.shape[0]
    counts = np.empty(n, dtype=np.int64)
    for s in range(n):
        counts[s] = 0 if lam[s] <= 0 else np.int64(np_minimum(poisson_ppf(u[s], lam[s]), np.float64(most[s])))
    return counts
