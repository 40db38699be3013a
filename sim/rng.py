"""Named random streams derived from the run seed.

Each process (demand shocks, innovation, entry, ...) has its own numpy Generator seeded from the
run seed and a hash of the process name (the Starsim habit), so adding a draw to one process does
not shift any other. Draws are made as arrays outside the kernels, in a fixed order and in fixed
shapes that depend only on the run size, so two scenarios with the same seed see the same numbers
(common random numbers).
"""

from __future__ import annotations

import math
import zlib

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from ._numba import chunks, kernel, rows_of
from .state import staggered_zero

STREAMS = ("init", "demand", "innovation", "upgrade", "imitation", "entry", "credit", "sheets", "firm_shocks",
           "sheets_history", "evergreening")


def stream(seed: int, name: str) -> np.random.Generator:
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(key,)))


class Streams:
    def __init__(self, seed: int):
        self.seed = int(seed)
        self._g = {name: stream(seed, name) for name in STREAMS}

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._g[name]


def fill_uniforms(gen: np.random.Generator, out: np.ndarray) -> None:
    """out <- gen.random(out=out): the same numbers, and the generator left where that call leaves
    it, made by a numba kernel in parallel when the bit generator is numpy's PCG64.

    numpy fills on one thread, 2.2 ns a double here (875,000 uniforms a month at 1:1: about
    2 ms). `_pcg64_fill` steps the same 128-bit LCG with LLVM's native 128-bit arithmetic (numba
    has no 128-bit integer type; `_mul_add_128` emits it), each chunk of rows from the state its
    first row starts from (the LCG jumped ahead in O(log n) steps), so the numbers depend on the
    row only, never on the number of threads: 0.8 ms for 437,583 uniforms on one thread, 0.4 on
    two, against 0.96 for numpy (benchmarks/RESULTS.md). Earlier, numpy filled halves of large
    buffers in two Python threads; GNU OpenMP keeps numba's worker spinning after each kernel, so a
    second filling thread competed with it, and that only paid from 2^20 uniforms on.

    The kernel reads the generator's state where numpy keeps it and writes it back advanced
    (`_native_state`): the state as a Python dict, its words and `advance` cost more than the fill
    itself at a few hundred rows (`RowDraws.draw` 8.1 -> 2.9 us at 300 firms, benchmarks/RESULTS.md)."""
    bg = gen.bit_generator
    if (type(bg) is not np.random.PCG64 or out.dtype != np.float64 or not out.flags.c_contiguous
            or not _native_state()):
        gen.random(out=out)
        return
    _pcg64_fill(bg.ctypes.state_address, out.reshape(-1))  # a view: out is contiguous


def uniforms_at(gen: np.random.Generator, n_rows: int, width: int, rows: np.ndarray) -> np.ndarray:
    """gen.random((n_rows, width))[rows] (rows ascending, without repeats), the generator left where
    that call leaves it, without making the other rows' numbers when the bit generator is PCG64
    (the jumps of `_pcg64_rows`): entry draws for the most entrants any sector may get and uses the
    draws of the few thousand that enter (benchmarks/RESULTS.md, "Entry's Python")."""
    bg = gen.bit_generator
    if type(bg) is not np.random.PCG64 or not _native_state():
        return gen.random((n_rows, width))[rows]
    out = np.empty((rows.shape[0], width))
    _pcg64_rows(bg.ctypes.state_address, rows, 0, n_rows, out)
    return out


_NATIVE: list[bool] = []  # whether `_pcg64_state` reads numpy's PCG64 state (`_native_state`), once known


def _native_state() -> bool:
    """Whether the kernels read and write a PCG64 generator's state in numpy's memory as this numpy
    lays it out (`_pcg64_state`): checked once against the state numpy reports; if not, numpy draws."""
    if not _NATIVE:
        bg = np.random.PCG64(20190101)
        full = bg.state["state"]
        s, inc = int(full["state"]), int(full["inc"])
        words = tuple(int(w) for w in _pcg64_state(bg.ctypes.state_address))
        _NATIVE.append(words == (s >> 64, s & _LOW64, inc >> 64, inc & _LOW64))
    return _NATIVE[0]


_LOW64 = (1 << 64) - 1
_MULT_HI, _MULT_LO = np.uint64(2549297995355413924), np.uint64(4865540595714422341)  # PCG64's multiplier


@intrinsic
def _mul_add_128(typingctx, a_hi, a_lo, b_hi, b_lo, c_hi, c_lo):
    """a * b + c modulo 2^128, each number as (high, low) 64-bit halves."""
    u64 = types.uint64
    sig = types.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64)

    def codegen(context, builder, signature, args):
        i128, i64 = ir.IntType(128), ir.IntType(64)
        half = ir.Constant(i128, 64)
        wide = [builder.zext(x, i128) for x in args]
        a, b, c = (builder.or_(builder.shl(wide[k], half), wide[k + 1]) for k in (0, 2, 4))
        r = builder.add(builder.mul(a, b), c)
        return context.make_tuple(builder, signature.return_type,
                                  [builder.trunc(builder.lshr(r, half), i64), builder.trunc(r, i64)])

    return sig, codegen


@intrinsic
def _word(typingctx, address, k):
    """The k-th 64-bit word at the memory address `address` (an integer)."""
    sig = types.uint64(address, k)

    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        return builder.load(builder.gep(ptr, [args[1]]))

    return sig, codegen


@intrinsic
def _set_word(typingctx, address, k, value):
    """Write the 64-bit word `value` as the k-th word at the memory address `address`."""
    sig = types.void(address, k, types.uint64)

    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        builder.store(args[2], builder.gep(ptr, [args[1]]))
        return context.get_dummy_value()

    return sig, codegen


@kernel
def _pcg64_state(address):
    """The state and increment (high and low 64 bits) of numpy's PCG64 whose state struct is at
    `address` (its bit generator's ctypes.state_address): the struct's first word points to the
    state and the increment, 128-bit integers, low word first (x86-64; `_native_state` checks)."""
    at = _word(address, 0)
    return _word(at, 1), _word(at, 0), _word(at, 3), _word(at, 2)


@kernel
def _pcg64_set_state(address, hi, lo):
    """Set the state of numpy's PCG64 at `address` (as `_pcg64_state` reads it); the buffered 32-bit
    half-output is left as it is, as numpy's random() leaves it."""
    at = _word(address, 0)
    _set_word(at, 1, hi)
    _set_word(at, 0, lo)


_JUMP_LEVELS = 64  # jumps by 2^0 .. 2^63 steps


@kernel
def _pcg64_jumps(inc_hi, inc_lo):
    """For k = 0..63 the LCG map 2^k steps long, state -> A_k state + C_k, as rows (A_hi, A_lo,
    C_hi, C_lo): A_0 = the multiplier, C_0 = the increment, A_k+1 = A_k^2, C_k+1 = (A_k + 1) C_k
    (Brown 1994, as numpy's advance)."""
    zero, one = np.uint64(0), np.uint64(1)
    out = np.empty((_JUMP_LEVELS, 4), dtype=np.uint64)
    m_hi, m_lo, p_hi, p_lo = _MULT_HI, _MULT_LO, inc_hi, inc_lo
    for k in range(_JUMP_LEVELS):
        out[k, 0], out[k, 1], out[k, 2], out[k, 3] = m_hi, m_lo, p_hi, p_lo
        m1_hi, m1_lo = _mul_add_128(zero, one, m_hi, m_lo, zero, one)
        p_hi, p_lo = _mul_add_128(m1_hi, m1_lo, p_hi, p_lo, zero, zero)
        m_hi, m_lo = _mul_add_128(m_hi, m_lo, m_hi, m_lo, zero, zero)
    return out


@kernel
def _pcg64_skip(hi, lo, jumps, delta):
    """The state `delta` steps on, by the precomputed maps of `_pcg64_jumps` (one multiply-add per
    set bit of delta; the maps commute, all being powers of one map)."""
    k = 0
    d = np.uint64(delta)
    while d > np.uint64(0):
        if d & np.uint64(1):
            hi, lo = _mul_add_128(jumps[k, 0], jumps[k, 1], hi, lo, jumps[k, 2], jumps[k, 3])
        d >>= np.uint64(1)
        k += 1
    return hi, lo


@kernel
def _pcg64_next(hi, lo, inc_hi, inc_lo):
    """One step of the LCG and the double numpy's Generator.random makes of it: the XSL-RR
    output's top 53 bits times 2^-53. Returns the new state and the double."""
    hi, lo = _mul_add_128(hi, lo, _MULT_HI, _MULT_LO, inc_hi, inc_lo)
    x = hi ^ lo
    r = hi >> np.uint64(58)
    x = (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))
    return hi, lo, np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


_LANES = 4  # generator states stepped side by side in a chunk (`_pcg64_fill`)


@kernel(parallel=True)
def _pcg64_fill(address, out):
    """out[i] = the i-th double numpy's PCG64 Generator.random would draw from the state of the
    generator at `address` (`_pcg64_state`), each chunk of rows from the state its first row starts
    from; the generator is left out.shape[0] steps on, where numpy's random(out=out) leaves it.

    Within a chunk, _LANES states each make a quarter of its rows, stepped side by side: one step
    waits for the previous one's 128-bit multiply, so a single state left the core idle most of the
    time (the numbers depend on the position only, so any split gives the same)."""
    s_hi, s_lo, inc_hi, inc_lo = _pcg64_state(address)
    n = out.shape[0]
    nc, cs = chunks(n)
    jumps = _pcg64_jumps(inc_hi, inc_lo)
    for c in prange(nc):
        first = np.int64(c) * cs  # (prange's index is unsigned: arithmetic with it would be float)
        last = first + cs if first + cs < n else n
        span = (last - first) // _LANES  # rows each lane makes side by side; the rest follow
        h0, l0 = _pcg64_skip(s_hi, s_lo, jumps, np.uint64(first))
        h1, l1 = _pcg64_skip(s_hi, s_lo, jumps, np.uint64(first + span))
        h2, l2 = _pcg64_skip(s_hi, s_lo, jumps, np.uint64(first + 2 * span))
        h3, l3 = _pcg64_skip(s_hi, s_lo, jumps, np.uint64(first + 3 * span))
        for t in range(span):
            h0, l0, x0 = _pcg64_next(h0, l0, inc_hi, inc_lo)
            h1, l1, x1 = _pcg64_next(h1, l1, inc_hi, inc_lo)
            h2, l2, x2 = _pcg64_next(h2, l2, inc_hi, inc_lo)
            h3, l3, x3 = _pcg64_next(h3, l3, inc_hi, inc_lo)
            out[np.uint64(first + t)] = x0
            out[np.uint64(first + span + t)] = x1
            out[np.uint64(first + 2 * span + t)] = x2
            out[np.uint64(first + 3 * span + t)] = x3
        for i in range(first + _LANES * span, last):  # the last lane's state is where these start
            h3, l3, out[np.uint64(i)] = _pcg64_next(h3, l3, inc_hi, inc_lo)
    e_hi, e_lo = _pcg64_skip(s_hi, s_lo, jumps, np.uint64(n))
    _pcg64_set_state(address, e_hi, e_lo)


# rows a task of `_pcg64_rows` takes (its output depends on the row's position only, not on how the
# rows are split: the credit step's 41,000 applicants at 1:1 were one chunk of rows, one thread)
_ROWS_BLOCK = 4096


@kernel(parallel=True)
def _pcg64_rows(address, rows, lo_row, hi_row, out):
    """out[k, j] = what `_pcg64_fill` writes at position (rows[k] - lo_row) * width + j of a buffer
    of `width` = out.shape[1] doubles a row, for the rows[k] in [lo_row, hi_row) (rows ascending),
    from the generator at `address`, which is left where filling that buffer of hi_row - lo_row
    rows leaves it: the uniforms of the given rows only. Each block of _ROWS_BLOCK rows jumps to
    its first row; then from row to row by the gap between them."""
    s_hi, s_lo, inc_hi, inc_lo = _pcg64_state(address)
    first, end = np.searchsorted(rows, lo_row), np.searchsorted(rows, hi_row)
    n = end - first
    width = np.uint64(out.shape[1])
    jumps = _pcg64_jumps(inc_hi, inc_lo)
    cs = _ROWS_BLOCK
    nc = (n + cs - 1) // cs
    base = np.uint64(lo_row)
    for c in prange(nc):
        hi, lo = s_hi, s_lo
        at = np.uint64(0)  # states stepped so far: the next output is the one at position `at`
        for i in rows_of(c, cs, n):
            k = first + np.int64(i)
            pos = (np.uint64(rows[k]) - base) * width
            hi, lo = _pcg64_skip(hi, lo, jumps, pos - at)
            for j in range(out.shape[1]):
                hi, lo, out[k, j] = _pcg64_next(hi, lo, inc_hi, inc_lo)
            at = pos + width
    e_hi, e_lo = _pcg64_skip(s_hi, s_lo, jumps, np.uint64(hi_row - lo_row) * width)
    _pcg64_set_state(address, e_hi, e_lo)


@kernel
def _ascending(rows):
    """Whether rows ascend strictly (no repeats): one pass, no temporaries (`RowDraws.at`'s check;
    numpy's comparison of shifted views made a mask of the 48,000 applicants at 1:1)."""
    for k in range(1, rows.shape[0]):
        if rows[k] <= rows[k - 1]:
            return False
    return True


class DrawPool:
    """One flat buffer that the month's per-row uniforms of several processes take in turn.

    Each process's uniforms are used up by the phase that draws them before the next process
    draws (firm shocks at the month's start, upgrade reviews in step 7's plans, imitation in step
    8), so one buffer as large as the widest serves all: 8 bytes a row instead of 16. (The bank
    search of step 7's credit market draws only its applicants' rows, `RowDraws.at`, and needs no
    buffer of all rows.) A `RowDraws.draw` overwrites what the previous one returned.

    `host`: an array of the model's whose values are dead whenever uniforms are drawn, to be the
    buffer (the model lends the credit step's `repaid`, which that step writes for every row before
    reading it and nothing reads after: 8 bytes a row less)."""

    def __init__(self, n_rows: int, width: int, slot: int = 0, host: np.ndarray | None = None):
        self.width, self.slot = int(width), slot  # slot: see state.staggered_zeros
        self.buf = self._hosted(host, n_rows) if host is not None else staggered_zero(
            n_rows * self.width, np.float64, (), slot)

    def _hosted(self, host: np.ndarray, n_rows: int) -> np.ndarray:
        if (host.dtype != np.float64 or host.ndim != 1 or not host.flags.c_contiguous
                or host.shape[0] < n_rows * self.width):
            raise ValueError("a draw pool's host must be a contiguous float64 array of at least rows x width values")
        return host

    def view(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.buf[:math.prod(shape)].reshape(shape)

    def grow(self, n_rows: int, host: np.ndarray | None = None) -> None:
        """Room for n_rows rows (the contents need not survive: every draw refills them), in `host`
        (the host array reallocated with the rows) or in a buffer of its own."""
        if host is not None:
            self.buf = self._hosted(host, n_rows)
        elif n_rows * self.width > self.buf.shape[0]:
            self.buf = None  # free the old buffer first: the peak is one buffer, not two
            self.buf = staggered_zero(n_rows * self.width, np.float64, (), self.slot)


class RowDraws:
    """Uniforms for every firm row, one set a month (`draw`), into a buffer shared with the other
    per-row processes (`DrawPool`) or of its own.

    Rows come in blocks. The rows the run starts with draw from the process's stream; a block of
    rows added later (`grow`, when entrants find no free row) draws from a stream of its own, named
    after the process and the block's number. Adding rows therefore never shifts the draws of the
    rows that were there: two scenarios that grow differently still share the draws of the rows
    they have in common (common random numbers).

    (Drawing in a background thread while the step went on was measured no faster on 2 cores, the
    kernels' threads having both, and cost a millisecond a month in thread starts. The buffer is
    instead filled in parallel by a kernel that makes numpy's numbers: `fill_uniforms`.)"""

    def __init__(self, gen: np.random.Generator, shape: tuple[int, ...], seed: int = 0, name: str = "",
                 pool: DrawPool | None = None):
        self.seed, self.name = int(seed), name
        self.n, self.tail = int(shape[0]), tuple(shape[1:])
        self.width = int(np.prod(self.tail, dtype=np.int64))  # uniforms a row
        self.own = pool is None
        self.pool = DrawPool(self.n, self.width) if pool is None else pool
        self.blocks: list[tuple[np.random.Generator, int, int]] = [(gen, 0, self.n)]

    def draw(self) -> np.ndarray:
        """This month's uniforms, shape (rows,) + tail (overwritten by the pool's next draw; in a
        fresh array when the pool is narrower than a row's uniforms: a process the model draws
        with `at`, drawn whole by the Mesa reference)."""
        shape = (self.n,) + self.tail
        out = self.pool.view(shape) if self.pool.width >= self.width else np.empty(shape)
        for gen, lo, hi in self.blocks:
            fill_uniforms(gen, out[lo:hi])
        return out

    def at(self, rows: np.ndarray) -> np.ndarray:
        """This month's uniforms of the given rows only (ascending, without repeats), shape
        (len(rows),) + tail: `draw()[rows]` number for number, the streams left where `draw` leaves
        them, without making the others. For a process few rows use (the bank search: 34,000
        applicants among 437,583 rows at 1:1) this is a few jumps of the generator instead of a
        buffer of all rows: 0.66 ms on two threads against 0.76 for filling 875,166 uniforms, and
        the allocation then reads its applicants' uniforms in order instead of scattered over a
        7 MB buffer (the month 42.0 -> 40.8 ms)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not _ascending(rows):
            raise ValueError("RowDraws.at needs rows in ascending order, without repeats")
        width = self.width
        out = np.empty((rows.shape[0], width))
        for gen, lo, hi in self.blocks:
            bg = gen.bit_generator
            if type(bg) is not np.random.PCG64 or not _native_state():  # the block's buffer, then its rows
                a, b = np.searchsorted(rows, [lo, hi])
                out[a:b] = gen.random((hi - lo, width))[rows[a:b] - lo]
                continue
            _pcg64_rows(bg.ctypes.state_address, rows, lo, hi, out)
        return out.reshape((rows.shape[0],) + self.tail)

    def grow(self, extra: int) -> None:
        """Add `extra` rows, drawn from the next block's own stream from the next month on (a
        shared pool is grown by its owner)."""
        gen = stream(self.seed, f"{self.name}/block{len(self.blocks)}")
        self.blocks.append((gen, self.n, self.n + extra))
        self.n += extra
        if self.own:
            self.pool.grow(self.n)
