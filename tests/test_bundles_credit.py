"""The credit kernels take the state as bundles (issue 18): every write of a parallel credit kernel
lands in the model's arrays, over more than 2^16 rows (several chunks, several threads' share of
the loop), compared with the kernel's own Python code (`py_func`, the same statements in row order)
on a copy of the same state; the arrays a lost write would leave unchanged are filled with NaN (or
-1, or the wrong flag) first. No log or exp here: the values must agree to the bit.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import sim
from sim import _numba
from sim._numba import chunks
from sim.kernels import credit as cr
from sim.kernels import credit_allocation as ca
from sim.kernels import exposure as ex
from sim.state import BANK_FIELDS, SCRATCH_FIELDS, Banks, Scratch

from .conftest import SCENARIOS
from .test_kernel_bundles import N_ROWS, N_S, _copy, _prices, _random_firms, _sectors

N_BANKS = 50
SCRATCH_FLOATS = ("granted", "repaid")


def _credit_firms(seed: int):
    """Firm rows for the credit kernels: some without loans, some guaranteed, some above the
    rollover risk, some insolvent, SMEs and SOEs, spread over the banks."""
    g = np.random.default_rng(seed)
    F = _random_firms(seed)
    n = N_ROWS
    F.bank[:] = g.integers(0, N_BANKS, n)
    F.sme[:] = g.random(n) < 0.7
    F.soe[:] = g.random(n) < 0.2
    F.pd[:] = g.random(n) * 0.12
    F.pd[g.random(n) < 0.05] = 0.3  # above pd_rollover_max
    F.firm_id[:] = g.integers(0, 10 * n, n)
    F.revenue[:] = g.random(n)
    F.loans[g.random(n) < 0.2] = 0.0
    F.guaranteed[:] = F.loans * np.where(g.random(n) < 0.3, g.random(n), 0.0)
    F.loan_rate[:] = 0.04 + 0.03 * g.random(n)
    F.other_liab[g.random(n) < 0.05] = 5.0  # insolvent: no renewal, no limit
    F.leverage_target[:] = 0.3 + 0.6 * g.random(n)  # each firm's own target
    return F


def _banks(seed: int) -> Banks:
    B = Banks(N_BANKS)
    B.alive[:] = np.random.default_rng(seed).random(N_BANKS) < 0.95
    B.loans[:] = 1e5
    return B


def _copy_soa(S, cls, fields):
    T = cls(S.n_rows)
    for name in fields:
        getattr(T, name)[:] = getattr(S, name)
    return T


def _assert_equal(got, want, names) -> None:
    for name in names:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


def test_repay_and_apply_writes_every_row_in_every_chunk(monkeypatch):
    assert chunks(N_ROWS)[0] == 8
    F = _credit_firms(11)
    B = _banks(12)
    S = Scratch(N_ROWS)
    for name in SCRATCH_FLOATS:
        getattr(S, name)[:] = np.nan
    S.denied[:] = True  # a lost write leaves True
    S.rolled[:] = True
    F2, B2, S2 = _copy(F), _copy_soa(B, Banks, BANK_FIELDS), _copy_soa(S, Scratch, SCRATCH_FIELDS)
    factor = np.linspace(0.0, 1.0, N_S)
    limits = []
    for passive in (False, True):  # each run on the state the one before left
        params = cr.RepayParams(cash_buffer_months=0.5, leverage_review_share=0.46, leverage_reduction_share=0.23,
                                review_month=5, loan_maturity=36.0, pd_rollover_max=0.25, passive=passive,
                                max_debt_to_assets=0.6, collateral_haircut_capital=0.2, pledge_haircut=0.5,
                                receivables_pledge=0.1, ip_pledge=0.05, unsecured_sme=0.1, unsecured_large=0.3,
                                soe_unsecured=0.25)
        got = cr.repay_and_apply(F.bundle(), B.bundle(), S.bundle(), _sectors(), _prices(), factor, params)
        with monkeypatch.context() as m:  # the row helpers in plain Python for the kernel's Python code
            m.setattr(cr, "chunks", _numba.chunks.py_func)
            m.setattr(cr, "rows_of", _numba.rows_of.py_func)
            want = cr.repay_and_apply.py_func(F2.bundle(), B2.bundle(), S2.bundle(), _sectors(), _prices(), factor,
                                              params)
        n_app, outstanding, rows, request, limit = want
        assert got[:2] == want[:2]
        for a, b in zip(got[2:], want[2:], strict=True):
            np.testing.assert_array_equal(a, b)
        limits.append(limit.copy())
        assert n_app > 1 << 15 and (S2.rolled > 0).sum() > 1000 and (limit == 0).sum() > 1000
        assert rows.shape == request.shape == limit.shape == (n_app,) and (request > 0).all()  # they asked
        _assert_equal(F, F2, ("loans", "guaranteed", "cash"))
        _assert_equal(B, B2, ("loans",))
        _assert_equal(S, S2, SCRATCH_FLOATS + ("rolled", "denied"))
        # the staging of the requests in granted and of the insolvent in denied is undone in every row;
        # what is left in granted is the renewed instalment of the rows that ask for nothing (`cr.renewed`)
        assert not (S.granted > 0).any() and not S.denied.any()
        others = np.ones(N_ROWS, dtype=bool)
        others[rows] = False
        np.testing.assert_array_equal(S.granted < 0, S.rolled & others)
        assert (S.repaid[others] >= -S.granted[others]).all() and (S.repaid[others] > -S.granted[others]).any()
        assert rows.dtype == np.int32 and (rows >= 0).all() and (np.diff(rows) > 0).all()  # in row order
        assert F.alive[rows].all() and (F.alive.sum() - n_app) > 1000  # live rows, not all of them
        if passive:  # the passive lender's rule: max_debt_to_assets of assets less loans, 0 without net worth
            assets = F.cash[rows] + F.capital[rows] + F.other_assets[rows]
            lim = 0.6 * assets - F.loans[rows]
            lim[(lim < 0) | (assets - F.loans[rows] - F.other_liab[rows] <= 0)] = 0.0
            np.testing.assert_array_equal(limit, lim)
    assert limits[0].mean() != limits[1].mean()  # the passive limit is another rule


def _terms(seed: int) -> ca.LendingTerms:
    g = np.random.default_rng(seed)
    share = g.pareto(1.2, N_BANKS) + 0.01
    cdf = np.cumsum(share / share.sum())
    cdf[-1] = 1.0
    return ca.LendingTerms(margin=g.random(N_BANKS) * 0.01, room=g.random(N_BANKS) * 2e3,
                           pdmax_sme=np.full(N_BANKS, 0.08) * (1 + g.random(N_BANKS)),
                           pdmax_large=np.full(N_BANKS, 0.08), discount=g.random(N_BANKS) * 0.5, size_cdf=cdf,
                           exposure_unit=0.3 + g.random(N_BANKS),
                           sme_extension=np.where(g.random(N_BANKS) < 0.5, 0.2 * g.random(N_BANKS), 0.0),
                           sme_rate_cut=0.001 * g.random(N_BANKS))


def _copy_terms(t: ca.LendingTerms) -> ca.LendingTerms:
    return ca.LendingTerms(*(a.copy() for a in t))


def test_allocate_credit_drawn_writes_every_applicant(monkeypatch):
    """Every row applies (more than 2^16 applicants); banks run out of room, some refuse the risk,
    some firms move bank, SMEs take the fund's cover until it runs out."""
    F = _credit_firms(21)
    g = np.random.default_rng(22)
    S = Scratch(N_ROWS)
    request = np.where(g.random(N_ROWS) < 0.1, 0.0, g.random(N_ROWS))
    limit = np.where(g.random(N_ROWS) < 0.2, 0.3 * g.random(N_ROWS), 1e9)
    S.granted[:] = np.nan  # written for every applicant
    B = _banks(23)
    terms = _terms(24)
    bank_before, guaranteed_before = F.bank.copy(), F.guaranteed.copy()
    F2, B2, S2 = _copy(F), _copy_soa(B, Banks, BANK_FIELDS), _copy_soa(S, Scratch, SCRATCH_FIELDS)
    terms2 = _copy_terms(terms)
    apps = np.arange(N_ROWS, dtype=np.int32)
    pos = cr.score_order(apps, F.pd)
    u = g.random((N_ROWS, 2))
    params = ca.AllocationParams(policy_rate=0.0431, sme_premium=0.01, loss_given_default=0.4, risk_weight_large=1.0,
                                 risk_weight_sme=0.75, risk_weight_guaranteed=0.2, switching_cost=0.005,
                                 fund_room=3e3, coverage=0.8, fee_small=0.001, fee_large=0.002, small_loan=0.5,
                                 bank_weight=1.0)
    applicants = ca.Applicants(rows=apps, request=request, limit=limit, order=pos, draws=u)
    parts = ex.no_parts()
    table = ca.serving_table(applicants, F.bundle(), _sectors(), terms.size_cdf, parts.row)
    fresh = [a.copy() for a in table]  # (the allocation writes its results over the table)
    left, touched, new, fees, rates = ca.allocate_credit_drawn(table, apps, F.bundle(), B.bundle(), S.bundle(),
                                                               terms, params, parts)
    for name in ("_table", "_spans", "_serve", "_scatter"):  # the kernel's Python code calls their Python code
        monkeypatch.setattr(ca, name, getattr(ca, name).py_func)
    monkeypatch.setattr(ca, "rows_of", _numba.rows_of.py_func)
    table2 = ca.serving_table.py_func(applicants, F2.bundle(), _sectors(), terms2.size_cdf, parts.row)
    for a, b in zip(fresh, table2, strict=True):
        np.testing.assert_array_equal(a, b)
    left2, touched2, new2, fees2, rates2 = ca.allocate_credit_drawn.py_func(
        table2, apps, F2.bundle(), B2.bundle(), S2.bundle(), terms2, params, parts)
    assert left == left2 and 0 <= left < params.fund_room
    np.testing.assert_array_equal(touched, touched2)
    for a, b in zip(new, new2, strict=True):
        np.testing.assert_array_equal(a, b)
    assert new.row.size > 100  # the large-exposure limit sends the rest of some loans to other banks
    granted = S2.granted > 0
    assert granted.sum() > 10_000 and (request > 0).sum() - granted.sum() > 1000  # rationed
    np.testing.assert_array_equal(fees, fees2)
    np.testing.assert_array_equal(rates, rates2)
    assert (rates[granted] > 0).all() and (rates[~granted] == 0).all()  # a rate for each loan granted
    assert (fees > 0).sum() > 100 and (fees[~granted] == 0).all()  # the guaranteed pay a fee
    assert (F2.bank != bank_before).sum() > 100 and (F2.guaranteed > guaranteed_before).sum() > 100
    _assert_equal(F, F2, ("bank", "loans", "loan_rate", "cash", "guaranteed"))
    _assert_equal(B, B2, ("loans",))
    _assert_equal(S, S2, ("granted",))
    _assert_equal(terms, terms2, ("room",))
    assert not np.isnan(S.granted).any()


def test_each_applicants_participations_are_found_in_row_order_and_in_any_order():
    """`_spans` gives each applicant the range of its participations `exposure.lenders_of` finds (the
    allocation reads it instead of searching the table per applicant), for applicants in row order
    (walked, over several blocks) and in serving order (searched); rows without participations too."""
    g = np.random.default_rng(41)
    n = 2 * N_ROWS
    prow = np.sort(g.choice(n, 40_000, replace=True)).astype(np.int64)  # some rows have several lenders
    assert chunks(N_ROWS)[0] > 1
    for rows in (np.sort(g.choice(n, N_ROWS, replace=False)).astype(np.int32),
                 g.permutation(n)[:5_000].astype(np.int64)):
        slot = g.permutation(rows.shape[0]).astype(np.int64)
        span = ca._spans(rows, slot, prow)
        want = np.array([ex.lenders_of(prow, int(r)) for r in rows])
        np.testing.assert_array_equal(span[slot], want)
        assert (want[:, 1] - want[:, 0] > 1).sum() > 100 and (want[:, 1] == want[:, 0]).sum() > 100


def test_credit_close_writes_every_row_in_every_chunk(monkeypatch):
    F = _credit_firms(31)
    g = np.random.default_rng(32)
    S = Scratch(N_ROWS)
    for name in SCRATCH_FLOATS:
        getattr(S, name)[:] = np.where(g.random(N_ROWS) < 0.5, g.random(N_ROWS), 0.0)
    S.rolled[:] = g.random(N_ROWS) < 0.5
    S.denied[:] = True  # most rows are not denied: a lost write leaves True
    # the applicants (rows in ascending order, every chunk has some) and their fees
    apps = np.flatnonzero(g.random(N_ROWS) < 0.6).astype(np.int32)
    app_fees = np.where(g.random(apps.size) < 0.3, g.random(apps.size), 0.0)
    S2 = _copy_soa(S, Scratch, SCRATCH_FIELDS)
    side, side2 = np.full(N_BANKS, np.nan), np.full(N_BANKS, np.nan)
    got = cr.credit_close(F.bundle(), S.bundle(), _sectors(), apps, app_fees, side)
    monkeypatch.setattr(cr, "chunks", _numba.chunks.py_func)
    monkeypatch.setattr(cr, "rows_of", _numba.rows_of.py_func)
    want = cr.credit_close.py_func(F.bundle(), S2.bundle(), _sectors(), apps, app_fees, side2)
    assert got[:3] == want[:3]
    np.testing.assert_array_equal(got[3], want[3])
    # the applicants' renewals: their `repaid` where they were renewed (`cr.renewed`)
    np.testing.assert_array_equal(got[3], np.where(S.rolled[apps] & (S.granted[apps] >= 0), S.repaid[apps],
                                                   np.where(S.rolled[apps], -S.granted[apps], 0.0)))
    assert 1000 < S2.denied.sum() < N_ROWS - 1000
    _assert_equal(S, S2, ("denied",))
    # refused: live applicants granted nothing; the fees are the applicants' (a row's own sum of them)
    asked = np.zeros(N_ROWS, dtype=bool)
    asked[apps] = True
    np.testing.assert_array_equal(S.denied, F.alive & asked & (S.granted <= 0))
    w = _sectors().weight[F.sector]
    assert got[1] == pytest.approx(float(np.sum(app_fees * w[apps])), rel=1e-12)
    np.testing.assert_array_equal(side, side2)


@pytest.mark.parametrize("market", ["banks", "passive"])
def test_params_have_one_numba_type_whatever_the_settings(market):
    """The builders convert every setting to its declared kind, so a setting given as an integer
    (or a month past the first year) does not compile the kernels again."""
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=300, months=3)
    sc.banking.market = market
    sc.behaviour.loan_maturity = 36
    a = cr.repay_params(sc.behaviour, sc.banking, sc.policy, 29, 0.46)
    assert a.review_month == 5 and a.passive == (market == "passive") and a.loan_maturity == 36.0
    assert numba.typeof(a) == numba.typeof(cr.repay_params(sc.behaviour, sc.banking, sc.policy, 0, 1))
    assert a._fields == tuple(cr.REPAY_FIELDS)
    p = ca.allocation_params(sc.policy, sc.banking, 1e12)
    cap = sc.policy.guarantee_fund_capital * 1e9
    assert p.fund_room == max(sc.policy.guarantee_leverage * cap - 1e12, 0.0) and p.small_loan == ca.SMALL_LOAN
    assert p._fields == tuple(ca.ALLOCATION_FIELDS)
    sc.policy.guarantee_fund_capital = 0.0
    q = ca.allocation_params(sc.policy, sc.banking, 0)
    assert q.coverage == 0.0 and q.fund_room == 0.0 and numba.typeof(q) == numba.typeof(p)
