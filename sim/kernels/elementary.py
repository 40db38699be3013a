"""exp and log for kernels whose loops LLVM can vectorise; at the end, a select LLVM keeps a select
(`masked`) and a prefetch for loops that read a row's fields only now and then (`prefetch`); and the
adding up of a parallel kernel's sums by chunk (`add_chunks`).

numba compiles `np.exp` and `np.log` to calls into the C library, one value at a time: a loop that
calls them is never vectorised (the llvmlite here has no vector maths library). In the 1:1 month
the market's competitiveness (an exp and a log a firm) and the credit score (an exp a firm) were a
tenth of the kernels' time. The functions below are plain arithmetic on doubles and their bits,
inlined into the kernel, so a loop over rows that does nothing but call them runs in vector
registers: the market's competitiveness pass over 416,745 rows on two threads took 3.8 ms with
the C library's exp and log and takes 1.4 ms with these (an exp alone: 2.1 -> 0.7 ns a value).
The kernels give such a loop a prange of its own: inside the prange body that also holds their
sums (scattered adds, which are not vectorised) it stayed scalar and was slower than the C library.

Accuracy: exp within 1 ulp of the C library's and log within 2 ulp, over the doubles
(tests/test_elementary.py); infinities, NaN, zero, negative arguments and subnormal results as
the C library gives them. Being arithmetic in IEEE double precision with no fused multiply-add (the
kernels compile without fastmath), they give the same bits on every x86-64 machine, which the C
library does not promise (glibc picks an FMA or a plain version of exp by CPU).

Method (textbook, no tables): exp(x) = 2^n exp(r) with n = round(x / ln 2) and
r = x - n ln 2 (ln 2 in two parts, so n ln 2 is exact), |r| <= ln(2)/2, and exp(r) by its Taylor
series to degree 13 (the next term is below 2^-53 relative); 2^n is built in the exponent bits,
in two factors where it would under- or overflow. log(x) = e ln 2 + log(m) with x = m 2^e,
m in [sqrt(1/2), sqrt(2)), and log(m) = 2 atanh(f), f = (m - 1)/(m + 1), |f| < 0.172, by the series
2 (f + f^3/3 + ... + f^23/23).

numba caches a kernel by its own source file: after changing this file, clear
sim/kernels/__pycache__ so the kernels that inline these functions are compiled again.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import cgutils, types
from numba.extending import intrinsic, overload

from .._numba import kernel

LOG2E = 1.4426950408889634  # 1 / ln 2
LN2_HI = 0.6931471803691238  # ln 2 to 32 significant bits (0x1.62e42fee00000p-1): n * LN2_HI is exact
LN2_LO = 1.9082149292705877e-10  # ln 2 - LN2_HI
SQRT2 = 1.4142135623730951
TWO54 = 18014398509481984.0  # 2^54: lifts a subnormal into the normal range
SMALLEST_NORMAL = 2.2250738585072014e-308
EXPONENT_ONE = 0x3FF0000000000000  # the bits of 1.0
MANTISSA = 0xFFFFFFFFFFFFF


@njit(inline="always")
def _pow2(n):
    """2.0 ** n for -1022 <= n <= 1023, from its exponent bits."""
    return np.int64((n + 1023) << 52).view(np.float64)


@njit(inline="always")
def exp(x):
    """e ** x (see the module docstring)."""
    nan = x != x
    x = 0.0 if nan else x
    x = 709.8 if x > 709.8 else x  # exp(709.8) overflows to inf
    x = -745.2 if x < -745.2 else x  # exp(-745.2) rounds to zero
    t = np.floor(x * LOG2E + 0.5)
    r = (x - t * LN2_HI) - t * LN2_LO
    p = 1.0 / 6227020800.0  # 1/13!
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r * r + r + 1.0
    n = np.int64(t)
    # 2^n as 2^(n + k) 2^-k: k = 60 where 2^n is below the normal range, -1 where it is above
    k = 60 if n < -1020 else (-1 if n > 1023 else 0)
    y = p * _pow2(n + k) * _pow2(-k)
    return np.nan if nan else y


@njit(inline="always")
def log(x):
    """Natural logarithm (see the module docstring)."""
    sub = x < SMALLEST_NORMAL
    xs = x * TWO54 if sub else x
    b = np.float64(xs).view(np.int64)
    e = (b >> 52) - (1023 + 54 if sub else 1023)
    m = np.int64((b & MANTISSA) | EXPONENT_ONE).view(np.float64)  # in [1, 2)
    big = m > SQRT2
    m = m * 0.5 if big else m
    e = e + 1 if big else e
    f = (m - 1.0) / (m + 1.0)
    s = f * f
    q = 1.0 / 23.0
    q = q * s + 1.0 / 21.0
    q = q * s + 1.0 / 19.0
    q = q * s + 1.0 / 17.0
    q = q * s + 1.0 / 15.0
    q = q * s + 1.0 / 13.0
    q = q * s + 1.0 / 11.0
    q = q * s + 1.0 / 9.0
    q = q * s + 1.0 / 7.0
    q = q * s + 1.0 / 5.0
    q = q * s + 1.0 / 3.0
    ef = np.float64(e)
    y = ef * LN2_HI + ((2.0 * f + 2.0 * f * s * q) + ef * LN2_LO)
    y = -np.inf if x == 0.0 else y
    y = np.inf if x == np.inf else y
    return y if x >= 0.0 else np.nan  # negative or NaN


@njit(inline="always")
def logistic(x):
    """1 / (1 + e^-x)."""
    return 1.0 / (1.0 + exp(-x))


@njit(inline="always")
def masked(x, keep):
    """x where `keep`, else 0.0: the same bits as `x if keep else 0.0`, made with integer operations
    on x's bits so that x is always computed. LLVM makes a branch of such a select when x is a
    division (costly to compute on the path that drops it), and where `keep` varies row to row the
    branch is mispredicted: the overtime premium of `production.costs_and_prices` (taken by half the
    rows) cost 1.1 of its 4.5 ms a month on one thread at 1:1."""
    return np.int64(np.float64(x).view(np.int64) & -np.int64(keep)).view(np.float64)


def prefetch(arr, i):
    """A hint to the processor to fetch the cache line of arr[i] (a 1-d array) for reading; no
    effect on results, and no fault where arr[i] lies beyond the array (x86's prefetch never
    faults; the address is plain arithmetic, not an array access). In Python (a kernel's py_func)
    it does nothing.

    For a loop over the rows that reads a field only for a few rows taken at random (the upgrade
    reviews of `investment.plan_investment`: 2% of the rows a month): each such read is a cache
    miss of its own (the hardware prefetcher sees no stream), and the loop waits for it. Fetching
    row i + d while at row i turns the misses into a stream the loop no longer waits for."""


@intrinsic
def _prefetch(typingctx, arr, i):
    """llvm.prefetch of arr's element i (`prefetch`)."""
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        intp = context.get_value_type(types.intp)
        idx = context.cast(builder, args[1], signature.args[1], types.intp)
        stride = cgutils.unpack_tuple(builder, ary.strides, 1)[0]
        addr = builder.add(builder.ptrtoint(ary.data, intp), builder.mul(idx, stride))
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p, ir.IntType(32), ir.IntType(32), ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # (address, 0: for reading, 3: keep in every cache level, 1: data)
        builder.call(fn, [builder.inttoptr(addr, i8p), ir.Constant(ir.IntType(32), 0),
                          ir.Constant(ir.IntType(32), 3), ir.Constant(ir.IntType(32), 1)])
        return context.get_dummy_value()
    return sig, codegen


@overload(prefetch, inline="always")
def _prefetch_compiled(arr, i):
    def impl(arr, i):
        _prefetch(arr, i)
    return impl


@kernel
def add_chunks(out, part):
    """out += part[c] for each chunk c in order (C-contiguous arrays; part has one dimension more):
    each element adds the same terms in the same order as `out[:] += part[c]`, so the same bits. A
    loop rather than numba's array assignment, whose shape check formats its error message: that
    brought numba's string code (about 4,800 lines of LLVM IR) into every kernel that added up its
    chunks so, and seconds to its compile."""
    o = out.reshape(-1)
    p = part.reshape(part.shape[0], -1)
    for c in range(p.shape[0]):
        for j in range(o.shape[0]):
            o[j] += p[c, j]
