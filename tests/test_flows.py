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


def test_the_banks_positions_as_numpy_makes_them():
    """flows.allocate against the numpy of BankPositions._allocate it replaced."""
    rng = np.random.default_rng(8)
    n = 21
    alive = rng.random(n) < 0.8
    size_share = rng.random(n)
    size_share /= size_share.sum()
    deposits, equity, loans, provisions = (rng.random(n) * 1e12 for _ in range(4))
    ratio, relending = 0.094 - 0.005 * (rng.random(n) < 0.3), rng.random(n) * 1e9
    for dh, debt in ((5e13, 1e15), (5e13, 1e11)):  # bonds enough for every bank, and rationed
        positions = tuple(rng.random(n) for _ in range(6))
        start = [p.copy() for p in positions]
        before, after = flows.allocate(alive, size_share, dh, debt, 7.0, (ratio, relending),
                                       (deposits, equity, loans, provisions), positions)
        share = np.where(alive, size_share, 0.0)
        dh_bank = dh * share / share.sum()
        liq = np.where(alive, deposits + dh_bank + equity - loans + provisions + relending, 0.0)
        reserves = ratio * np.maximum(np.where(alive, deposits + dh_bank, 0.0), 0.0)
        rest = liq - reserves
        want = np.maximum(rest, 0.0)
        total = want.sum()
        bonds = want * (1.0 if total <= debt else debt / total)
        want_all = (dh_bank, reserves, want - bonds, bonds, np.maximum(-rest, 0.0), relending)
        for got, want_ in zip(positions, want_all, strict=True):
            assert got.tobytes() == want_.tobytes()
        sums = lambda p, cb: (p[1].sum() + p[2].sum(), p[3].sum(), cb, p[4].sum(), p[5].sum())  # noqa: E731
        assert before == sums(start, 7.0)
        assert after == sums(want_all, debt - bonds.sum())


def test_the_budgets_as_numpy_makes_them():
    """flows.budgets against the numpy of Institutions.final_demand it replaced."""
    rng = np.random.default_rng(9)
    n = 30
    theta0, gamma0 = rng.random(n) / n, rng.random(n) / n
    relative, drift, x, rd, ptax = (rng.random(n) + 0.5 for _ in range(5))
    m_share = rng.random(n) * 0.3
    support = np.where(rng.random(n) < 0.3, 1.0 + rng.random(n), 1.0)
    c, g_total = 4e12, 2e12
    for in_rule in (True, False):
        got = flows.budgets((theta0, gamma0), (0.3, 0.4), (c, g_total), (relative, drift), (x, rd), m_share, ptax,
                            (support, in_rule))
        w = theta0 * relative * drift
        h_budget = c * w / (w.sum() + 0.3)
        w = gamma0 * relative * drift
        denom = w.sum() + 0.4
        g_budget, g_rest = g_total * w / denom, g_total * 0.4 / denom
        dom = 1.0 - m_share
        hq, gq = h_budget * dom / ptax, g_budget * dom / ptax
        extra = np.maximum(support - 1.0, 0.0) * (hq + gq + x + rd)
        if in_rule:
            cut = max(1.0 - float(np.sum(extra * ptax)) / max(g_total, 1e-300), 0.0)
            g_budget, g_rest = g_budget * cut, g_rest * cut
            gq = g_budget * dom / ptax
        gq = gq + extra
        g_budget = g_budget + extra * ptax / dom
        want = (h_budget, g_budget, g_rest, hq, gq, hq + gq + x + rd)
        for a, b in zip(got, want, strict=True):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


def test_input_bill_terms_as_numpy_makes_them():
    """flows.intermediate_sales and per_received against the numpy of Institutions.input_bill they
    replaced (no orders, a shortfall, nothing received and NaN included)."""
    rng = np.random.default_rng(11)
    n = 30
    sold = rng.random((n, 2)) * 5.0
    weight, base, short = rng.random(n) + 0.5, rng.random(n) + 0.5, rng.random(n)
    demand, intermediate = rng.random(n) * 8.0, rng.random(n) * 3.0
    demand[:3] = (0.0, -1.0, np.nan)
    q, rev = sold[:, 0] * weight, sold[:, 1] * weight
    int_share = np.divide(intermediate, demand, out=np.zeros(n), where=demand > 0)
    want = (q, rev * int_share, short * np.maximum(demand - q, 0.0) * int_share * base)
    got = flows.intermediate_sales(sold, weight, intermediate, demand, short, base)
    for a, b in zip(got, want, strict=True):
        assert a.tobytes() == b.tobytes()
    received = rng.random(n)
    received[:2] = (0.0, -1.0)
    want = np.divide(want[1] + want[2], received, out=np.zeros(n), where=received > 0)
    assert flows.per_received(got[1], got[2], received).tobytes() == want.tobytes()


def test_sheet_and_gaps_is_its_pieces():
    """flows.sheet_and_gaps: tables.masked_sums, flows.balance_sheet and flows.gaps in one call."""
    from sim.kernels import tables

    rng = np.random.default_rng(12)
    for n_banks in (1, 21, 300):
        alive = rng.random(n_banks) < 0.9
        books = tuple(rng.random(n_banks) * 1e9 for _ in range(3))
        m = _matrix(rng, 51, 7)
        terms = (2e12, 5e13, 3e13, tuple(float(x) for x in rng.random(5) * 1e12), 1e12, rng.random(3) * 1e13)
        loans, provisions, equity = tables.masked_sums(alive, books)
        want = flows.balance_sheet(terms[0], terms[1], loans, provisions, terms[2], terms[3], terms[4], terms[5])
        sheet, checks = flows.sheet_and_gaps(alive, books, m, terms)
        assert sheet.tobytes() == want.tobytes()
        assert checks == flows.gaps(m, want, equity)
