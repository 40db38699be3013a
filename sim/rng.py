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
