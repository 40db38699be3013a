"""Named random streams derived from the run seed.

Each process (demand shocks, innovation, entry, ...) has its own numpy Generator seeded from the
run seed and a hash of the process name (the Starsim habit), so adding a draw to one process does
not shift any other. Draws are made as arrays outside the kernels, in a fixed order and in fixed
shapes that depend only on the run size, so two scenarios with the same seed see the same numbers
(common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

from .state import staggered_zeros

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


class RowDraws:
    """Uniforms for every firm row, one set a month (`draw`), into a preallocated buffer.

    Rows come in blocks. The rows the run starts with draw from the process's stream; a block of
    rows added later (`grow`, when entrants find no free row) draws from a stream of its own, named
    after the process and the block's number. Adding rows therefore never shifts the draws of the
    rows that were there: two scenarios that grow differently still share the draws of the rows
    they have in common (common random numbers).

    (Drawing in a background thread while the step went on was measured no faster on 2 cores, the
    kernels' threads having both, and cost a millisecond a month in thread starts.)"""

    def __init__(self, gen: np.random.Generator, shape: tuple[int, ...], seed: int = 0, name: str = "",
                 slot: int = 0):
        self.seed, self.name, self.slot = int(seed), name, slot  # slot: see state.staggered_zeros
        self.buf = self._empty(shape)
        self.blocks: list[tuple[np.random.Generator, int, int]] = [(gen, 0, shape[0])]

    def _empty(self, shape: tuple[int, ...]) -> np.ndarray:
        return staggered_zeros(shape[0], {"u": (np.float64, tuple(shape[1:]))}, self.slot)["u"]

    def draw(self) -> np.ndarray:
        """This month's uniforms (the buffer is overwritten by the next call)."""
        for gen, lo, hi in self.blocks:
            gen.random(out=self.buf[lo:hi])
        return self.buf

    def grow(self, extra: int) -> None:
        """Add `extra` rows, drawn from the next block's own stream from the next month on."""
        n = self.buf.shape[0]
        gen = stream(self.seed, f"{self.name}/block{len(self.blocks)}")
        buf = self._empty((n + extra,) + self.buf.shape[1:])
        buf[:n] = self.buf
        self.buf = buf
        self.blocks.append((gen, n, n + extra))
