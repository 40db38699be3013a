"""Issue 21 part 2: the 2016 calibration (sim/data/sectors_2016.toml, `run.calibration`) and the
history scenario from 2016 (scenarios/history/decapacity_2016.toml)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.scenario import ScenarioError
from sim.scenario.load import YEAR_KEYS, calibration_year_table, sector_defaults
from sim.scenario.schema import SECTORS, month_index

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "scenarios" / "history" / "decapacity_2016.toml"
TABLE_2016 = ROOT / "sim" / "data" / "sectors_2016.toml"
SOURCE = re.compile(r"(19|20)\d\d|held|derived|inferred|weak")


def test_the_2016_table_names_every_sector_and_only_year_keys():
    raw = tomllib.loads(TABLE_2016.read_text())
    assert set(raw) == set(SECTORS)
    for s, t in raw.items():
        assert set(t) == set(YEAR_KEYS), s
        assert all(isinstance(v, int | float) for v in t.values()), s
        assert min(t["firms"], t["revenue"], t["utilisation"], t["capacity"]) > 0 and t["utilisation"] <= 1, s
    # the tables it gives validate, and structural parameters stay the 2019 table's
    d16, d19 = sector_defaults("2016"), sector_defaults("2019")
    assert d16["steel"]["capacity_2019"] == 1150.0 and d19["steel"]["capacity_2019"] == 1245.0
    assert d16["steel"]["labour_share"] == d19["steel"]["labour_share"]
    assert calibration_year_table("2016")["cement"]["utilisation_2019"] == 0.62


def test_every_number_of_the_2016_table_has_a_source_comment():
    for line in TABLE_2016.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#") and not line.startswith("["):
            assert "#" in line, line
            comment = line.split("#", 1)[1]
            assert SOURCE.search(comment), line


def test_capacity_is_revenue_over_utilisation_where_it_says_so():
    for s, t in tomllib.loads(TABLE_2016.read_text()).items():
        if sector_defaults("2016")[s]["capacity_unit"] == "bn yuan output/yr":
            assert t["capacity"] == pytest.approx(1000 * t["revenue"] / t["utilisation"], rel=0.01), s


def test_the_history_scenario_validates_with_the_2016_tables_and_dated_measures():
    sc = sim.load_scenario(HISTORY)
    assert sc.run.start == "2016-01" and sc.run.calibration == "2016" and sc.run.months == 60
    assert sc.sectors["steel"].capacity_2019 == 1150.0
    assert sc.policy.vat_rate == 0.17 and sc.policy.forced_exit_quota["steel"] == pytest.approx(0.0565)
    assert sc.schedule["2018-05"].vat_rate == 0.16 and sc.schedule["2019-04"].vat_rate == 0.13
    assert sc.schedule["2019-07"].electricity_price_change_general == pytest.approx(-0.19)
    assert sc.schedule["2019-01"].inclusive_sme_target == 0.3  # the 2019 package, on its date


def test_the_vat_rate_of_the_history_is_17_then_16_then_13():
    from sim.regulators import PolicySchedule

    sc = sim.load_scenario(HISTORY)
    ps = PolicySchedule(sc)
    start = month_index(sc.run.start)
    seen = {}
    for m in ("2016-01", "2017-06", "2018-04", "2018-05", "2019-03", "2019-04", "2020-12"):
        ps.advance(month_index(m) - start)
        seen[m] = float(np.unique(ps.values["vat_rate"])[0])
    assert seen == {"2016-01": 0.17, "2017-06": 0.17, "2018-04": 0.17, "2018-05": 0.16, "2019-03": 0.16,
                    "2019-04": 0.13, "2020-12": 0.13}


def test_the_history_runs_small():
    ds = sim.run(HISTORY, firms=1000, months=36, seed=1, quiet=True)
    assert str(ds.time.values[0])[:7] == "2016-01" and str(ds.time.values[-1])[:7] == "2018-12"
    assert np.isfinite(ds.output.values).all() and (ds.output.values > 0).all()
    # the steel quota closes capacity in 2016 (65 Mt of 1,150 Mt, so about 5.7% less by December,
    # against investment that the ban and the replacement rule let through)
    cap = ds.capacity.sel(sector="steel")
    assert float(cap.isel(time=11)) < float(cap.isel(time=0))


@pytest.mark.parametrize("run, needle", [
    ('start = "2016-01"\n', 'set run.calibration = "2016"'),
    ('start = "2019-01"\ncalibration = "2016"\n', "the 2016 calibration is the state at 2016-01"),
    ('start = "2016-01"\ncalibration = "2017"\n', "run.calibration"),
])
def test_a_start_that_does_not_match_the_calibration_exits_2(tmp_path, run, needle):
    f = tmp_path / "bad.toml"
    f.write_text(f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\n[run]\n{run}')
    with pytest.raises(ScenarioError) as e:
        sim.load_scenario(f)
    assert "run.calibration" in str(e.value) and needle in str(e.value)
    r = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(f)], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bad.toml" in r.stderr + r.stdout and "run.calibration" in r.stderr + r.stdout


def test_an_explicit_2019_calibration_changes_nothing():
    base = ROOT / "scenarios" / "baseline.toml"
    a = sim.run(base, firms=300, months=6, seed=2, quiet=True)
    b = sim.run(sim.load_scenario(base, firms=300, months=6, calibration="2019"), seed=2, quiet=True)
    for v in a.data_vars:
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)


def test_the_hindcast_of_a_2016_run_scores_from_2016_without_an_ar1():
    from sim.hindcast.core import hindcast

    sc = sim.load_scenario(HISTORY, firms=300)
    ds = hindcast(sc, [0], series=["utilisation_industry", "crude_steel_output_growth"])
    assert ds.attrs["first_year"] == 2016 and ds.attrs["calibration"] == "2016"
    # 2015 figures set the start: 2015 is marked calibrated where the 2019 tables calibrate the
    # measure, and no year from 2016 on is
    assert int(ds.calibrated.sel(series="utilisation_industry", year=2015)) == 1
    assert int(ds.calibrated.sel(year=slice(2016, None)).sum()) == 0
    u = ds.sel(series="utilisation_industry")
    assert np.isfinite(u.simulated.sel(year=2016, seed=0))
    g = ds.sel(series="crude_steel_output_growth")
    assert np.isnan(g.simulated.sel(year=2016, seed=0)) and np.isfinite(g.simulated.sel(year=2017, seed=0))
    # one observation before 2016 at most: no AR(1), the random walk forecasts 2016 from 2015
    assert np.isnan(ds.ar1_phi).all() and np.isnan(ds.rmse_ar1).all()
    assert float(g.random_walk.sel(year=2017)) == float(g.observed.sel(year=2016))
