"""The month's small tables summed in compiled calls (kernels.tables) give numpy's sums bit for bit:
the records and the accounts read them instead of numpy's."""

import numpy as np
import pytest

from sim.kernels import tables


def _values(rng, shape):
    return rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 6, shape)  # magnitudes apart: order shows


@pytest.mark.parametrize("n", [1, 7, 8, 30, 129, 4000])
def test_scaled_with_totals_is_numpys_column_sums(n):
    rng = np.random.default_rng(n)
    table, weight = _values(rng, (n, 11)), rng.random(n) * 50.0
    scaled, tot = tables.scaled_with_totals(table, weight)
    expect = table * weight[:, None]
    assert np.array_equal(scaled, expect)
    assert all(tot[k] == expect[:, k].sum() for k in range(11))


@pytest.mark.parametrize("n", [0, 5, 21, 300, 4000])
def test_bank_sums_are_numpys(n):
    rng = np.random.default_rng(100 + n)
    cols = tuple(_values(rng, n) for _ in range(4))
    live = rng.random(n) < 0.7
    assert list(tables.array_sums(cols)) == [c.sum() for c in cols]
    assert list(tables.masked_sums(live, cols)) == [c[live].sum() for c in cols]


def test_entrants_by_sector_as_a_loop_over_sectors():
    rng = np.random.default_rng(3)
    counts = np.array([0, 3, 0, 140, 1, 9])
    most = int(counts.max())
    u, size = rng.random((6, most, 3)), rng.standard_normal((6, most))
    lev, wedge = rng.standard_normal((6, most)), rng.random((6, most))
    start, s_of, us, zs, zl, uw = tables.entrant_draws(counts, u, size, lev, wedge)
    s_exp = np.repeat(np.arange(6), counts)
    j = np.arange(counts.sum()) - np.concatenate(([0], np.cumsum(counts)))[s_exp]
    assert np.array_equal(start, np.concatenate(([0], np.cumsum(counts))))
    assert np.array_equal(s_of, s_exp)
    assert np.array_equal(us, u[s_exp, j]) and np.array_equal(zs, size[s_exp, j])
    assert np.array_equal(zl, lev[s_exp, j]) and np.array_equal(uw, wedge[s_exp, j])
    cap, cash, weight = _values(rng, s_of.size) ** 2, _values(rng, s_of.size), rng.random(6) * 9.0
    room = np.array([np.inf, 0.5, 1.0, 1e-3, np.inf, np.nan])
    fitted = cap.copy()
    tables.fit_to_room(fitted, start, room)
    expect = cap.copy()
    cash_sum, cap_sum = 0.0, np.zeros(6)
    for s in np.flatnonzero(counts):
        sl = slice(start[s], start[s + 1])
        if np.isfinite(room[s]):
            expect[sl] = expect[sl] * min(1.0, room[s] / max(expect[sl].copy().sum(), 1e-12))
        cash_sum += float(weight[s] * cash[sl].sum())
        cap_sum[s] = expect[sl].copy().sum()
    assert np.array_equal(fitted, expect)
    got_cap, got_cash = tables.entrant_totals(fitted, cash, start, weight)
    assert np.array_equal(got_cap, cap_sum) and got_cash == cash_sum
