"""The closed economy's accounts in compiled calls (sim/kernels/flows.py) give the numpy they
replace bit for bit: sums over a matrix's axes, the positive part of a column summed, the banks'
interest by position."""

from __future__ import annotations

import numpy as np

from sim.kernels import flows


def _matrix(rng, rows, cols):
    m = rng.standard_normal((rows, cols)) * 10.0 ** rng.integers(-3, 12, (rows, cols))
    m[rng.random((rows, cols)) < 0.3] = 0.0
    return m


def test_sums_over_a_matrix_as_numpy_makes_them():
    rng = np.random.default_rng(5)
    for rows in (7, 12, 51, 130):
        m = _matrix(rng, rows, 7)
        assert flows.column_sums(m).tobytes() == m.sum(axis=0).tobytes()
        for c in range(7):
            assert flows._positive_sum(m[:, c]) == m[:, c].clip(min=0).sum()


def test_the_checks_as_numpy_makes_them():
    rng = np.random.default_rng(6)
    for _ in range(20):
        m, sheet = _matrix(rng, 51, 7), _matrix(rng, 12, 7)
        equity = float(rng.standard_normal())
        fin = [0, 1, 3, 4, 5, 6, 7]
        nw = 11
        want = (max(float(np.abs(m.sum(axis=1)).max()), float(np.abs(m.sum(axis=0)).max())),
                float(max(np.abs(m).max(initial=0.0), 1.0)),
                max(abs(-sheet[nw, 3] - equity), abs(sheet[nw, 4]), float(np.abs(sheet[fin].sum(axis=1)).max())),
                float(np.abs(sheet).max()))
        assert flows.gaps(m, sheet, equity) == want


def test_bank_interest_as_numpy_makes_it():
    rng = np.random.default_rng(7)
    n = 23
    bonds, reserves, excess, advances, relend = (rng.random(n) * 1e10 for _ in range(5))
    dh = rng.standard_normal(n) * 1e10
    dh[:3] = (0.0, -0.0, np.nan)
    rates = (0.03 / 12.0, 0.0162, 0.0035, (0.0435 + 0.01) / 12.0, 0.025 / 12.0, 0.015 / 12.0)
    parts, income = flows.bank_interest(rates, bonds, reserves, excess, advances, relend, dh)
    want = (rates[0] * bonds, (rates[1] * reserves + rates[2] * excess) / 12.0, rates[3] * advances,
            rates[4] * relend, rates[5] * np.maximum(dh, 0.0))
    assert parts.tobytes() == np.array(want).tobytes()
    assert income.tobytes() == (want[0] + want[1] - want[2] - want[3] - want[4]).tobytes()
