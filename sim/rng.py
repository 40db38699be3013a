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


class Prefetch:
    """The next draw of a stream that is used once per step, made in a background thread while the
    step goes on (numpy releases the GIL while it fills an array). The stream sees exactly the same
    sequence of draws as if each were made when needed: `take()` waits for the fill and returns the
    buffer; `start()` begins the next fill once the caller is done with the buffer."""

    def __init__(self, gen: np.random.Generator, shape: tuple[int, ...]):
        self.gen = gen
        self.buf = np.empty(shape)
        self._thread: threading.Thread | None = None
        self.start()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.gen.random, kwargs={"out": self.buf}, daemon=True)
        self._thread.start()

    def take(self) -> np.ndarray:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return self.buf
