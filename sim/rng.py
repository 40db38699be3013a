"""Named random streams derived from the run seed.

Each process (demand shocks, innovation, entry, ...) has its own numpy Generator seeded from the
run seed and a hash of the process name (the Starsim habit), so adding a draw to one process does
not shift any other. Draws are made as arrays outside the kernels, in a fixed order and in fixed
shapes that depend only on the run size, so two scenarios with the same seed see the same numbers
(common random numbers).
"""

from __future__ import annotations

import threading
import zlib

import numpy as np

from .state import staggered_zero

STREAMS = ("init", "demand", "innovation", "upgrade", "imitation", "entry", "credit")


def stream(seed: int, name: str) -> np.random.Generator:
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(key,)))


class Streams:
    def __init__(self, seed: int):
        self.seed = int(seed)
        self._g = {name: stream(seed, name) for name in STREAMS}

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._g[name]


SPLIT_AT = 1 << 20  # uniforms: from this many on, two threads fill halves of the buffer (see fill_uniforms)


def fill_uniforms(gen: np.random.Generator, out: np.ndarray) -> None:
    """out <- gen.random(out=out), the same numbers and the same generator state after, filled by
    two threads when the buffer is large: the second half comes from a copy of the bit generator
    advanced past the first half (a PCG64 double uses exactly one 64-bit output), and the generator
    is then advanced past both. numpy releases the GIL while it fills, so the halves fill at once.

    Only for large buffers: GNU OpenMP keeps numba's worker thread spinning for a while after each
    parallel kernel, and a second filling thread started then competes with it for the other core.
    Measured in the 1:1 economy (24 months, 3 runs each): splitting from 2^17 uniforms on (the
    month's 437,583- and 875,166-uniform draws) took the month from 52.7 to 57.6 ms, though the same
    fills alone were 40% faster split; from 2^20 on (5M firms: 5.8 and 11.6 million uniforms) the
    fills outlast the spinning and the split halves their time."""
    flat = out.reshape(-1)
    n = flat.shape[0]
    bg = gen.bit_generator
    if n < SPLIT_AT or not isinstance(bg, np.random.PCG64):
        gen.random(out=out)
        return
    half = n // 2
    bg2 = np.random.PCG64()
    bg2.state = bg.state
    bg2.advance(half)
    second = threading.Thread(target=np.random.Generator(bg2).random, kwargs={"out": flat[half:]})
    second.start()
    gen.random(out=flat[:half])
    second.join()
    bg.advance(n - half)


class DrawPool:
    """One flat buffer that the month's per-row uniforms of several processes take in turn.

    Each process's uniforms are used up by the phase that draws them before the next process
    draws (upgrade reviews in step 7's plans, bank search in step 7's credit market, imitation in
    step 8), so one buffer as large as the widest serves all: 16 bytes a row instead of 32 with two
    searched banks. A `RowDraws.draw` overwrites what the previous one returned."""

    def __init__(self, n_rows: int, width: int, slot: int = 0):
        self.width, self.slot = int(width), slot  # slot: see state.staggered_zeros
        self.buf = staggered_zero(n_rows * self.width, np.float64, (), slot)

    def view(self, shape: tuple[int, ...]) -> np.ndarray:
        size = int(np.prod(shape, dtype=np.int64))
        return self.buf[:size].reshape(shape)

    def grow(self, n_rows: int) -> None:
        """Room for n_rows rows (the contents need not survive: every draw refills them)."""
        if n_rows * self.width > self.buf.shape[0]:
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
    kernels' threads having both, and cost a millisecond a month in thread starts. A large buffer is
    instead filled by two threads at once when it is needed: `fill_uniforms`.)"""

    def __init__(self, gen: np.random.Generator, shape: tuple[int, ...], seed: int = 0, name: str = "",
                 pool: DrawPool | None = None):
        self.seed, self.name = int(seed), name
        self.n, self.tail = int(shape[0]), tuple(shape[1:])
        width = int(np.prod(self.tail, dtype=np.int64))
        self.own = pool is None
        self.pool = DrawPool(self.n, width) if pool is None else pool
        if self.pool.width < width:
            raise ValueError(f"draws {name!r} need {width} uniforms a row; the pool holds {self.pool.width}")
        self.blocks: list[tuple[np.random.Generator, int, int]] = [(gen, 0, self.n)]

    def draw(self) -> np.ndarray:
        """This month's uniforms, shape (rows,) + tail (overwritten by the pool's next draw)."""
        out = self.pool.view((self.n,) + self.tail)
        for gen, lo, hi in self.blocks:
            fill_uniforms(gen, out[lo:hi])
        return out

    def grow(self, extra: int) -> None:
        """Add `extra` rows, drawn from the next block's own stream from the next month on (a
        shared pool is grown by its owner)."""
        gen = stream(self.seed, f"{self.name}/block{len(self.blocks)}")
        self.blocks.append((gen, self.n, self.n + extra))
        self.n += extra
        if self.own:
            self.pool.grow(self.n)
