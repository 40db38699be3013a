"""Docs that are generated from code must match it."""

from __future__ import annotations

from sim.scenario.reference import render

from .conftest import ROOT


def test_scenario_reference_is_current():
    committed = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert committed == render(), "regenerate: python -m sim.scenario.reference > docs/scenario-reference.md"
