"""The step's own sector arithmetic in compiled loops (kernels.sector_month) gives what the numpy
expressions it replaced gave, bit for bit and sign of zero included (zeros, infinities and NaN
among the inputs), and numpy's sums."""

import numpy as np
import pytest

from sim.kernels import sector_month as k


def _edgy(rng, n, scale=1.0):
    x = (rng.random(n) - 0.3) * scale
    pick = rng.integers(0, 12, n)
    x[pick == 0] = 0.0
    x[pick == 1] = -0.0
    x[pick == 2] = np.inf
    x[pick == 3] = np.nan
    return x


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("seed", range(10))
def test_the_step_arithmetic_is_numpys(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    e = [_edgy(rng, n, 10.0 ** rng.integers(-3, 4)) for _ in range(8)]
    decay, a, b, c = (float(x) for x in rng.random(4))
    with np.errstate(all="ignore"):
        factor = 1 + (e[0] - 1) * (1 - decay)
        blend = 1 + (factor - 1) * e[1]
        got = k.vat_margin(e[0], decay, e[1], e[2])
        assert _same(got[0], factor) and _same(got[1], blend) and got[2] == bool(np.any(blend != e[2]))
        assert not k.vat_margin(e[0], decay, e[1], blend.copy())[2] or np.isnan(blend).any()

        base = e[0] / e[1]
        got = k.buyers_prices(e[0], e[1], e[2], e[3], e[4], e[5], a)
        assert _same(got[0], base) and _same(got[1], base * e[2] * (1 + e[3]) * (1 - e[4]))
        assert _same(got[2], e[5] * a / base)

        shock = np.append(e[6], b)
        support, mine = e[7].copy(), e[7].copy()
        cycle = a * e[0] + c * shock[n] + (b * shock[:n])
        support *= 1 + e[1] / 12.0
        assert _same(k.demand_cycle(e[0], shock, (a, c, b), mine, e[1]), cycle) and _same(mine, support)

        anchor = np.maximum(e[0] + a * (1.0 - e[1]) * (e[2] - e[3]), 0.0)
        assert _same(k.markup_anchor(e[0], a, e[1], e[2], e[3]), anchor)

        elec = 1 + e[0] * a + (1 - e[0]) * b
        assert _same(k.energy_price_index(e[0], e[1], (a, b, c)), e[1] * elec + (1 - e[1]) * (1 + c))

        new = e[1] + a * (e[0] - e[1])
        g = np.divide(new, e[1], out=np.ones_like(new), where=e[1] > 0) - 1.0
        got = k.learned_growth(e[0], e[1], e[2], a, b)
        assert _same(got[0], new) and _same(got[1], e[2] + b * (12.0 * g - e[2]))

        x = 12.0 * np.divide(e[0] - e[1], e[2], out=np.zeros(n), where=e[2] > 0)
        assert _same(k.learned_turnover(e[0], e[1], e[2], e[3], a), e[3] + a * (x - e[3]))

        io = _edgy(rng, n * n).reshape(n, n)
        assert _same(k.inputs_received(io, e[0], e[1]), io * e[0][:, None] / e[1][None, :])

        assert _same(k.max_abs_gap(e[0], e[1]), np.max(np.abs(e[0] - e[1])))

        fs = rng.standard_normal((2, n))
        got = k.frontier_moves(e[0], -e[1], fs, (a, 0.5 * a**2))
        assert _same(got[0], e[0] / 12.0 + a * fs[0] - 0.5 * a**2)
        assert _same(got[1], -e[1] / 12.0 + a * fs[1] - 0.5 * a**2)


@pytest.mark.parametrize("n", [1, 5, 8, 9, 30, 129, 4_000, 70_001])
def test_the_sums_are_numpys(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6, n)
    w, p, v = rng.random(n), rng.random(n) + 0.1, rng.random(n) + 0.5
    assert k.abs_sum(x) == np.sum(np.abs(x))
    assert k.investment_price(w, p, v) == np.sum(w * (p / v)) / np.sum(w)
    assert k.weighted_mean(p, w) == np.sum(p * w) / np.sum(w)
    s = w * 0.9
    assert k.purchase_subsidy_cost(s, p, v) == np.sum(s / (1 - s) * p * v)
    table = rng.standard_normal((n, 4))
    assert k.weighted_column_sums(table, 1, 3, w) == (np.sum(table[:, 1] * w), np.sum(table[:, 3] * w))


@pytest.mark.parametrize("seed", range(10))
def test_the_step_terms_in_kernels_are_numpys(seed):
    """energy_costs, capital_prices, min_shares, learn_margin, smooth_toward, price_index_after and
    entrant_terms against the numpy lines of sim/model.py they replaced."""
    rng = np.random.default_rng(50 + seed)
    n = int(rng.integers(1, 40))
    e = [_edgy(rng, n, 10.0 ** rng.integers(-3, 4)) for _ in range(12)]
    a, b, c, d = (float(x) for x in rng.random(4))
    firms = rng.integers(-1, 4, n)
    with np.errstate(all="ignore"):
        assert _same(k.energy_costs(e[0], e[1], e[2], (a, b, c)), e[0] * k.energy_price_index(e[1], e[2], (a, b, c)))
        w, p, v = rng.random(n), rng.random(n) + 0.1, rng.random(n) + 0.5
        price, per_capacity = k.capital_prices(w, p, v, e[3], e[4])
        assert price == k.investment_price(w, p, v) and _same(per_capacity, e[3] * 12.0 * e[4] * price)
        assert _same(k.min_shares(d, firms), d / np.maximum(firms, 1))
        assert _same(k.min_shares(d, e[5]), d / np.maximum(e[5], 1))
        table = np.stack([e[6], e[7], e[8]], axis=1)
        smooth = e[9].copy()
        want = e[9] + a * (table[:, 1] / np.maximum(table[:, 2], 1e-12) - e[9])
        k.learn_margin(table, 1, 2, smooth, a)
        assert _same(smooth, want)
        smooth = e[9].copy()
        k.smooth_toward(smooth, e[10], b)
        assert _same(smooth, e[9] + b * (e[10] - e[9]))
        assert _same(k.price_index_after(e[6], e[7], e[8]), np.where(e[6] > 0, e[7] / np.maximum(e[6], 1e-300), e[8]))
        cap, weight, median, per0, pi, vb, lab, serv, dem, room = e[:10]
        got = k.entrant_terms((cap, weight, firms, median, per0), pi, vb, lab, serv, dem, room)
        want = (median * (cap / weight / np.maximum(firms, 1)) / per0, pi / vb, lab + serv, dem / weight, room / weight)
        for x, y in zip(got, want, strict=True):
            assert _same(x, y)
        assert _same(k.entrant_terms((cap, weight, np.zeros(0, np.int64), median, per0), pi, vb, lab, serv, dem,
                                     room)[0], median)
