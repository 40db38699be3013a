"""Each mechanism moves the economy the right way (same seed, so the difference is the policy).

Every test compares a policy run with a run without it; each would fail if its mechanism were
removed (for instance, a ban that did nothing would leave steel capacity growing as in baseline).
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.scenario.schema import SECTORS

from .conftest import run_text, write_scenario

SEED = 3


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return run_text(tmp_path_factory.mktemp("base"), "", seed=SEED)


# the baseline holds the capacity rules in force at 2019-01 (bans and replacement ratios); a run
# without them shows what each rule does
# (steel's demand pushed up, so that without a rule its capacity has to grow: its calibrated trend is
# flat since the 2019 forecasts of steel use, sectors.toml)
RULES = ("[policy]\nban_new_capacity = {{ steel = {ban}, cement = {ban}, flat_glass = false }}\n"
         "replacement_ratio = {{ steel = {ratio}, cement = 0.0, flat_glass = 0.0, nonferrous = 0.0 }}\n")
STEEL_PUSH = "[sectors.steel]\ndemand_growth = 0.05\ninput_intensity_trend = 0.0\n"
NO_CAPACITY_RULES = RULES.format(ban="false", ratio=0.0)


@pytest.fixture(scope="module")
def free(tmp_path_factory):
    return run_text(tmp_path_factory.mktemp("free"), NO_CAPACITY_RULES + STEEL_PUSH, seed=SEED)


def after(ds, var, start="2019-06"):
    return ds[var].sel(time=slice(start, None))


def test_vat_cut_lowers_tax_inclusive_prices_and_raises_margins_and_output(tmp_path, base):
    cut = run_text(tmp_path, '[schedule."2019-04"]\nvat_rate = 0.13\nvat_rate_inputs = 0.13\n', seed=SEED)
    # before the cut the two runs are the same economy
    np.testing.assert_array_equal(cut.output.sel(time="2019-03").values, base.output.sel(time="2019-03").values)
    p_cut = after(cut, "price_index_tax_inclusive", "2019-04").isel(time=slice(0, 6)).mean("time")
    p_base = after(base, "price_index_tax_inclusive", "2019-04").isel(time=slice(0, 6)).mean("time")
    assert (p_cut < p_base).all(), "VAT cut must lower tax-inclusive prices in every sector"
    # partial pass-through: ex-VAT prices and margins rise on impact
    m_cut = cut.profit.sel(time=slice("2019-04", "2020-03")).sum()
    m_base = base.profit.sel(time=slice("2019-04", "2020-03")).sum()
    assert m_cut > m_base
    q_cut = cut.output.sel(time=slice("2019-04", "2021-12")).sum()
    q_base = base.output.sel(time=slice("2019-04", "2021-12")).sum()
    assert q_cut > q_base
    # the government collects less VAT
    after_cut = slice("2019-04", None)
    assert cut.vat_revenue.sel(time=after_cut).sum() < base.vat_revenue.sel(time=after_cut).sum()


def test_vat_pass_through_splits_the_cut(tmp_path):
    body = '[schedule."2019-04"]\nvat_rate = 0.13\n'
    full = run_text(tmp_path, body + "[sectors.steel]\nvat_pass_through = 1.0\n", months=6, seed=SEED)
    none = run_text(tmp_path, body + "[sectors.steel]\nvat_pass_through = 0.0\n", months=6, seed=SEED)
    pf = float(full.price_index_tax_inclusive.sel(sector="steel", time="2019-04-01"))
    pn = float(none.price_index_tax_inclusive.sel(sector="steel", time="2019-04-01"))
    assert pf < pn  # full pass-through cuts the buyer's price more
    assert pn == pytest.approx(float(none.price_index_tax_inclusive.sel(sector="steel", time="2019-03-01")), rel=0.02)


def test_ban_keeps_capacity_from_growing(tmp_path, free):
    ban = run_text(tmp_path, RULES.format(ban="true", ratio=0.0) + STEEL_PUSH, seed=SEED)
    for s in ("steel", "cement"):
        cap = ban.capacity.sel(sector=s)
        assert float(cap.max()) <= float(cap[0]) * 1.0 + 1e-6 * float(cap[0]), s
        assert float(ban.entries.sel(sector=s).sum()) == 0.0
    # without the ban, steel capacity grows: the test can fail
    assert float(free.capacity.sel(sector="steel").max()) > float(free.capacity.sel(sector="steel")[0]) * 1.01


def test_replacement_ratio_shrinks_capacity(tmp_path, free):
    rr = run_text(tmp_path, RULES.format(ban="false", ratio=1.5) + STEEL_PUSH, seed=SEED)
    assert float(rr.capacity.sel(sector="steel")[-1]) < float(free.capacity.sel(sector="steel")[-1])
    assert float(rr.capacity.sel(sector="steel")[-1]) < float(rr.capacity.sel(sector="steel")[0])


def test_capacity_cap_binds(tmp_path):
    ds = run_text(tmp_path, NO_CAPACITY_RULES + 'capacity_cap = { nonferrous = 41.0 }\n[sectors.nonferrous]\n'
                  'demand_growth = 0.15\n', seed=SEED)
    phys = ds.capacity_physical.sel(sector="nonferrous")
    assert float(phys.max()) <= 41.0 * 1.001
    free = run_text(tmp_path, NO_CAPACITY_RULES + 'capacity_cap = { nonferrous = 0.0 }\n[sectors.nonferrous]\n'
                    'demand_growth = 0.15\n', seed=SEED)
    assert float(free.capacity_physical.sel(sector="nonferrous").max()) > 41.5


def test_upgrade_subsidy_raises_upgrades_and_productivity(tmp_path, base):
    sub = run_text(tmp_path, "[policy]\nupgrade_subsidy = 0.5\n", seed=SEED)
    assert float(sub.upgrades.sum()) > 1.5 * float(base.upgrades.sum())
    # in every sector with enough model firms that one large firm's exit does not swing the capacity-weighted
    # mean (NEV has 50 at this size, and a leader that defaults after its upgrade moves it by a fifth)
    big = (base.n_firms.isel(time=0) / base.firm_weight) > 100
    assert big.sum() >= 5
    gain = sub.productivity_mean.isel(time=-1) - base.productivity_mean.isel(time=-1)
    assert (gain.where(big, 0.0) >= -1e-9).all()
    assert float(sub.productivity_mean.isel(time=-1).mean()) > float(base.productivity_mean.isel(time=-1).mean())
    assert float(sub.energy_intensity_mean.isel(time=-1).mean()) < float(
        base.energy_intensity_mean.isel(time=-1).mean())
    assert float(sub.subsidies.sum()) > float(base.subsidies.sum())


def test_lower_entry_barrier_raises_entries(tmp_path, base):
    low = run_text(tmp_path, "[policy]\nentry_barrier = 0.25\n", seed=SEED)
    assert float(low.entries.sum()) > 1.2 * float(base.entries.sum())


def test_forced_exit_removes_backward_capacity_first(tmp_path, base):
    body = "[policy]\nforced_exit_quota = { steel = 0.1 }\nbackward_energy_intensity = 1.2\n"
    sc = sim.load_scenario(__import__("tests.conftest", fromlist=["write_scenario"]).write_scenario(tmp_path, body),
                           firms=3000, months=24)
    ds, panel = sim.run(sc, seed=SEED, panel=True)
    assert float(ds.exits_forced.sel(sector="steel").sum()) > 0
    assert float(ds.exits_forced.drop_sel(sector="steel").sum()) == 0
    # follow the firms of the first snapshot (the panel's firm is the firm's identity): the steel
    # firms gone by the end (exits are almost all forced here) were the energy-intensive ones
    start, end = panel.isel(time=0), panel.isel(time=-1)
    steel = (panel.sector == "steel") & (start.alive == 1)
    gone, survivors = steel & (end.alive == 0), steel & (end.alive == 1)
    assert int(gone.sum()) > 0
    ei0 = start.energy_intensity
    assert float(ei0.where(gone).mean()) > float(ei0.where(survivors).mean())
    assert float(ds.energy_intensity_mean.sel(sector="steel")[-1]) < float(
        base.energy_intensity_mean.sel(sector="steel").sel(time=ds.time[-1]))
    # closures retire capacity: steel capacity below baseline
    assert float(ds.capacity.sel(sector="steel")[-1]) < float(base.capacity.sel(sector="steel").sel(time=ds.time[-1]))


def test_energy_price_cut_gives_more_relief_to_energy_heavy_sectors(tmp_path, base):
    cut = run_text(tmp_path, '[schedule."2019-02"]\nelectricity_price_change_general = -0.1\n'
                   'electricity_price_change_large = -0.1\n', months=6, seed=SEED)
    t = "2019-03-01"
    rel = (base.unit_energy_cost.sel(time=t) - cut.unit_energy_cost.sel(time=t))
    assert (rel > 0).all()
    # cement buys 40% of its revenue in energy, a third of it power; electronics 2%
    assert float(rel.sel(sector="cement")) > 5 * float(rel.sel(sector="electronics"))


def test_demand_support_raises_nev_output(tmp_path, base):
    sup = run_text(tmp_path, "[policy]\ndemand_support = { nev = 0.2 }\n", seed=SEED)
    assert float(sup.output.sel(sector="nev")[-1]) > 1.05 * float(base.output.sel(sector="nev")[-1])


def test_capacity_cut_in_steel_tightens_the_market_and_reaches_machinery(tmp_path):
    # closing 30% of steel capacity (the backward firms first) runs the rest at capacity: markups rise
    # toward the norm of a full market, and machinery, short of steel, produces less. The steel price
    # index need not rise: the firms closed were the high-cost ones (tests/test_capacity_markets.py).
    # Without firm-level shocks and cost wedges (issue 20), whose exits bring the banned steel sector to
    # full capacity by the second year in the baseline too
    # Its buyers cannot import the steel they miss here (at import parity, the default for metals, the
    # steel price holds and the buyers import: tests/test_capacity_markets.py)
    calm = ("[behaviour]\norder_jump_prob = 0.0\ncost_wedge_scale = 0.0\n"
            "[economy]\nshortage_import_share = { steel = 0.0 }\n")
    base = run_text(tmp_path, calm, months=18, seed=SEED)
    body = "[policy]\nforced_exit_quota = { steel = 0.3 }\nbackward_energy_intensity = 0.01\n"
    cut = run_text(tmp_path, body + calm, months=18, seed=SEED)
    t = cut.time[-1]
    at = {"sector": "steel", "time": t}
    assert float(cut.utilization.sel(**at)) > float(base.utilization.sel(**at))
    assert float(cut.markup_mean.sel(**at)) > 1.1 * float(base.markup_mean.sel(**at))
    assert float(cut.productivity_mean.sel(**at)) > float(base.productivity_mean.sel(**at))
    last = slice("2020-01", None)
    q = lambda ds: float(ds.output.sel(sector="machinery", time=last).sum())  # noqa: E731
    assert q(cut) < q(base)


def test_a_rule_of_the_status_quo_keeps_its_compliant_projects_a_new_rule_halts_them(tmp_path):
    """Capacity under construction at the start complies with the rules in force then ([policy]):
    replacement projects, retired capacity over the ratio, go on. Only a rule that starts during the
    run halts the projects under way (Guo Fa [2013] No. 41). Halting the status quo's own projects in
    the first month took 4% off the heavy sectors' capacity in the baseline's first year."""
    from sim.api import make_model

    def pipeline_after(body, months):
        sc = sim.load_scenario(write_scenario(tmp_path, body), firms=2000, months=months)
        m = make_model(sc, seed=SEED)
        before = m.sector_pipeline().copy()
        for _ in range(months):
            m.step()
        return before, m.sector_pipeline()

    steel, cement = SECTORS.index("steel"), SECTORS.index("cement")
    before, now = pipeline_after("", 1)
    assert before[steel] > 0 and now[steel] > 0.5 * before[steel]
    # the same rule starting in June: projects under way in cement are stopped that month
    body = ('[policy]\nban_new_capacity = { cement = false }\nreplacement_ratio = { cement = 0.0 }\n'
            '[schedule."2019-06"]\nban_new_capacity = { cement = true }\n')
    before, may = pipeline_after(body, 5)
    _, june = pipeline_after(body, 6)
    assert may[cement] > 0 and june[cement] == 0.0


def test_firms_build_for_the_growth_they_see(tmp_path):
    """Investment builds for the growth of orders firms learn (behaviour.growth_learning), not for
    the calibrated trend alone: NEV orders pushed up 15% a year beyond a flat trend drive NEV to full
    capacity when firms keep expecting the trend, and level off when they learn that growth (above
    normal, 0.766, by what the build lag and the learning lag leave unbuilt at 15% a year: 0.88 from
    the third year; before the metals were imported at parity, the NEV makers' rationed inputs held
    their output down and utilisation at 0.79). The last year is within 0.05 of the third: the
    bankruptcy of one large NEV model firm (3,000 firms) in December 2022 lifts 2023's to 0.92 when the
    aluminium rules hold only aluminium (0.877 when they held all non-ferrous metals)."""
    body = ('[sectors.nev]\ndemand_growth = 0.0\n[policy]\ndemand_support = {{ nev = 0.15 }}\n'
            '[behaviour]\ngrowth_learning = {}\n')
    learn = run_text(tmp_path, body.format(1.0 / 12.0), months=60, seed=SEED)
    fixed = run_text(tmp_path, body.format(0.0), months=60, seed=SEED)
    u = lambda ds, y=-1: float(ds.utilization.sel(sector="nev").groupby("time.year").mean()[y])  # noqa: E731
    assert u(fixed) > 0.99 and u(fixed) > u(learn) + 0.05
    assert u(learn) <= u(learn, 2) + 0.05 and u(learn) < 0.95  # no longer rising
