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


@pytest.mark.parametrize("n", [0, 5, 130, 9_999, 200_003])
def test_live_weights_as_numpy(n):
    rng = np.random.default_rng(7 + n)
    alive = rng.random(n) < 0.8
    sme = rng.random(n) < 0.9
    court = np.where(~alive & (rng.random(n) < 0.3), rng.integers(1, 30, n), 0).astype(np.int32)
    sector = rng.integers(0, 10, n).astype(np.int8)
    weight = rng.random(10) * 3.7
    loans = rng.random(n) * 1e6
    w_row = weight[sector]
    live_sme, live_all, w_est, l_est = sums.live_weights(alive, sme, sector, weight, court, loans)
    assert live_sme == w_row[alive & sme].sum()
    assert live_all == w_row[alive].sum()
    est = (court > 0) & ~alive
    assert np.array_equal(w_est, w_row[est]) and np.array_equal(l_est, loans[est])
    assert np.dot(w_est, l_est) == np.dot(w_row[est], loans[est])
