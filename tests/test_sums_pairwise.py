"""numpy's pairwise sum reproduced in compiled code (kernels.sums): the records' distress sums over
the firm rows (live weights by size class, the estates in court) are the numbers numpy gave, bit
for bit, without gathering the rows."""

from collections import namedtuple

import numpy as np
import pytest

from sim.kernels import sums


@pytest.mark.parametrize("n", [*range(0, 140), 255, 256, 257, 1000, 4097, 65_537, 437_583])
def test_pairwise_sum_is_numpys_sum(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6, n)  # magnitudes apart: order shows
    assert sums.pairwise_sum(x) == np.sum(x)
    column = np.stack([x, -x, x], axis=1)[:, 2]  # strided (a matrix's column): the same sum
    assert sums.pairwise_sum(column) == column.sum()
    # a sequential sum differs from numpy's for long enough arrays: the test can tell
    if n == 437_583:
        seq = 0.0
        for v in x:
            seq += v
        assert seq != np.sum(x)


def _assert_as_numpy(alive, rng):
    """live_weights over rows with these live flags (SMEs, estates, sectors, weights and loans
    drawn) gives numpy's sums of the gathered rows."""
    n = alive.shape[0]
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


@pytest.mark.parametrize("n", [0, 5, 130, 9_999, 200_003])
def test_live_weights_as_numpy(n):
    rng = np.random.default_rng(7 + n)
    _assert_as_numpy(rng.random(n) < 0.8, rng)


@pytest.mark.parametrize("pattern", ["few", "dead_middle", "dead_tail", "sparse_chunk", "all_dead", "all_live"])
def test_live_weights_over_chunks_as_numpy(pattern):
    """Rows in several chunks (numpy's blocks straddle the chunk boundaries): chunks with no live
    rows, in the middle and at the end (the never-used rows after the last live one), and a chunk
    with fewer live rows than a block holds."""
    n = 300_001
    rng = np.random.default_rng(len(pattern))
    alive = rng.random(n) < (0.02 if pattern == "few" else 0.966)
    if pattern == "dead_middle":
        alive[70_000:150_000] = False
    elif pattern == "dead_tail":
        alive[190_000:] = False
    elif pattern == "sparse_chunk":
        alive[40_000:120_000] = rng.random(80_000) < 0.0005
    elif pattern == "all_dead":
        alive[:] = False
    elif pattern == "all_live":
        alive[:] = True
    _assert_as_numpy(alive, rng)


@pytest.mark.parametrize("counts", ["right", "unknown", "more_live", "fewer_sme", "more_estates", "stale"])
def test_classify_and_weigh_as_classify_then_live_weights(counts):
    """The one pass (classes written, sums planned with month_sums' counts) gives what classify_size
    then live_weights give, bit for bit; counts that do not hold (not counted, or off by one either
    way) are found and the rows counted and summed again."""
    n = 300_001
    rng = np.random.default_rng(11)
    alive = rng.random(n) < 0.95
    alive[250_000:] = False
    capacity = rng.random(n) * 2.0
    court = np.where(~alive & (rng.random(n) < 0.3), rng.integers(1, 30, n), 0).astype(np.int32)
    sector = rng.integers(0, 10, n).astype(np.int8)
    weight = rng.random(10) * 3.7
    loans = rng.random(n) * 1e6
    sme0 = rng.random(n) < 0.5  # last month's classes
    want_sme = sme0.copy()
    sums.classify_size(alive, capacity, 0.9, want_sme)
    want = sums.live_weights(alive, want_sme, sector, weight, court, loans)
    c = np.array([alive.sum(), (alive & (capacity < 0.9)).sum(), (~alive & (court > 0)).sum()], dtype=float)
    c = {"right": c, "unknown": np.full(3, -1.0), "more_live": c + [1, 0, 0], "fewer_sme": c - [0, 1, 0],
         "more_estates": c + [0, 0, 1], "stale": c + [-3, 5, 2]}[counts]
    sme = sme0.copy()
    rows = namedtuple("Rows", "alive capacity sme sector court loans")(alive, capacity, sme, sector, court, loans)
    got = sums.classify_and_weigh(rows, weight, 0.9, c)
    assert np.array_equal(sme, want_sme)
    assert got[0] == want[0] and got[1] == want[1]
    assert np.array_equal(got[2], want[2]) and np.array_equal(got[3], want[3])
