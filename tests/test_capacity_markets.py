"""Markets at capacity (MODEL.md steps 3-5 and 8): unit costs rise near capacity through overtime,
boundedly; unfilled orders do not ratchet markups; a buyer short of a critical input produces less;
firms plan capacity for normal utilisation, not for 2019's. Each test would fail with its mechanism
removed."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.kernels import production as prod
from sim.state import Firms

from .conftest import SCENARIOS, run_text

SEED = 5
U_N, PI = 0.766, 0.5


def _priced_firms(utilisation, unfilled=0.0, markup=0.1):
    n = len(utilisation)
    F = Firms(n)
    F.alive[:] = True
    F.capacity[:] = 100.0
    F.output[:] = 100.0 * np.asarray(utilisation)
    F.productivity[:] = 1.0
    F.energy_intensity[:] = 1.0
    F.share[:] = F.share_prev[:] = 0.1
    F.unfilled[:] = unfilled
    F.markup[:] = markup
    return F


def _costs(premium=PI):
    one = np.ones(1)
    costs = prod.UnitCosts(va_cost=0.3 * one, labour=0.2 * one, normal_utilisation=U_N * one, energy_cost=0.1 * one,
                           material_cost=0.4 * one, markup_anchor=0.1 * one, vat_factor=one)
    return costs, prod.PricingParams(markup_share_response=0.0, markup_anchor_speed=0.1, overtime_premium=premium)


def test_unit_cost_rises_above_normal_utilisation_and_is_bounded():
    F = _priced_firms([0.5, U_N, 0.9, 1.0])
    costs, params = _costs()
    prod.costs_and_prices(F.bundle(), costs, params, np.zeros((0, 2)))
    base = 0.3 + 0.1 + 0.4  # unit cost at or below normal utilisation
    assert F.price[0] == pytest.approx(1.1 * base, rel=1e-14)
    assert F.price[1] == pytest.approx(1.1 * base, rel=1e-14)
    over = PI * 0.2 * (0.9 - U_N) / 0.9
    assert F.price[2] == pytest.approx(1.1 * (base + over), rel=1e-14)
    full = PI * 0.2 * (1.0 - U_N)  # the bound: all of output above u_n at the premium
    assert F.price[3] == pytest.approx(1.1 * (base + full), rel=1e-14)
    assert F.price[1] < F.price[2] < F.price[3]
    G = _priced_firms([0.5, U_N, 0.9, 1.0])
    prod.costs_and_prices(G.bundle(), *_costs(premium=0.0), np.zeros((0, 2)))
    np.testing.assert_allclose(G.price, 1.1 * base, rtol=1e-14)  # no premium, a flat cost curve


def test_unfilled_orders_do_not_ratchet_the_markup():
    # a firm that cannot fill half its orders month after month: its markup goes to the sector norm
    # (0.1) and stays there; the retired rule added 0.1 x 0.5 a month without bound
    F = _priced_firms([1.0], unfilled=0.5, markup=0.1)
    costs, params = _costs()
    for _ in range(240):
        prod.costs_and_prices(F.bundle(), costs, params, np.zeros((0, 2)))
    assert F.markup[0] == pytest.approx(0.1, rel=1e-12)


def test_wages_pay_the_overtime_premium(tmp_path):
    # month 0: same output in both runs; sectors above normal utilisation in 2019 pay more wages
    body = "[behaviour]\novertime_premium = {}\norder_jump_prob = 0.0\n"  # no lumpy orders: only u_n decides
    paid = run_text(tmp_path, body.format(0.5), months=1, seed=SEED)
    flat = run_text(tmp_path, body.format(0.0), months=1, seed=SEED)
    np.testing.assert_array_equal(paid.output.values, flat.output.values)
    u = paid.utilization.isel(time=0)
    above = (u > U_N + 0.02).values
    below = (u < U_N - 0.02).values
    assert above.any() and below.any()
    w_paid, w_flat = paid.wages.isel(time=0).values, flat.wages.isel(time=0).values
    assert (w_paid[above] > w_flat[above] * 1.002).all()
    assert (w_paid[below] < w_flat[below] * 1.002).all()  # only the few firms above u_n pay it
    np.testing.assert_array_equal(paid.employment.values, flat.employment.values)  # longer hours, same workers


@pytest.fixture(scope="module")
def steel_cut(tmp_path_factory):
    # buyers cannot import the steel they miss (by default metals are imported at parity: no rationing)
    body = ("[policy]\nforced_exit_quota = { steel = 0.3 }\nbackward_energy_intensity = 0.01\n"
            "[economy]\nshortage_import_share = { steel = 0.0 }\n")
    path = tmp_path_factory.mktemp("cut")
    on = run_text(path, body, months=18, seed=SEED)
    off = run_text(path, body + "[behaviour]\ncritical_input_threshold = 1.0\n", months=18, seed=SEED)
    return on, off


def test_a_steel_shortage_rations_its_buyers(steel_cut):
    on, off = steel_cut
    last = slice("2020-01", None)
    # steel at capacity cannot fill its orders; its buyers get less steel and produce less
    assert float(on.utilization.sel(sector="steel", time=last).min()) > 0.999
    assert float(on.unfilled_orders.sel(sector="steel", time=last).min()) > 0
    fill = on.input_fill.sel(time=last)
    assert float(fill.sel(sector="machinery").max()) < 0.99  # steel is 0.12 yuan a yuan of machinery
    assert float(fill.sel(sector="cement").min()) == 1.0  # 0.01: not critical
    assert float(fill.sel(sector="steel").min()) == 1.0  # its own inputs do not bind
    q_on = float(on.output.sel(sector="machinery", time=last).sum())
    q_off = float(off.output.sel(sector="machinery", time=last).sum())
    assert q_on < 0.99 * q_off
    assert float(off.input_fill.min()) == 1.0


def test_a_metal_short_at_home_is_priced_at_import_parity(steel_cut, tmp_path):
    """Steel at capacity after a 30% cut: when its buyers import what it cannot supply (metals at
    import parity, the default), its markup norm does not climb with its utilisation, so its markup
    stays where it was; when they cannot import it (the fixture's runs), the norm climbs and so does
    the markup. Cement, which hardly travels, keeps the full response in both."""
    parity = run_text(tmp_path, "[policy]\nforced_exit_quota = { steel = 0.3 }\nbackward_energy_intensity = 0.01\n",
                      months=18, seed=SEED)
    rationed, _ = steel_cut
    late = slice("2020-01", None)
    for ds in (parity, rationed):
        assert float(ds.utilization.sel(sector="steel", time=late).min()) > 0.999
    markup = lambda ds: ds.markup_mean.sel(sector="steel")  # noqa: E731
    m0 = float(markup(parity).isel(time=0))
    assert float(abs(markup(parity).sel(time=late) - m0).max()) < 0.002 * m0
    assert float(markup(rationed).isel(time=-1)) > 1.05 * float(markup(rationed).isel(time=0))


def test_investment_aims_at_normal_utilisation(tmp_path):
    # cement starts at 61% (2019); aiming at 76.6%, incumbents add little beyond what entrants bring and
    # capacity does not grow with demand; aiming at its 2019 rate, as the engine did, it grows with it
    free = "[policy]\nban_new_capacity = { cement = false }\nreplacement_ratio = { cement = 0.0 }\n"
    # (as calibrated before issue 20: no lumpy orders, with which a firm whose orders jump past its
    # capacity invests whatever the normal rate; no spread of leverage, with which firms below the
    # target debt ratio borrow toward it and fund projects; no cost wedges; exit after a year of losses)
    calm = ("[behaviour]\norder_jump_prob = 0.0\ncost_wedge_scale = 0.0\nleverage_dispersion = 0.0\n"
            "liquidity_dispersion = 0.0\nloss_months_exit = 12\n")
    normal = run_text(tmp_path, free + calm, months=36, seed=SEED)
    as_2019 = run_text(tmp_path, free + calm + "normal_utilisation = 0.61\n", months=36, seed=SEED)
    k0 = float(normal.capacity.sel(sector="cement").isel(time=0))
    k_normal = float(normal.capacity.sel(sector="cement").isel(time=-1))
    k_2019 = float(as_2019.capacity.sel(sector="cement").isel(time=-1))
    assert k_normal < 1.005 * k0
    assert k_2019 > 1.05 * k_normal


def test_retired_backlog_key_is_accepted_warned_and_ignored(tmp_path):
    a = run_text(tmp_path, "[behaviour]\nmarkup_backlog_response = 0.3\n", months=6, seed=SEED)
    b = run_text(tmp_path, "", months=6, seed=SEED)
    assert "markup_backlog_response" in a.attrs["warnings"] and "retired" in a.attrs["warnings"]
    np.testing.assert_array_equal(a.markup_mean.values, b.markup_mean.values)


def test_orders_fixed_point_by_hand():
    # two sectors: B buys 0.5 yuan of A per yuan (critical); A's capacity 15 is short of its orders
    from sim.kernels.market import solve_orders

    io = np.array([[0.0, 0.5], [0.0, 0.0]])
    critical = io >= 0.03
    other, cap = np.array([10.0, 20.0]), np.array([15.0, 100.0])
    half = np.full(2, 0.5)
    demand, inter, rho, phi, its = solve_orders(other, cap, io, critical, half, np.array([15.0, 20.0]), 1e-13, 200)
    np.testing.assert_allclose(demand, [20.0, 20.0])  # B orders for the output it plans, 20
    np.testing.assert_allclose(inter, [10.0, 0.0])
    np.testing.assert_allclose(phi, [(15.0 + 0.5 * 5.0) / 20.0, 0.9375])  # A rations pro rata, half the gap imported
    np.testing.assert_allclose(rho, [1.0, 0.875])  # so B makes 87.5% of its orders: 17.5 of 20, and its own
    # buyers get 17.5 plus half of the 2.5 it could not make: 0.9375
    assert its >= 0
    # starting far from the fixed point, it takes steps; with none allowed it says it did not converge
    *_, its0 = solve_orders(other, cap, io, critical, np.full(2, 0.5), np.zeros(2), 1e-13, 0)
    assert its0 == -1


def test_a_traded_input_short_at_home_is_imported_a_local_one_rationed():
    """The share of a shortage buyers import is the supplier sector's (economy.shortage_import_share):
    a metal trades at import parity, cement hardly travels. B needs A and C alike (0.5 yuan a yuan
    each), both short of capacity by the same 5 of 20; A's buyers import 80% of the gap, C's 10%, so B
    is held to C's fill rate. With one share for both, as before, the two would ration alike."""
    from sim.kernels.market import solve_orders

    A, B, C = range(3)
    io = np.zeros((3, 3))
    io[A, B] = io[C, B] = 0.5
    critical = io >= 0.03
    other, cap = np.array([10.0, 20.0, 10.0]), np.array([15.0, 100.0, 15.0])
    m = np.array([0.8, 0.5, 0.1])
    _, _, rho, phi, its = solve_orders(other, cap, io, critical, m, np.zeros(3), 1e-13, 200)
    assert its >= 0
    np.testing.assert_allclose(phi[[A, C]], [(15 + 0.8 * 5) / 20, (15 + 0.1 * 5) / 20])
    assert rho[B] == pytest.approx(phi[C])
    assert phi[A] > phi[C]
    # the scenario key: one number for every sector, or a table over the defaults
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", **{"economy.shortage_import_share": 0.3})
    assert set(sc.economy.shortage_import_share.values()) == {0.3}
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", **{"economy.shortage_import_share": {"cement": 0.0}})
    assert sc.economy.shortage_import_share["cement"] == 0.0 and sc.economy.shortage_import_share["steel"] == 1.0


def test_sectors_critical_to_each_other_get_the_greatest_fixed_point():
    # A and B each need the other (0.1 yuan a yuan); A also needs C and B needs D, both short of
    # capacity. Every rho_A = rho_B below both suppliers' fill rates is a fixed point; the right one,
    # the most the two can make, is the lesser fill rate. (Updating both at once from their previous
    # values, the engine once swapped two such values for ever: issue 19's stationarity runs.)
    from sim.kernels.market import solve_orders

    A, B, C, D = range(4)
    io = np.zeros((4, 4))
    io[A, B] = io[B, A] = io[C, A] = io[D, B] = 0.1
    critical = io >= 0.03
    other = np.array([100.0, 100.0, 20.0, 20.0])
    cap = np.array([1e9, 1e9, 27.0, 29.0])  # C and D short of their orders (about 31)
    demand, _, rho, phi, its = solve_orders(other, cap, io, critical, np.zeros(4), np.zeros(4), 1e-13, 200)
    assert its >= 0
    assert phi[C] < phi[D] < 1.0
    assert rho[A] == pytest.approx(phi[C], abs=1e-12) and rho[B] == pytest.approx(phi[C], abs=1e-12)
    np.testing.assert_allclose(phi[[A, B]], rho[[A, B]], atol=1e-12)  # below capacity, no imports: phi = rho


def test_buyers_use_less_steel_per_unit_as_its_intensity_falls(tmp_path):
    """sectors.<k>.input_intensity_trend: every buyer's coefficient on k's goods drifts at the trend,
    what it saves is bought from the rest of the economy (costs at 2019 prices unchanged), and k's
    intermediate orders fall with it; at 0 the input-output table stays as set up."""
    from sim.api import make_model
    from sim.scenario.schema import SECTORS

    from .conftest import write_scenario

    def run(trend):
        body = f"[sectors.steel]\ninput_intensity_trend = {trend}\n"
        m = make_model(sim.load_scenario(write_scenario(tmp_path, body), firms=2000, months=24), seed=1)
        for _ in range(24):
            m.step()
        return m

    steel = SECTORS.index("steel")
    fall, flat = run(-0.1), run(0.0)
    np.testing.assert_array_equal(flat.io, flat.io0)
    np.testing.assert_allclose(fall.io[steel], fall.io0[steel] * np.exp(-0.1 * 23 / 12.0), rtol=1e-12)
    np.testing.assert_allclose(fall.io.sum(axis=0) + fall.materials, fall.io0.sum(axis=0) + fall.materials0,
                               rtol=1e-12)
    assert fall._orders_by_use["intermediate"][steel] < 0.95 * flat._orders_by_use["intermediate"][steel]


def test_a_replacement_ratio_near_zero_starts_the_projects_firms_build_without_it(tmp_path):
    """The set-up's pipeline under a status-quo replacement ratio below one is what firms build
    without the rule, at most the compliant projects (retirements over the ratio): a ratio of 1e-219,
    which hypothesis drew, made it 1e213 and the run's capacity accounts inf - inf."""
    from sim.api import make_model

    from .conftest import write_scenario

    def pipeline(ratio: str, name: str) -> float:
        body = f"[policy]\nreplacement_ratio = {ratio}\nban_new_capacity = false\n"
        m = make_model(sim.load_scenario(write_scenario(tmp_path, body, name), firms=300, months=1), seed=1)
        return float(m.firms.pipeline[m.firms.alive].sum())

    free, tiny, half = pipeline("0.0", "free.toml"), pipeline("1e-219", "tiny.toml"), pipeline("2.0", "two.toml")
    assert np.isfinite(tiny) and tiny == pytest.approx(free, rel=1e-12)
    assert 0 < half < free  # a ratio above one binds: half the retirements are replaced


def test_a_ban_starts_a_shrinking_sector_with_the_projects_it_builds_without_the_ban(tmp_path):
    """The set-up's pipeline under a ban is what firms build without it, at most the retirements
    (the cap of the run's rule): a sector whose trend shrinks it (steel at -3% a year) builds less
    than it retires, so the ban changes nothing there, while a growing one (machinery) is held to its
    retirements. Before 2026-12-07 every banned sector started with its retirements under way,
    more projects than a shrinking one builds."""
    from sim.api import make_model
    from sim.phases.setup import SECTORS

    from .conftest import write_scenario

    def pipelines(ban: str, name: str) -> np.ndarray:
        body = (f"[policy]\nban_new_capacity = {ban}\nreplacement_ratio = 0.0\n"
                "[sectors.steel]\ndemand_growth = -0.03\n[sectors.machinery]\ndemand_growth = 0.05\n")
        m = make_model(sim.load_scenario(write_scenario(tmp_path, body, name), firms=600, months=1), seed=1)
        F = m.firms
        return np.array([F.pipeline[F.alive & (F.sector == SECTORS.index(s))].sum() for s in ("steel", "machinery")])

    free = pipelines("false", "free.toml")
    banned = pipelines("{ steel = true, machinery = true }", "ban.toml")
    assert free[0] > 0 and banned[0] == pytest.approx(free[0], rel=1e-12)  # shrinking: the cap does not bind
    assert 0 < banned[1] < 0.9 * free[1]  # growing: held to its retirements
