"""The kernels' parameter tuples are made once a run (phases.params.RunParams) and made again in the
month a regulator changes an instrument they read; the regulators skip the months nothing moved."""

from __future__ import annotations

import numpy as np

import sim
from sim.api import make_model
from sim.kernels import accounting as acc
from sim.kernels import credit as cr
from sim.phases import credit
from sim.phases.params import RunParams
from sim.regulators import PolicyState

from .conftest import SCENARIOS

CHANGES = {"schedule.2019-03.vat_rate_inputs": 0.13, "schedule.2019-04.cit_rate": 0.2,
           "schedule.2019-04.soe_implicit_guarantee": 0.3, "schedule.2019-05.pledge_haircut": 0.45}


def test_a_change_reaches_the_tuples_the_month_it_acts():
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=300, months=7, **CHANGES)
    m = make_model(sc)
    review = credit.leverage_review_share(m.b.leverage_adjustment)
    made = []
    for t in range(7):
        m.step()
        p, c, b = m.policy, m.sc.banking, m.b
        income, score, repay = m.params.income(), m.params.score(), m.params.repay(t, review)
        # the tuples the step used are those of the policy in force, made afresh
        assert income == acc.income_params(c, p, b)
        assert score == cr.score_params(c, p)
        assert repay == cr.repay_params(b, c, p, t, review)
        made.append((income, score, repay))
    assert made[1][0].vat_rate_inputs == 0.16 and made[2][0].vat_rate_inputs == 0.13
    assert made[2][0].cit_rate == 0.25 and made[3][0].cit_rate == 0.2
    assert made[2][1].soe_implicit_guarantee != 0.3 and made[3][1].soe_implicit_guarantee == 0.3
    assert made[3][2].pledge_haircut != 0.45 and made[4][2].pledge_haircut == 0.45
    # a tuple none of whose instruments changed is last month's object
    assert made[1][0] is made[0][0] and made[4][0] is made[3][0] and made[6][0] is made[5][0]
    assert made[5][1] is made[4][1]
    # the month after a change, last month's value is kept as the previous one, then the same
    assert m.policy.previous["cit_rate"] == 0.2 and m.policy.cit_rate == 0.2


def test_previous_follows_the_schedule_month_by_month():
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=300, months=6, **CHANGES)
    m = make_model(sc)
    seen = []
    for _ in range(6):
        m.step()
        seen.append((m.policy.previous["cit_rate"], m.policy.cit_rate, m.policy.values["cit_rate"]))
    assert seen == [(0.25, 0.25, 0.25)] * 3 + [(0.25, 0.2, 0.2), (0.2, 0.2, 0.2), (0.2, 0.2, 0.2)]


def test_run_params_follow_the_instruments_they_read():
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=300)
    policy = PolicyState()
    for name in type(sc.policy).model_fields:
        policy.set(name, getattr(sc.policy, name))
    k = RunParams(sc.behaviour, sc.banking, policy)
    first = k.income()
    assert k.income() is first and first == acc.income_params(sc.banking, policy, sc.behaviour)
    policy.set("policy_rate", 0.01)  # not read by the income tuple
    assert k.income() is first
    policy.set("cit_rate", 0.15)
    assert k.income() is not first and k.income().cit_rate == 0.15
    policy.values["cit_rate"] = 0.1  # a value put in `values` alone reaches the tuples too
    assert k.income().cit_rate == 0.1
    assert k.repay(13, 0.5) == cr.repay_params(sc.behaviour, sc.banking, policy, 13, 0.5)
    assert k.repay(1, 0.5) is k.repay(13, 0.5) and k.repay(2, 0.5) is not k.repay(1, 0.5)
    assert np.isfinite(k.market.replicator_speed)
