"""The Python API and the command line agree: dotted overrides, progress, seeds lists, --banks,
validate for sweep files, sweep --dry-run, and what `import sim` offers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import sim
from sim.cli import main
from sim.clicommon import Seeds
from sim.scenario import SECTORS

from .conftest import SCENARIOS


def test_dotted_overrides_reach_every_section():
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=300, **{
        "policy.vat_rate.steel": 0.13, "schedule.2019-04.cit_rate": 0.2, "behaviour.replicator_speed": 0.1,
        "banking.sme_premium": 0.02, "sectors.cement.price_elasticity": 0.9})
    assert sc.run.firms == 300 and sc.behaviour.replicator_speed == 0.1 and sc.banking.sme_premium == 0.02
    assert sc.policy.vat_rate == {s: (0.13 if s == "steel" else 0.16) for s in SECTORS}
    assert sc.schedule["2019-04"].cit_rate == 0.2 and sc.sectors["cement"].price_elasticity == 0.9
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>: policy\.vat_rate: .*less than or equal"):
        sim.load_scenario(SCENARIOS / "baseline.toml", **{"policy.vat_rate": 1.5})
    with pytest.raises(sim.ScenarioError, match=r"<arguments>: behaviour\.no_such_key: unknown key"):
        sim.load_scenario(SCENARIOS / "baseline.toml", **{"behaviour.no_such_key": 1.0})


def test_progress_true_draws_a_bar_and_gives_the_same_run(capsys):
    a = sim.run(SCENARIOS / "baseline.toml", seed=1, firms=300, months=3, progress=True, quiet=True)
    err = capsys.readouterr().err
    assert "simulating" in err and "/3" in err
    b = sim.run(SCENARIOS / "baseline.toml", seed=1, firms=300, months=3, progress=False, quiet=True)
    np.testing.assert_array_equal(a.output.values, b.output.values)
    with pytest.raises(TypeError, match="progress"):
        sim.run(SCENARIOS / "baseline.toml", firms=300, months=1, progress="yes")


def test_import_sim_offers_the_documented_entry_points():
    for name in ("run", "write", "load_scenario", "compare", "sweep", "analyze", "ScenarioError"):
        assert name in dir(sim)
    assert callable(sim.compare.compare) and callable(sim.sweep.run_sweep)


def test_seeds_take_a_count_or_a_list():
    s = Seeds()
    assert s.convert("3", None, None) == [0, 1, 2] and s.convert("0,3,7", None, None) == [0, 3, 7]
    for bad in ("0", "a", "1,1", "-1,2", ","):
        with pytest.raises(Exception, match="seeds|count"):
            s.convert(bad, None, None)


def test_compare_with_a_seed_list_and_banks(tmp_path):
    out = tmp_path / "c.nc"
    r = CliRunner().invoke(main, ["compare", str(SCENARIOS / "vat_cut.toml"), "--seeds", "2,5", "--firms", "300",
                                  "--months", "2", "--banks", "20", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.stderr
    ds = xr.open_dataset(out)
    assert ds.seed.values.tolist() == [2, 5] and "banks = 20" in ds.attrs["scenarios_toml"]


def test_validate_checks_sweep_files_and_is_quiet_on_request(tmp_path):
    files = [str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "sweeps" / "quick.toml")]
    r = CliRunner().invoke(main, ["validate", *files])
    assert r.exit_code == 0 and "sweep quick: 12 runs" in r.stdout
    assert CliRunner().invoke(main, ["validate", "-q", *files]).stdout == ""
    bad = tmp_path / "bad_sweep.toml"
    bad.write_text('base = "nowhere.toml"\nseeds = 2\n')
    r = CliRunner().invoke(main, ["validate", str(bad)])
    assert r.exit_code == 2 and "bad_sweep.toml: base" in r.stderr


def test_sweep_dry_run_prints_the_design_and_writes_nothing(tmp_path):
    r = CliRunner().invoke(main, ["sweep", str(SCENARIOS / "sweeps" / "quick.toml"), "--dry-run"])
    assert r.exit_code == 0
    assert "12 runs = 2 vat_rate x 3 upgrade_subsidy x 2 seed" in r.stdout and "MB" in r.stdout
    r = CliRunner().invoke(main, ["sweep", str(SCENARIOS / "sweeps" / "quick.toml")])
    assert r.exit_code == 2 and "--out" in r.stderr


def test_compare_and_sweep_are_callable_after_import_sim(tmp_path, monkeypatch):
    c = sim.compare([SCENARIOS / "baseline.toml", SCENARIOS / "vat_cut.toml"], seeds=1, firms=300, months=2)
    assert c.sizes["scenario"] == 2 and callable(sim.compare.plot)
    monkeypatch.chdir(SCENARIOS / "sweeps")
    spec = {"base": "../baseline.toml", "seeds": 1, "run": {"firms": 300, "months": 2},
            "outputs": ["output"], "grid": [{"key": "policy.cit_rate", "values": [0.2, 0.25]}]}
    ds = sim.sweep(spec, tmp_path / "s.zarr", workers=1)
    assert ds.sizes["cit_rate"] == 2 and (ds.status == "done").all()
    with pytest.raises(sim.ScenarioError, match="<dict>: seeds"):
        sim.sweep({**spec, "seeds": True}, tmp_path / "t.zarr")


def test_tidy_tables_have_one_row_per_observation():
    ds, panel = sim.run(SCENARIOS / "baseline.toml", seed=1, firms=400, months=13, panel=True, quiet=True)
    df = sim.tidy(ds)
    assert list(df.columns[-3:]) == ["variable", "value", "units"]
    gdp = df[df.variable == "gdp"]
    assert len(gdp) == 13 and gdp.sector.isna().all() and gdp.size_class.isna().all()  # not repeated
    assert len(df[df.variable == "output"]) == 13 * 10 and len(df[df.variable == "credit"]) == 13 * 2
    keys = [c for c in df.columns if c not in ("value", "units")]  # every coordinate (flow, institution, item too)
    assert {"flow", "institution", "item"} <= set(keys)  # the default closed economy's accounts are in the table
    assert not df.duplicated(keys).any()
    assert len(df[df.variable == "tfm"]) == 13 * ds.sizes["flow"] * ds.sizes["institution"]
    assert len(df[df.variable == "npl_by_category"]) == 13 * 5
    assert (df[df.variable == "output"].units == "yuan/month").all()
    wide = ds.sim.to_frame(wide=True)
    assert wide[("time",)].shape[0] == 13 and "gdp" in wide[("time",)] and "output" not in wide[("time",)]
    p = sim.tidy(panel, ["output"])
    assert len(p) == int((panel.alive == 1).sum())  # active firms only
    assert {"firm", "sector", "weight"} <= set(p.columns) and set(p.sector) <= set(SECTORS)
    cmp = sim.compare([SCENARIOS / "baseline.toml", SCENARIOS / "vat_cut.toml"], seeds=[0, 1], firms=300, months=2)
    c = sim.tidy(cmp, ["gdp", "summary_mean"])
    assert len(c[c.variable == "gdp"]) == 2 * 2 * 2 and {"scenario", "seed", "metric"} <= set(c.columns)


def test_plots_use_readable_units_and_keep_legends_off_the_data(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import sim.plot

    ds = sim.run(SCENARIOS / "baseline.toml", seed=1, firms=300, months=3, quiet=True)
    v, unit = sim.plot.display(ds.gdp)
    assert unit == "bn yuan/yr" and float(v[0]) == float(ds.gdp[0]) * 12 / 1e9
    assert sim.plot.display(ds.credit_total)[1] == "bn yuan" and sim.plot.display(ds.npl_ratio)[1] == "%"
    assert sim.plot.display(ds.price_index)[1] == "1"  # an index stays an index
    ax = sim.plot.sectors(ds, "output", ax=plt.subplots()[1])
    assert ax.get_ylabel() == "bn yuan/yr" and ax.get_legend().get_bbox_to_anchor().x0 > ax.bbox.x1 - 1
    cmp = sim.compare([SCENARIOS / "baseline.toml", SCENARIOS / "vat_cut.toml"], seeds=1, firms=300, months=2)
    out = tmp_path / "fig.png"
    fig = sim.compare.plot(cmp, out)
    assert out.exists() and len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
