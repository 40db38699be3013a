"""A change that moves the baseline must be deliberate: regenerate with
`python -m sim.baseline_summary --write` and commit the diff of tests/data/baseline_summary.json."""

from __future__ import annotations

import json

import sim
from sim import baseline_summary as bs
from sim.scenario.warnings import scenario_warnings

from .conftest import SCENARIOS


def test_baseline_matches_committed_summary():
    old = json.loads(bs.PATH.read_text())
    new = bs.compute()
    assert old["settings"] == new["settings"]
    diffs = bs.compare(new, old)
    assert not diffs, f"baseline moved in {diffs}: run `python -m sim.baseline_summary --write` if intended"


def test_extreme_values_warn(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text('[policy]\nvat_rate = { steel = 0.4 }\nforced_exit_quota = 0.3\n')
    w = scenario_warnings(sim.load_scenario(p))
    assert any("vat_rate.steel" in x for x in w) and any("forced_exit_quota" in x for x in w)
    assert scenario_warnings(sim.load_scenario(SCENARIOS / "baseline.toml")) == []
