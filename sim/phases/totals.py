"""Live firms, capacity and pipeline by sector, summed over the firm rows only when a phase changed
them: the capacity rules, entry and the records read them several times a month."""

from __future__ import annotations

import numpy as np

from ..kernels import sums


class SectorTotals:
    """Live model firms, capacity and pipeline by sector (model-firm units; columns 0, 1, 2 of
    `values`). A phase that changes which rows are alive, or their capacity or pipeline, calls
    `invalidate`; one whose kernel summed them in passing (in the same chunks and order as
    `sums.sector_totals`) hands them over with `set` or `mark_summed`."""

    def __init__(self, n_sectors: int):
        self.values = np.zeros((n_sectors, 3))
        self.ok = False

    def of(self, firms) -> np.ndarray:
        """The totals of `firms` (state.Firms), summed again if a phase invalidated them."""
        if not self.ok:
            sums.sector_totals(firms.alive, firms.sector, firms.capacity, firms.pipeline, self.values)
            self.ok = True
        return self.values

    def set(self, totals: np.ndarray) -> None:
        self.values[:] = totals
        self.ok = True

    def mark_summed(self) -> None:
        """A kernel wrote the totals into `values` itself."""
        self.ok = True

    def invalidate(self) -> None:
        self.ok = False
