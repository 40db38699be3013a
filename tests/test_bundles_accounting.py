"""The market, pricing, income, month-sum and credit-score kernels take the state as bundles (issue
18): every write of each lands in the model's arrays, over several chunks of rows.

As in tests/test_kernel_bundles.py: each parallel kernel runs on more than 2^16 rows (several chunks)
and every array it writes is compared with the kernel's own Python code (`py_func`) run on a copy
of the same state; what a kernel only writes starts as NaN, so a lost write shows as NaN (or, in an
array it reads and writes, as the old value).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim._numba import chunks
from sim.kernels import accounting as acc
from sim.kernels import credit as cr
from sim.kernels import market as mkt
from sim.kernels import payout, sums
from sim.kernels import production as prod
from sim.state import BANK_FIELDS, SCRATCH_FIELDS, Banks, Scratch

from .test_kernel_bundles import N_ROWS, N_S, _assert_same, _copy, _random_firms, _sectors

N_B = 50
SCORE = cr.ScoreParams(pd_intercept=-4.9, pd_leverage=4.0, pd_loss=1.0, pd_sme=1.2, pd_margin=10.0,
                       soe_implicit_guarantee=0.5)


def _firms(seed: int):
    """Firm rows that take every branch of these kernels: in profit and at a loss, small and large,
    state-owned or not, with and without loans, short of capacity or not."""
    F = _random_firms(seed)
    g = np.random.default_rng(seed + 100)
    n = N_ROWS
    F.sme[:] = g.random(n) < 0.6
    F.soe[:] = g.random(n) < 0.2
    F.bank[:] = g.integers(0, N_B, n)
    F.loans[:] = np.where(g.random(n) < 0.2, 0.0, F.loans)
    F.guaranteed[:] = F.loans * g.random(n) * 1.2  # some above the loan: the share is capped at 1
    F.loan_rate[:] = 0.03 + 0.05 * g.random(n)
    F.loss_months[:] = g.integers(0, 6, n)
    F.output[:] = F.capacity * g.random(n)
    F.revenue[:] = np.where(g.random(n) < 0.05, 0.0, F.output * (0.8 + 0.6 * g.random(n)))
    F.price[:] = 0.8 + 0.4 * g.random(n)
    F.markup[:] = 0.3 * g.random(n)
    F.share[:] = g.random(n) * 1e-4
    F.share_prev[:] = np.where(g.random(n) < 0.1, 0.0, F.share * (0.7 + 0.6 * g.random(n)))
    F.unfilled[:] = np.where(g.random(n) < 0.5, 0.0, 0.3 * g.random(n))
    F.net_worth[:] = g.normal(1.0, 1.0, n)
    F.profit[:] = g.normal(0.0, 0.1, n)
    F.pipeline[:] = np.where(g.random(n) < 0.5, g.random(n) * 0.2, 0.0)
    return F


def _python_chunks(monkeypatch, *modules) -> None:
    """For a kernel's own Python code, after the compiled kernel ran: the row helpers in Python."""
    from sim import _numba

    for module in modules:
        monkeypatch.setattr(module, "chunks", _numba.chunks.py_func)
        monkeypatch.setattr(module, "rows_of", _numba.rows_of.py_func)


def _nan_where(a: np.ndarray, rows: np.ndarray) -> None:
    a[rows] = np.nan


def test_market_step_writes_every_row_in_every_chunk(monkeypatch):
    assert chunks(N_ROWS)[0] == 8
    F = _firms(11)
    for name in ("share_prev", "orders", "output", "revenue"):  # written for every row, not read first
        getattr(F, name)[:] = np.nan
    G = _copy(F)
    g = np.random.default_rng(12)
    demand = np.linspace(0.3, 1.5, N_S) * N_ROWS / N_S  # the last sectors short of capacity
    month = mkt.MarketDemand(price_index=0.9 + 0.2 * g.random(N_S), demand=demand,
                             input_fill=np.where(np.arange(N_S) % 2 == 0, 1.0, 0.9))
    params = mkt.MarketParams(replicator_speed=0.3, share_price_sensitivity=3.0, share_backlog_sensitivity=1.0)
    got = mkt.market_step(F.bundle(), _sectors(), month, params, *mkt.no_pricing())
    _python_chunks(monkeypatch, mkt)
    want = mkt.market_step.py_func(G.bundle(), _sectors(), month, params, *mkt.no_pricing())
    assert got == pytest.approx(want, rel=1e-12)
    a = G.alive
    assert (G.unfilled[a] > 0).sum() > 1000 and (G.output[a] < G.capacity[a]).sum() > 1000  # both sides of spill-over
    _assert_same(F, G, ("unfilled", "share", "share_prev", "orders", "output", "revenue"))


def test_market_step_with_prices_equals_the_market_step_then_costs_and_prices(monkeypatch):
    """Step 5 fused into the market step's last pass (a wage index from this month's harmonic mean, then
    unit costs, markups, prices and the sums of output and revenue) gives the bits of the market step
    followed by `costs_and_prices`, on 8 chunks; and so does its Python."""
    F = _firms(21)
    G, H = _copy(F), _copy(F)
    g = np.random.default_rng(22)
    month = mkt.MarketDemand(price_index=0.9 + 0.2 * g.random(N_S), demand=np.linspace(0.3, 1.5, N_S) * N_ROWS / N_S,
                             input_fill=np.where(np.arange(N_S) % 2 == 0, 1.0, 0.9))
    params = mkt.MarketParams(replicator_speed=0.3, share_price_sensitivity=3.0, share_backlog_sensitivity=1.0,
                              share_level_adjustment=0.1)
    pricing = prod.PricingParams(markup_share_response=0.5, markup_anchor_speed=0.1, overtime_premium=0.5)
    labour, services = 0.1 + 0.1 * g.random(N_S), 0.1 * g.random(N_S)
    rest = dict(normal_utilisation=np.full(N_S, 0.766), energy_cost=0.1 * g.random(N_S),
                material_cost=0.5 * g.random(N_S), markup_anchor=0.2 * g.random(N_S),
                vat_factor=1.0 + 0.02 * g.random(N_S))
    fields = ("unfilled", "share", "share_prev", "orders", "output", "revenue", "customer_base", "markup", "price")
    for h0 in (-1.0, 0.93):
        harmonic = mkt.market_step(G.bundle(), _sectors(), month, params, *mkt.no_pricing())
        wage_index = (harmonic / (harmonic if h0 <= 0 else h0)) ** 0.7
        costs = prod.UnitCosts(va_cost=labour * wage_index + services, labour=labour * wage_index, **rest)
        want = np.zeros((N_S, 2))
        prod.costs_and_prices(G.bundle(), costs, pricing, want)
        prices = prod.PriceInputs(labour=labour, services=services, harmonic0=h0, wage_elasticity=0.7,
                                  wage_index=np.zeros(1), **rest)
        sold = np.full((N_S, 2), np.nan)
        assert mkt.market_step(F.bundle(), _sectors(), month, params, prices, pricing, sold) == harmonic
        assert prices.wage_index[0] == wage_index
        np.testing.assert_array_equal(sold, want)
        _assert_same(F, G, fields)
    _python_chunks(monkeypatch, mkt)
    sold = np.full((N_S, 2), np.nan)
    mkt.market_step.py_func(H.bundle(), _sectors(), month, params, prices._replace(harmonic0=-1.0), pricing, sold)
    mkt.market_step.py_func(H.bundle(), _sectors(), month, params, prices._replace(harmonic0=0.93), pricing, sold)
    np.testing.assert_array_equal(sold, want)
    _assert_same(H, G, fields)


def test_costs_and_prices_write_every_live_row_in_every_chunk(monkeypatch):
    F = _firms(13)
    _nan_where(F.price, F.alive)  # written for live rows only, not read
    G, H = _copy(F), _copy(F)
    g = np.random.default_rng(14)
    costs = prod.UnitCosts(va_cost=0.2 + 0.2 * g.random(N_S), labour=0.1 + 0.1 * g.random(N_S),
                           normal_utilisation=np.full(N_S, 0.766), energy_cost=0.1 * g.random(N_S),
                           material_cost=0.5 * g.random(N_S), markup_anchor=0.2 * g.random(N_S),
                           vat_factor=1.0 + 0.02 * g.random(N_S))
    params = prod.PricingParams(markup_share_response=0.5, markup_anchor_speed=0.1, overtime_premium=0.5)
    sold, sold_py = np.full((N_S, 2), np.nan), np.full((N_S, 2), np.nan)
    prod.costs_and_prices(F.bundle(), costs, params, sold)
    _python_chunks(monkeypatch, prod)
    prod.costs_and_prices.py_func(G.bundle(), costs, params, sold_py)
    _assert_same(F, G, ("markup", "price"))
    # the closed economy's input bill: output and revenue by sector, as sums.sector_sums makes them
    want = np.zeros((N_S, 2))
    sums.sector_sums(G.alive, G.sector, (G.output, G.revenue), want)
    np.testing.assert_array_equal(sold, want)
    np.testing.assert_array_equal(sold_py, want)
    prod.costs_and_prices(H.bundle(), costs, params, np.zeros((0, 2)))  # (open economy: no sums)
    _assert_same(H, G, ("markup", "price"))


def test_credit_scores_write_every_row_in_every_chunk():
    F = _firms(15)
    F.pd[:] = np.nan  # written for every row
    G = _copy(F)
    cr.credit_scores(F.bundle(), SCORE)
    cr.credit_scores.py_func(G.bundle(), SCORE)
    assert (G.pd[G.alive] > 0).mean() > 0.99 and (G.pd[~G.alive] == 0).all()  # (a huge margin's is 0)
    _assert_same(F, G, ("pd",))


def _income_costs(g) -> acc.IncomeCosts:
    return acc.IncomeCosts(*(0.05 + 0.2 * g.random(N_S) for _ in acc.COST_FIELDS))


def test_income_writes_every_row_in_every_chunk(monkeypatch):
    F = _firms(17)
    F.pd[:] = np.nan  # written for every row
    _nan_where(F.profit, F.alive)  # written for live rows, not read
    G = _copy(F)
    g = np.random.default_rng(18)
    costs = _income_costs(g)
    params = acc.IncomeParams(deposit_rate=0.015, vat_rate_inputs=0.09, cit_rate=0.25, cit_rate_small=0.05,
                              cit_rate_small_upper=0.1, small_low_month=0.02, small_profit_month=0.05,
                              dividend_payout=0.3, overtime_premium=0.5)
    out = [(acc.BankFlows(*(np.full(N_B, np.nan) for _ in acc.FLOW_FIELDS)), np.full((N_S, acc.N_INCOME), np.nan))
           for _ in range(2)]
    acc.income(F.bundle(), _sectors(), costs, params, SCORE, out[0][0], acc.no_payout(), out[0][1])
    _python_chunks(monkeypatch, acc)
    acc.income.py_func(G.bundle(), _sectors(), costs, params, SCORE, out[1][0], acc.no_payout(), out[1][1])
    assert (G.profit[G.alive] < 0).sum() > 1000 and (G.profit[G.alive] > 0).sum() > 1000
    _assert_same(F, G, ("cash", "capital", "profit", "loss_months", "pd"))
    (flows, table), (flows_py, table_py) = out
    for name in ("interest_income", "deposit_interest"):
        np.testing.assert_allclose(getattr(flows, name), getattr(flows_py, name), rtol=1e-12, err_msg=name)
    assert np.isnan(flows.firm_loans).all()  # not income's: left alone
    assert not np.isnan(table).any()
    np.testing.assert_allclose(table, table_py, rtol=1e-12)


def _banks() -> tuple[Banks, Banks]:
    B, C = Banks(N_B), Banks(N_B)
    for name in ("loans_sme", "loans_large", "guaranteed", "rwa", "deposits", "npl", "loans_special",
                 "loans_substandard", "loans_doubtful", "loans_loss"):  # written, not read
        getattr(B, name)[:] = np.nan
    for name in BANK_FIELDS:
        getattr(C, name)[:] = getattr(B, name)
    return B, C


def _scratch(seed: int) -> Scratch:
    g = np.random.default_rng(seed)
    S = Scratch(N_ROWS)
    S.granted[:] = np.where(g.random(N_ROWS) < 0.3, g.random(N_ROWS), 0.0)
    S.rolled[:] = g.random(N_ROWS) < 0.3
    S.denied[:] = g.random(N_ROWS) < 0.1
    rows = np.flatnonzero((S.granted > 0) | S.denied).astype(np.int32)  # the applicants
    S.set_applicants(rows, np.where(S.granted[rows] > 0, 0.03 + 0.05 * g.random(rows.size), 0.0),
                     np.where(S.rolled[rows], g.random(rows.size), 0.0))  # renewals of the applicants
    others = np.ones(N_ROWS, dtype=bool)
    others[rows] = False
    S.granted[others & S.rolled] = -g.random((others & S.rolled).sum())  # renewals of the others (`cr.renewed`)
    return S


def _record_sums() -> acc.RecordSums:
    return acc.RecordSums(stocks=np.full((N_S, acc.N_STOCKS), np.nan), cls_loans=np.full(2, np.nan),
                          cls_interest=np.full(2, np.nan), cls_credit=np.full((2, 4), np.nan),
                          counts=np.full(3, np.nan), held=np.full((N_S, 3), np.nan))


@pytest.mark.parametrize("records", [False, True])
def test_month_sums_write_every_bank_and_table(monkeypatch, records):
    """The sums over rows in several chunks; every bank array, flow and table the kernel writes is
    the same as in its Python code (the records' tables are left alone without `records`)."""
    F = _firms(19)
    S = _scratch(20)
    (B, C), flows = _banks(), [acc.BankFlows(*(np.full(N_B, np.nan) for _ in acc.FLOW_FIELDS)) for _ in range(2)]
    out = [_record_sums(), _record_sums()]
    F.court[:] = np.where(F.alive, 0, np.arange(F.n_rows) % 16)  # estates in court, every category
    params = acc.SumsParams(risk_weight_sme=0.75, risk_weight_large=1.0, risk_weight_guaranteed=0.2,
                            special_mention_months=3, substandard_after_months=3, doubtful_after_months=6,
                            loss_after_months=12, sme_threshold=1.0)
    got = acc.month_sums(F.bundle(), B.bundle(), S.books(), _sectors(), params, flows[0], records, out[0])
    _python_chunks(monkeypatch, acc)
    want = acc.month_sums.py_func(F.bundle(), C.bundle(), S.books(), _sectors(), params, flows[1], records, out[1])
    assert got == pytest.approx(want, rel=1e-12)
    for name in ("loans_sme", "loans_large", "guaranteed", "rwa", "deposits", "npl", "loans_special",
                 "loans_substandard", "loans_doubtful", "loans_loss"):
        a, b = getattr(B, name), getattr(C, name)
        assert not np.isnan(a).any() and (a > 0).any(), name
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=name)
    assert not np.isnan(flows[0].firm_loans).any()
    np.testing.assert_allclose(flows[0].firm_loans, flows[1].firm_loans, rtol=1e-12)
    assert np.isnan(flows[0].interest_income).all() and np.isnan(flows[0].deposit_interest).all()
    for name in acc.RECORD_FIELDS:
        a, b = getattr(out[0], name), getattr(out[1], name)
        if records:
            assert not np.isnan(a).any(), name
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=name)
        else:
            assert np.isnan(a).all(), name
    if records:  # the closed economy's balance sheet: the live firms' and estates' other stocks, as sector_sums
        want = np.zeros((N_S, 3))
        sums.sector_sums(F.alive | (F.court > 0), F.sector, (F.capital, F.other_assets, F.other_liab), want)
        np.testing.assert_array_equal(out[0].held, want)
        # the counts classify_and_weigh plans its sums with
        est = ~F.alive & (F.court > 0)
        assert list(out[0].counts) == [F.alive.sum(), (F.alive & (F.capacity < 1.0)).sum(), est.sum()]
    assert tuple(S.bundle()._fields) == tuple(SCRATCH_FIELDS)


def test_params_come_from_the_settings_of_the_same_names():
    """The builders read the scenario's settings; a bundle's fields are the declared ones."""
    import sim
    from sim.api import make_model

    from .conftest import SCENARIOS

    model = make_model(sim.load_scenario(SCENARIOS / "baseline.toml", firms=200, months=1), "numba")
    c, p, b = model.sc.banking, model.policy, model.b
    k = cr.score_params(c, p)
    assert k.pd_intercept == c.pd_intercept and k.soe_implicit_guarantee == p.soe_implicit_guarantee
    inc = acc.income_params(c, p, b)
    assert inc.small_low_month == b.small_profit_lower_band / 12.0 and inc.deposit_rate == c.deposit_rate
    s = acc.sums_params(c, model.sme_threshold)
    assert isinstance(s.special_mention_months, int) and s.sme_threshold == model.sme_threshold
    assert model.record_sums().cls_credit is model._cls_credit
    assert acc.bank_flows(model.banking).firm_loans is model.banking.firm_loans
    assert mkt.market_params(b).replicator_speed == b.replicator_speed
    assert prod.pricing_params(b).markup_anchor_speed == b.markup_anchor_speed


def test_income_pays_out_excess_deposits_as_the_payout_pass():
    """The closed economy's distributions made in the income pass (accounting.income with a Payout)
    give what the income pass and then payout.pay_out_excess_cash gave: every firm's cash and score,
    the paid by sector and the deposits left, to the last bit, over several chunks."""
    F = _firms(41)
    F.cash[:] = np.abs(F.cash) * 3.0  # most end above the target, some below
    G = _copy(F)
    costs = _income_costs(np.random.default_rng(42))
    params = acc.IncomeParams(deposit_rate=0.015, vat_rate_inputs=0.09, cit_rate=0.25, cit_rate_small=0.05,
                              cit_rate_small_upper=0.1, small_low_month=0.02, small_profit_month=0.05,
                              dividend_payout=0.3, overtime_premium=0.5)
    target = np.linspace(0.05, 0.2, N_S)
    tables = [np.zeros((N_S, acc.N_INCOME)) for _ in range(2)]
    flows = [acc.BankFlows(*(np.zeros(N_B) for _ in acc.FLOW_FIELDS)) for _ in range(2)]
    paid, want = np.full(N_S, np.nan), np.zeros(N_S)
    left = acc.income(F.bundle(), _sectors(), costs, params, SCORE, flows[0], acc.Payout(target, 0.05, paid),
                      tables[0])
    assert acc.income(G.bundle(), _sectors(), costs, params, SCORE, flows[1], acc.no_payout(), tables[1]) == 0.0
    before = G.cash.copy()
    want_left = payout.pay_out_excess_cash(G.bundle(), _sectors().weight, target, 0.05, SCORE, want)
    assert (G.cash < before).sum() > N_ROWS // 4 and want.sum() > 0  # many pay
    _assert_same(F, G, ("cash", "pd", "capital", "profit", "loss_months"))
    np.testing.assert_array_equal(paid, want)
    assert left == want_left
    np.testing.assert_array_equal(tables[0], tables[1])  # the table's deposits after: before the distributions


def test_firm_shocks_sum_the_cost_wedge_as_its_own_pass(monkeypatch):
    """The shocks pass sums the sectors' output-weighted cost wedge after the shocks as
    sums.sector_weighted_mean does (the same numbers), and its writes land in every chunk."""
    from sim.kernels import shocks

    F = _firms(51)
    G = _copy(F)
    u = np.random.default_rng(52).random(N_ROWS)
    k = shocks.ShockParams(order_jump_prob=0.1, order_jump_scale=0.5, order_shock_persistence=0.9,
                           cost_shock_prob=0.2, cost_wedge_scale=0.05)
    wedge, wedge_py = np.full(N_S, np.nan), np.full(N_S, np.nan)
    shocks.firm_shocks(F.bundle(), u, k, wedge)
    _python_chunks(monkeypatch, shocks)
    shocks.firm_shocks.py_func(G.bundle(), u, k, wedge_py)
    _assert_same(F, G, ("share", "order_shock", "cost_wedge"))
    want = np.zeros(N_S)
    sums.sector_weighted_mean(G.alive, G.sector, G.cost_wedge, G.output, want)
    np.testing.assert_array_equal(wedge, want)
    np.testing.assert_array_equal(wedge_py, want)
