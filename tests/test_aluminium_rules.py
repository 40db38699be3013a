"""The capacity rules hold the part of a sector they cover (sectors.<s>.rules_share): the aluminium
rules (one-for-one replacement, the 45 Mt cap) bind on electrolytic aluminium, about a tenth of the
non-ferrous sector, and not on copper, zinc or the rolling mills."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import sim
from sim.phases import capacity

from .conftest import SCENARIOS, run_text, write_scenario

SEED = 3
N = 3
SHARE = np.array([1.0, 0.1, 1.0])  # the rules' part of each sector (and of its projects under way)
BAN = SimpleNamespace(replacement_ratio=np.zeros(N), ban_new_capacity=np.ones(N))
# only non-ferrous under the rules (one for one, a 42 Mt cap), its demand pushed up so that it must build
ALU_RULES = ("[policy]\nban_new_capacity = { steel = false, cement = false, flat_glass = false }\n"
             "replacement_ratio = { steel = 0.0, cement = 0.0, flat_glass = 0.0, nonferrous = 1.0 }\n"
             "capacity_cap = { nonferrous = 42.0 }\n")
PUSH = "[sectors.nonferrous]\ndemand_growth = 0.15\nrules_share = {share}\n"


def allowed(share, pool=0.0, limit=np.inf):
    req = np.full(N, 10.0)
    return capacity.expansion_allowed(req, BAN, np.full(N, pool), np.full(N, limit), np.full(N, 100.0),
                                      np.zeros(N), np.full(N, share))


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 0.9])
def test_a_ban_lets_the_uncovered_part_build(share):
    """Under a ban with no retired capacity to replace, the part of the request the rules do not
    cover (1 - share) is built; the covered part needs quota: with quota for 1 of its 10 x share
    units, that much more is allowed."""
    a = allowed(share)
    np.testing.assert_allclose(a.factor, 1.0 - share)
    np.testing.assert_allclose(a.covered, 0.0)
    if share > 0:
        b = allowed(share, pool=1.0)
        np.testing.assert_allclose(b.factor * 10.0, (1.0 - share) * 10.0 + min(1.0, 10.0 * share))
        np.testing.assert_allclose(b.covered * b.factor * 10.0, min(1.0, 10.0 * share))  # quota used


def test_whole_cover_is_the_old_rule():
    """With share 1 a ban without quota stops all expansion, quota for 1 unit allows 1 of 10, and a
    cap leaves only the headroom (the rule as it was before shares)."""
    np.testing.assert_array_equal(allowed(1.0).factor, 0.0)
    np.testing.assert_array_equal(allowed(1.0, pool=1.0).factor, 0.1)
    np.testing.assert_array_equal(capacity.expansion_allowed(
        np.full(N, 10.0), SimpleNamespace(replacement_ratio=np.zeros(N), ban_new_capacity=np.zeros(N)),
        np.zeros(N), np.full(N, 102.0), np.full(N, 100.0), np.zeros(N), np.ones(N)).factor, 0.2)


def test_cap_holds_the_covered_part_only():
    """A cap (in physical units) limits the covered part: share x capacity maps to capacity_2019."""
    phys = np.full(N, 40.0 / 12.0 / 100.0)  # 40 units a year for 100 yuan a month of the sector
    lim = capacity.cap_limit(np.full(N, 44.0), phys, np.array([1.0, 0.1, 0.0]))
    np.testing.assert_allclose(lim, [110.0, 11.0, 0.0])
    # a cap the covered part has reached leaves the uncovered part free
    a = capacity.expansion_allowed(np.full(N, 10.0), SimpleNamespace(replacement_ratio=np.zeros(N),
                                   ban_new_capacity=np.zeros(N)), np.zeros(N), np.full(N, 10.0),
                                   np.full(N, 10.0), np.zeros(N), np.full(N, 0.1))
    np.testing.assert_allclose(a.factor, 0.9)
    # cutting the pipeline to a cap cuts only the covered pipeline
    scale = capacity.pipeline_scale_under_cap(np.full(N, 10.0), np.full(N, 9.0), np.full(N, 2.0), np.full(N, 20.0))
    np.testing.assert_allclose(scale, (20.0 - 1.0) / 20.0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alu")
    body = ALU_RULES + PUSH.replace("{share}", "{}")
    return {a: run_text(tmp, body.replace("{}", str(a)), seed=SEED) for a in (0.2, 1.0)}


def test_the_rules_hold_the_covered_part_and_free_the_rest(runs):
    """Non-ferrous, its demand growing 15% a year under one-for-one replacement and a 42 Mt cap: with
    the rules on the whole sector its capacity cannot grow; with the rules on a fifth of it the
    sector grows while the covered part stays under the cap (capacity_physical is that part's
    capacity, 40.73 Mt at the start either way)."""
    part, whole = runs[0.2], runs[1.0]
    cap_p, cap_w = (r.capacity.sel(sector="nonferrous") for r in (part, whole))
    phys_p, phys_w = (r.capacity_physical.sel(sector="nonferrous") for r in (part, whole))
    assert float(phys_p[0]) == pytest.approx(float(phys_w[0]), rel=1e-9)
    assert float(phys_p.max()) <= 42.0 * 1.0001 and float(phys_w.max()) <= 42.0 * 1.0001
    assert float(cap_w[-1]) <= float(cap_w[0]) * 42.0 / 40.73 * 1.0001  # the whole sector is held
    assert float(cap_p[-1]) > float(cap_w[-1]) * 1.15  # the uncovered part grows: fails if the share is ignored
    # the covered part is a falling share of the sector
    share_end = float(phys_p[-1]) / float(cap_p[-1]) * float(cap_p[0]) / float(phys_p[0]) * 0.2
    assert share_end < 0.19


@pytest.mark.parametrize("value", ["-0.1", "1.5"])
def test_bad_share_names_file_and_key(tmp_path, value):
    path = write_scenario(tmp_path, f"[sectors.nonferrous]\nrules_share = {value}\n")
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(path)
    assert f"{path}: sectors.nonferrous.rules_share:" in str(e.value)


def test_entrants_use_replacement_quota():
    """New capacity needs retired capacity to replace whoever builds it: entrants may add no more than
    the replacement pool allows for the covered part of their capacity (the sector's mix), and their
    capacity draws the pool down. Sector 0: all covered, two retired per unit built; sector 1: a tenth
    covered, one for one; sector 2: no rule."""
    cap, pipe = np.full(N, 100.0), np.zeros(N)
    hooks = capacity.FirmHooks(sector_capacity=lambda: cap, sector_pipeline=lambda: pipe,
                               halt_projects=None, scale_pipeline=None, backward_candidates=None,
                               forced_closures=None)
    rules = capacity.CapacityRules(SHARE, SHARE, np.full(N, 4.0), np.ones(N), np.full(N, 12.0),
                                   np.full(N, 0.004), hooks)
    policy = SimpleNamespace(replacement_ratio=np.array([2.0, 1.0, 0.0]), ban_new_capacity=np.zeros(N),
                             capacity_cap=np.zeros(N))
    np.testing.assert_allclose(rules.entry_room(policy), [2.0, 40.0, np.inf])
    rules.after_entry(np.array([2.0, 10.0, 5.0]))
    np.testing.assert_allclose(rules.quota_pool, [0.0, 3.0, 4.0])


def test_a_ban_on_the_covered_part_lets_the_rest_of_the_sector_enter():
    """A ban on new aluminium capacity stops aluminium, not copper: entry stops where the ban covers
    the whole sector and goes on where it covers a part (whose capacity then needs quota)."""
    from sim.phases import entry

    b = SimpleNamespace(entry_profit_response=0.0)
    p = SimpleNamespace(entry_barrier=np.full(N, 0.5), ban_new_capacity=np.array([1, 1, 0]))
    lam = entry.entry_intensity(np.full(N, 1200.0), np.full(N, 0.1), np.zeros(N), np.zeros(N), b, p,
                                np.array([1.0, 0.1, 1.0]), np.full(N, np.inf))
    np.testing.assert_allclose(lam, [0.0, 10.0, 10.0])


def test_a_rule_that_starts_during_the_run_halts_the_covered_part_only():
    """A replacement rule that starts mid-run halts the projects it covers: all of a sector's where it
    covers the whole sector, only the covered part's where it covers a part (every firm's projects
    scaled by the share that is not covered)."""
    cap, pipe = np.full(N, 100.0), np.full(N, 10.0)
    calls = {}
    hooks = capacity.FirmHooks(sector_capacity=lambda: cap, sector_pipeline=lambda: pipe,
                               halt_projects=lambda s: calls.update(halt=s.copy()),
                               scale_pipeline=lambda f: calls.update(scale=f.copy()),
                               backward_candidates=None, forced_closures=None)
    rules = capacity.CapacityRules(SHARE, SHARE, np.zeros(N), np.ones(N), np.full(N, 12.0),
                                   np.full(N, 0.004), hooks)
    rules.halt_projects(np.array([True, True, False]))
    np.testing.assert_array_equal(calls["halt"], [True, False, False])
    np.testing.assert_allclose(calls["scale"], [1.0, 0.9, 1.0])
    assert rules.covered.pipeline[1] == 0.0


@pytest.mark.parametrize("pipe_now, room", [(10.0, 0.0), (2.0, 7.8 / 0.952)])
def test_entrants_fit_under_a_cap_beside_the_projects_under_way(pipe_now, room):
    """Under a cap entrants get the room incumbents' projects leave: the cap less the covered capacity
    still operating when today's projects come on stream and those projects (their capacity wears
    out over the lag too), not the cap less the capacity installed, which let entrants take room the
    projects under way had claimed. Sector 0 all covered, sector 1 a tenth (the same figures scaled),
    sector 2 no cap; cap 105 a month, capacity 100, 12 months' lag at 0.4% a month."""
    cap, pipe = np.full(N, 100.0), np.full(N, pipe_now)
    hooks = capacity.FirmHooks(sector_capacity=lambda: cap, sector_pipeline=lambda: pipe, halt_projects=None,
                               scale_pipeline=None, backward_candidates=None, forced_closures=None)
    rules = capacity.CapacityRules(SHARE, SHARE, np.zeros(N), np.ones(N), np.full(N, 12.0),
                                   np.full(N, 0.004), hooks)
    policy = SimpleNamespace(replacement_ratio=np.zeros(N), ban_new_capacity=np.zeros(N),
                             capacity_cap=np.array([1260.0, 1260.0, 0.0]))
    np.testing.assert_allclose(rules.entry_room(policy), [room, room, np.inf], atol=1e-9)


def test_no_firm_enters_where_a_cap_leaves_no_room():
    """A cap below a sector's capacity, with no ban, leaves entrants no room: nobody enters the sector
    (before, its entrants were scaled to no capacity and entered as firms with nothing to produce)."""
    from sim.api import make_model
    from sim.scenario import SECTORS

    machinery = SECTORS.index("machinery")
    runs = {}
    for cap in (0.0, 1.0):  # bn yuan of output a year: far below the sector's (0: no cap)
        sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=1500, months=14, seed=SEED,
                               **{"schedule.2019-01.capacity_cap.machinery": cap})
        m = make_model(sc)
        entered = []
        for _ in range(14):
            m.step()
            rows = m.entered_rows
            entered.append((m.firms.sector[rows].copy(), m.firms.capacity[rows].copy()))
        runs[cap] = entered
    assert sum(int((s == machinery).sum()) for s, _ in runs[0.0]) > 5  # machinery firms enter without the cap
    assert sum(len(s) for s, _ in runs[1.0]) > 20  # and other sectors' firms with it
    assert all(not (s == machinery).any() for s, _ in runs[1.0])
    assert all((c > 0).all() for _, c in runs[1.0])


def test_the_free_part_of_a_sector_starts_with_the_projects_it_builds_for_growth(tmp_path):
    """Under the status quo's one-for-one aluminium rule (a tenth of non-ferrous metals) the sector's
    opening projects are a tenth at the rule's rate and nine tenths at the rate of depreciation and
    growth, and the rules' part holds its own share of them. Before 2026-12-07 the whole sector started
    at the aluminium's rate, so its capacity grew 1.0% in the first year against a 1.5% trend."""
    import sim
    from sim.api import make_model
    from sim.phases.setup import SECTORS

    from .conftest import write_scenario

    nf = SECTORS.index("nonferrous")

    def model(body: str, name: str):
        return make_model(sim.load_scenario(write_scenario(tmp_path, body, name), firms=600, months=1), seed=1)

    def pipeline(m) -> float:
        F = m.firms
        return float(F.pipeline[F.alive & (F.sector == nf)].sum())

    rule = model("", "rule.toml")
    free = pipeline(model("[policy]\nreplacement_ratio = { nonferrous = 0.0 }\n", "free.toml"))
    whole = pipeline(model("[sectors.nonferrous]\nrules_share = 1.0\n", "whole.toml"))
    assert whole < 0.9 * free  # the rule binds where it covers the sector
    assert pipeline(rule) == pytest.approx(0.1 * whole + 0.9 * free, rel=1e-12)
    rules = rule.capacity_rules
    rules._covered_parts()
    share = rules.covered.pipeline[nf] / rule.sector_pipeline()[nf]  # (economy-wide units)
    assert share == pytest.approx(0.1 * whole / pipeline(rule), rel=1e-12)
