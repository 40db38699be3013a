"""numpy's pairwise sum reproduced in compiled code (kernels.sums): the records' distress sums over
the firm rows (live weights by size class, the estates in court) are the numbers numpy gave, bit
for bit, without gathering the rows."""

import numpy as np
import pytest

from sim.kernels import sums


@pytest.mark.parametrize("n", [*range(0, 140), 255, 256, 257, 1000, 4097, 65_537, 437_583])
def test_pairwise_sum_is_numpys_sum(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6, n)  # magnitudes apart: order shows
    assert sums.pairwise_sum(x) == np.sum(x)
    # a sequential sum differs from numpy's for long enough arrays: the test can tell
    if n == 437_583:
        seq = 0.0
        for v in x:
            seq += v
        assert seq != np.sum(x)


def _rows(seed: int, n: int, sme_share: float):
    """Firm rows for live_weights: (alive, sme, court, sector, weight, loans)."""
    rng = np.random.default_rng(seed)
    alive = rng.random(n) < 0.8
    sme = rng.random(n) < sme_share
    court = np.where(~alive & (rng.random(n) < 0.3), rng.integers(1, 30, n), 0).astype(np.int32)
    sector = rng.integers(0, 10, n).astype(np.int8)
    return alive, sme, court, sector, rng.random(10) * 3.7, rng.random(n) * 1e6


@pytest.mark.parametrize("n", [0, 5, 130, 9_999, 200_003])
def test_live_weights_as_numpy(n):
    alive, sme, court, sector, weight, loans = _rows(7 + n, n, 0.9)
    w_row = weight[sector]
    live_sme, live_all, w_est, l_est = sums.live_weights(alive, sme, sector, weight, court, loans, np.zeros(0), 0.0)
    assert live_sme == w_row[alive & sme].sum()
    assert live_all == w_row[alive].sum()
    est = (court > 0) & ~alive
    assert np.array_equal(w_est, w_row[est]) and np.array_equal(l_est, loans[est])
    assert np.dot(w_est, l_est) == np.dot(w_row[est], loans[est])


@pytest.mark.parametrize("n", [0, 130, 200_003])
def test_live_weights_classify_by_size_first(n):
    """With the capacities, live_weights first classifies the live firms by size as
    sums.classify_size does, and sums the SMEs of the new classes."""
    alive, sme, court, sector, weight, loans = _rows(11 + n, n, 0.5)
    capacity = np.random.default_rng(n).random(n)
    want = sme.copy()
    sums.classify_size(alive, capacity, 0.7, want)
    live_sme, live_all, _, _ = sums.live_weights(alive, sme, sector, weight, court, loans, capacity, 0.7)
    assert np.array_equal(sme, want)
    w_row = weight[sector]
    assert live_sme == w_row[alive & want].sum() and live_all == w_row[alive].sum()
    if n > 1000:
        assert live_sme != w_row[alive & (capacity < 0.5)].sum()  # another class gives another sum


def test_live_weights_blocks_across_sparse_chunks():
    """Blocks of the pairwise sum that span several chunks (chunks with no live row, or fewer than
    a block's values, as the never-used rows at the end of the state give): the sums are still
    numpy's."""
    n = 8 * 30_000  # 8 chunks of 30,016 rows
    alive, sme, court, sector, weight, loans = _rows(3, n, 0.7)
    cs = 30_016
    alive[2 * cs:4 * cs] = False
    alive[2 * cs + 100:2 * cs + 150] = True  # 50 values in chunk 2, none in chunk 3
    alive[5 * cs:6 * cs] = False
    alive[5 * cs + 7] = True  # one in chunk 5
    alive[7 * cs:] = False  # the last chunk empty
    w_row = weight[sector]
    for keep in (alive, alive & (np.arange(n) % 97 == 0)):
        live_sme, live_all, _, _ = sums.live_weights(keep, sme, sector, weight, court, loans, np.zeros(0), 0.0)
        assert live_all == w_row[keep].sum() and live_sme == w_row[keep & sme].sum()
