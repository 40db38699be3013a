"""Scenario files: extends, overrides, and bad input (exit 2, one message naming file and key,
no traceback, no output file)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sim
from sim.scenario import SECTORS

from .conftest import SCENARIOS, write_scenario

BAD = {
    "unknown key": ("[run]\nmonthz = 12\n", "run.monthz", "unknown key"),
    "rate of 1.5": ("[policy]\nvat_rate = 1.5\n", "policy.vat_rate", "less than or equal to 1"),
    "sector rate of 1.5": ('[schedule."2019-04"]\nvat_rate = { steel = 1.5 }\n',
                           "schedule.2019-04.vat_rate.steel", "less than or equal to 1"),
    "month not a date": ('[schedule."April 2019"]\nvat_rate = 0.13\n', "schedule.April 2019", "not a month"),
    "start not a date": ('[run]\nstart = "2019-13"\n', "run.start", "not a month"),
    "unknown sector": ("[sectors.steal]\nprice_elasticity = 1.0\n", "sectors.steal", "unknown sector"),
    "wrong type": ("[run]\nfirms = \"many\"\n", "run.firms", "valid integer"),
    "not toml": ("this is [not toml\n", None, "not valid TOML"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file_is_rejected_with_file_and_key(tmp_path, case):
    body, key, words = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(path)
    msg = str(e.value)
    assert str(path) in msg
    if key:
        assert key in msg
    assert words in msg


def test_missing_extends_target(tmp_path):
    p = tmp_path / "child.toml"
    p.write_text('extends = "nowhere.toml"\n')
    with pytest.raises(sim.ScenarioError, match=r"child\.toml: extends: .*nowhere\.toml"):
        sim.load_scenario(p)


def test_circular_extends(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(sim.ScenarioError, match="circular"):
        sim.load_scenario(tmp_path / "a.toml")


def test_error_in_parent_names_the_parent(tmp_path):
    (tmp_path / "parent.toml").write_text("[policy]\ncit_rate = 2.0\n")
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\n')
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(tmp_path / "child.toml")
    assert "parent.toml: policy.cit_rate" in str(e.value)


def test_extends_overrides_and_inherits(tmp_path):
    p = write_scenario(tmp_path, '[sectors.steel]\nprice_elasticity = 0.9\n[schedule."2019-04"]\nvat_rate = 0.13\n')
    sc = sim.load_scenario(p)
    assert sc.sectors["steel"].price_elasticity == 0.9
    assert sc.sectors["cement"].price_elasticity == sim.load_scenario(SCENARIOS / "baseline.toml").sectors[
        "cement"].price_elasticity
    assert sc.run.start == "2019-01"  # inherited from baseline.toml
    assert sc.schedule["2019-04"].vat_rate == 0.13
    assert list(sc.sectors) == list(SECTORS)


def test_keyword_overrides_validate(tmp_path):
    with pytest.raises(sim.ScenarioError, match="run.months"):
        sim.load_scenario(SCENARIOS / "baseline.toml", months=0)


def test_shipped_scenarios_are_valid():
    for p in SCENARIOS.glob("*.toml"):
        sim.load_scenario(p)


@pytest.mark.parametrize("case", ["unknown key", "rate of 1.5", "month not a date", "not toml"])
def test_cli_bad_input_exit_2_no_traceback_no_output(tmp_path, case):
    body, key, _ = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(body)
    out = tmp_path / "out.nc"
    r = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(path), "--out", str(out), "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) == 1
    assert str(path) in r.stderr and (key is None or key in r.stderr)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_cli_missing_extends_exit_2(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text('extends = "gone.toml"\n')
    r = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(p)], capture_output=True, text=True)
    assert r.returncode == 2 and "extends" in r.stderr and "Traceback" not in r.stderr


def test_cli_validate_ok():
    files = [str(p) for p in sorted(SCENARIOS.glob("*.toml"))]
    r = subprocess.run([sys.executable, "-m", "sim.cli", "validate", *files], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("ok:") == len(files)
