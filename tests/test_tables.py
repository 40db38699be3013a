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
    assert list(tables.masked_sums(live, cols)) == [c[live].sum() for c in cols]


def test_entrants_by_sector_as_a_loop_over_sectors():
    rng = np.random.default_rng(3)
    counts = np.array([0, 3, 0, 140, 1, 9])
    most = int(counts.max())
    start, s_of, pos = tables.entrant_positions(counts, most)
    s_exp = np.repeat(np.arange(6), counts)
    j = np.arange(counts.sum()) - np.concatenate(([0], np.cumsum(counts)))[s_exp]
    assert np.array_equal(start, np.concatenate(([0], np.cumsum(counts))))
    assert np.array_equal(s_of, s_exp)
    assert np.array_equal(pos, s_exp * most + j)
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


def test_entry_draws_are_the_fixed_layouts_numbers_and_leave_the_stream_where_it_leaves_it():
    from sim.kernels.poisson import entrant_counts
    from sim.phases import entry

    lam = np.array([0.0, 2.0, 0.5, 30.0, 7.0])
    most = np.array([4, 5, 4, 40, 9])
    g, ref = np.random.default_rng(11), np.random.default_rng(11)
    d = entry.draw_entrants(g, lam, most)
    w = int(most.max())
    counts = entrant_counts(ref.random(5), lam, most)
    u, z, zl, uw = ref.random((5, w, 3)), ref.standard_normal((5, w)), ref.standard_normal((5, w)), ref.random((5, w))
    s = np.repeat(np.arange(5), counts)
    j = np.arange(counts.sum()) - np.concatenate(([0], np.cumsum(counts)))[s]
    assert np.array_equal(d.counts, counts) and counts.sum() > 0
    assert np.array_equal(d.u, u[s, j]) and np.array_equal(d.size, z[s, j])
    assert np.array_equal(d.leverage, zl[s, j]) and np.array_equal(d.wedge, uw[s, j])
    assert g.random() == ref.random()


def test_entrants_rows_written_as_set_rows_writes_them():
    from sim.state import FIRM_FIELDS, Firms

    rng = np.random.default_rng(4)
    a, b = Firms(50), Firms(50)
    for name in FIRM_FIELDS:  # leftovers of the firms that exited there
        v = (rng.random(50) * 100).astype(getattr(a, name).dtype)
        getattr(a, name)[:] = v
        getattr(b, name)[:] = v
    rows = np.array([3, 7, 8, 20, 41])
    before_orders = b.orders[rows].copy()
    n = rows.size
    vals = {k: rng.random(n) for k in ("capacity", "productivity", "energy_intensity", "share", "orders", "markup",
                                       "price", "cost_wedge", "leverage_target", "loan_rate", "cash", "capital",
                                       "other_assets", "other_liab", "loans", "net_worth")}
    s_of, bank = rng.integers(0, 30, n), rng.integers(0, 400, n)
    a.set_rows(rows, dict(alive=True, sme=True, firm_id=np.arange(90, 90 + n), sector=s_of, bank=bank,
                          share_prev=vals["share"], expected=vals["orders"], **vals))
    tables.write_entrants(b.bundle(), rows, 90, tables.EntrantValues(sector=s_of, bank=bank, **{
        k: v for k, v in vals.items() if k in tables.EntrantValues._fields}))
    for name in FIRM_FIELDS:  # (an entrant's `orders` are the market step's: its array holds the credit scratch's)
        assert name == "orders" or np.array_equal(getattr(a, name), getattr(b, name)), name
    np.testing.assert_array_equal(b.orders[rows], before_orders)
