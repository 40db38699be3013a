"""The policy note is generated from runs (python -m sim.policy_note): its fiscal table decomposes the
government's column of the accounts, and the two budget rules differ where they should."""

from __future__ import annotations

import re

import pytest

from sim import policy_note as pn


@pytest.fixture(scope="module")
def runs():
    return pn.run_comparisons(seeds=1, firms=1500, months=12, names=["baseline", "vat_cut"], progress=False)


def test_fiscal_groups_name_every_government_flow(runs):
    for rule in pn.RULES:
        row = pn.fiscal_effects(runs[rule])["vat_cut"]
        assert abs(row["other"]) <= 1e-6 * abs(row["balance"]) + 1e-6  # every government row is in a group
        assert row["taxes"] < -50  # the cut costs revenue (bn yuan a year)
        assert row["debt"] == pytest.approx(-row["balance"], rel=0.05)


def test_the_budget_rule_decides_who_pays_for_a_vat_cut(runs):
    deficit = pn.fiscal_effects(runs["deficit"])["vat_cut"]
    revenue = pn.fiscal_effects(runs["revenue"])["vat_cut"]
    # deficit finance keeps purchases and adds debt; the revenue rule cuts purchases and adds less debt
    assert abs(deficit["purchases"]) < 0.05 * abs(deficit["taxes"])
    assert revenue["purchases"] > 0.3 * abs(revenue["taxes"])  # + : the government spends less
    assert revenue["debt"] < 0.7 * deficit["debt"]  # in the first year; purchases follow revenue with a lag
    out = {r: float(runs[r].summary_mean.sel(scenario="vat_cut", metric="output")) for r in pn.RULES}
    assert out["revenue"] < out["deficit"]


def test_render_fills_every_section(runs):
    text = pn.render(runs, seeds=1, firms=1500, months=12, seconds=1.0, figure=None)
    for head in ("## The scenarios and what the model says", "## All effects", "## Who pays",
                 "**Deficit rule**", "**Revenue rule**", "## How far to trust this"):
        assert head in text
    assert "| vat_cut |" in text and not re.search(r"\bnan\b", text, re.IGNORECASE)
