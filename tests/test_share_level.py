"""Two refinements of market shares and the small-share exit, both off in the baseline (docs/model.md
sections 3 and 9; issue 20, the drift beyond a decade):

- the partial adjustment of shares toward the level relative prices imply for the firm's customer
  base (`behaviour.share_level_adjustment`): under the replicator alone a firm that stays dearer loses
  share month after month, without end; with the adjustment its share settles at a level that falls
  with its relative price with the elasticity of competitiveness (Phelps and Winter 1970; Gottfries 1991);
- the small-share exit only for firms that lose money (`behaviour.min_share_needs_loss`): a small firm
  that makes a profit stays (Jovanovic 1982, Hopenhayn 1992).

Each test switches its mechanism off and sees the difference; the Mesa reference follows both."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.kernels import exit_entry as xe
from sim.kernels import exposure as ex
from sim.kernels import market
from sim.state import SECTOR_FIELDS, Banks, Firms, SectorTables

from .conftest import SCENARIOS
from .test_reference import _lockstep


def _months(price, share, lam, chi=0.02, months=1200, w_price=3.0):
    """One sector (weight 1, price index 1, ample capacity) of firms with fixed prices: the shares
    month by month."""
    n = len(price)
    F = Firms(n)
    F.alive[:] = True
    F.price[:] = price
    F.share[:] = share
    F.capacity[:] = 1e9
    F.productivity[:] = 1.0
    sectors = SectorTables(*(np.ones(1, dtype=dtype) for dtype, *_ in SECTOR_FIELDS.values()))
    params = market.MarketParams(replicator_speed=chi, share_price_sensitivity=w_price, share_backlog_sensitivity=1.0,
                                 share_level_adjustment=lam)
    month = market.MarketDemand(price_index=np.array([1.0]), demand=np.array([100.0]), input_fill=np.ones(1))
    path = []
    for _ in range(months):
        market.market_step(F.bundle(), sectors, month, params, *market.no_pricing())
        path.append(F.share.copy())
    return np.array(path), F


def test_a_dearer_firm_loses_share_without_end_under_the_replicator_and_settles_with_the_level():
    # two firms of equal customer bases, the second 5% dearer, for 100 years
    rep, _ = _months([1.0, 1.05], [0.5, 0.5], lam=0.0)
    lev, F = _months([1.0, 1.05], [0.5, 0.5], lam=0.02)
    # the replicator: the dearer firm's share keeps falling, decade after decade (below 5% by the end)
    decades = rep[119::120, 1]
    assert np.all(np.diff(decades) < 0) and decades[-1] < 0.05
    # with the partial adjustment it settles: the last decade moves it by less than 1e-6 ...
    assert np.ptp(lev[-120:, 1]) < 1e-6
    # ... at the level where the adjustment's pull balances the replicator's drift,
    # f = (1 - lam) f (1 + chi (E / E_bar - 1)) + lam f*, so f = lam f* / (lam - (1 - lam) chi (E / E_bar - 1)),
    # f* = b E / sum b E (here the shares at the start: the
    # bases were set then, at these prices)
    e = np.array([1.0, 1.05 ** -3.0])
    f = lev[-1]
    ebar = float(f @ e)
    target = F.customer_base * e / (F.customer_base @ e)
    np.testing.assert_allclose(f, 0.02 * target / (0.02 - 0.98 * 0.02 * (e / ebar - 1.0)), rtol=1e-9)
    assert 0.3 < f[1] < 0.5
    np.testing.assert_allclose(F.customer_base, [0.5, 0.5 * 1.05 ** 3.0])  # the shares over E at the start
    np.testing.assert_allclose(lev.sum(axis=1), 1.0, rtol=1e-12)


def test_the_settled_share_has_the_level_elasticity_of_competitiveness():
    # without the replicator, shares settle where the customer bases and relative prices put them:
    # ln(f_1 / f_0) = ln(b_1 / b_0) - w_p ln(p_1 / p_0), whatever the bases
    for w_price in (1.5, 3.0):
        path, F = _months([1.0, 1.1, 0.95], [0.2, 0.5, 0.3], lam=0.05, chi=0.0, months=600, w_price=w_price)
        f = path[-1]
        b = F.customer_base
        np.testing.assert_allclose(np.log(f[1:] / f[0]), np.log(b[1:] / b[0]) - w_price * np.log([1.1, 0.95]),
                                   rtol=1e-9)
    # and with the adjustment off they do not settle: the cheapest firm keeps gaining
    path, _ = _months([1.0, 1.1, 0.95], [0.2, 0.5, 0.3], lam=0.0, chi=0.0, months=10)
    np.testing.assert_array_equal(path[-1], path[0])  # chi = 0 and no adjustment: shares stay put


def test_a_new_firm_gets_its_customer_base_at_its_first_market_step_only():
    path, F = _months([1.0, 1.2], [0.6, 0.4], lam=0.0, chi=0.02, months=1)
    base = F.customer_base.copy()
    np.testing.assert_allclose(base, [0.6, 0.4 * 1.2 ** 3.0])
    sectors = SectorTables(*(np.ones(1, dtype=dtype) for dtype, *_ in SECTOR_FIELDS.values()))
    params = market.MarketParams(0.02, 3.0, 1.0, 0.0)
    month = market.MarketDemand(np.array([1.0]), np.array([100.0]), np.ones(1))
    market.market_step(F.bundle(), sectors, month, params, *market.no_pricing())
    np.testing.assert_array_equal(F.customer_base, base)  # fixed after


def _small_firm(profit_year):
    F, B = Firms(1), Banks(1)
    F.alive[0], F.sme[0], F.share[0], F.net_worth[0] = True, True, 0.001, 100.0
    F.capital[0], F.cash[0], F.profit_year[0] = 200.0, 5.0, profit_year
    B.alive[0] = True
    return F, B


@pytest.mark.parametrize("needs_loss", [False, True])
def test_the_small_share_exit_spares_a_profitable_firm_only_when_it_needs_a_loss(needs_loss):
    params = xe.ExitParams(loss_months_exit=12, recovery_rate=0.15, other_assets_recovery=0.3, court_months=20,
                           court_cost=0.22, book_overdrafts=True, min_share_needs_loss=needs_loss)
    sectors = SectorTables(*(np.zeros(10) for _ in SECTOR_FIELDS))._replace(weight=np.ones(10))
    min_share = np.full(10, 0.01)  # above the firm's 0.001
    left = {}
    for profit in (5.0, -5.0):
        F, B = _small_firm(profit)
        xe.exits(F.bundle(), B.bundle(), sectors, params, min_share,
                 xe.ExitBooks(np.zeros(1), np.zeros((10, xe.N_EXIT)), np.zeros((10, 3)), ex.no_parts()))
        left[profit] = not F.alive[0]
    assert left[-5.0]  # a small loss-maker leaves either way
    assert left[5.0] is (not needs_loss)  # a small profitable firm stays only under the refinement


def test_the_reference_follows_both_refinements():
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=400, months=12, seed=4,
                           **{"behaviour.share_level_adjustment": 0.05, "behaviour.min_share_needs_loss": True,
                              "behaviour.min_relative_share": 0.2})
    fast, _ = _lockstep(sc, sc.run.months)
    d = fast.rec.data
    assert np.nansum(d["entries"]) > 0 and np.nansum(d["exits_voluntary"]) > 0
    # every firm that has been through a market step has its customer base (this month's entrants not yet)
    a = fast.firms.alive
    assert (fast.firms.customer_base[a] > 0).mean() > 0.95
