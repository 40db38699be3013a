"""The small-share exit threshold and the entrants' size (MODEL.md sections 9 and 10): the threshold
is a fixed minimum share (behaviour.min_share_reference = "2019"), so it does not rise as firms
leave; entrants are sized on the incumbents they meet (behaviour.entrant_size_reference =
"incumbents"), so they do not shrink relative to them as capacity per firm grows."""

from __future__ import annotations

import copy

import numpy as np

import sim
from sim.model import IndustrialEconomy
from sim.scenario.schema import SECTORS

from .conftest import SCENARIOS


def _model(months=36, firms=2000, seed=3, **behaviour):
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=firms, months=months)
    if behaviour:
        sc = sc.model_copy(update={"behaviour": sc.behaviour.model_copy(update=behaviour)})
    return IndustrialEconomy(sc, seed=seed)


def _thresholds(m, months: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The exit step's minimum shares, month by month, with the live firms by sector at the time."""
    seen = []
    real = m.exits

    def spy(min_share):
        seen.append((min_share.copy(), m.firms_by_sector().copy()))
        return real(min_share)

    m.exits = spy
    for _ in range(months):
        m.step()
    return seen


def test_the_exit_threshold_is_a_fixed_minimum_share():
    """With "2019" the threshold is min_relative_share over the sector's simulated firms at the start,
    whatever the firms alive; with "current" it follows the firms alive (and rises as they leave)."""
    m = _model()
    b = m.b
    fixed = b.min_relative_share / m.n_alloc
    seen = _thresholds(m, 24)
    assert any(np.any(n != m.n_alloc) for _, n in seen)  # firms came and went
    for got, _ in seen:
        np.testing.assert_array_equal(got, fixed)
    m = _model(min_share_reference="current")
    for got, n in _thresholds(m, 24):
        np.testing.assert_allclose(got, m.b.min_relative_share / np.maximum(n, 1), rtol=0)


def test_entrants_are_sized_on_the_incumbents_they_meet():
    """Incumbents' capacity doubled before entry: with "incumbents" every entrant of an uncapped
    sector comes in twice as large (the same draws), with "2019" as large as before."""
    for ref, ratio in (("incumbents", 2.0), ("2019", 1.0)):
        m = _model(entrant_size_reference=ref)
        for _ in range(6):
            m.step()
        m2 = copy.deepcopy(m)
        F2 = m2.firms
        F2.capacity[F2.alive] *= 2.0
        m2.totals.invalidate()
        demand = m.rec.data["demand"][m.t - 1]
        m._entry(demand)
        m2._entry(demand * 2.0)  # orders per firm in proportion, so entrants' shares match
        rows, rows2 = m.entered_rows, m2.entered_rows
        assert rows.size > 5 and np.array_equal(rows, rows2)
        capped = m.policy.capacity_cap[m.firms.sector[rows]] > 0
        got = m2.firms.capacity[rows][~capped] / m.firms.capacity[rows][~capped]
        np.testing.assert_allclose(got, ratio, rtol=1e-12)
        assert set(m.firms.sector[rows]) - {SECTORS.index("nonferrous")}  # entrants in several sectors
