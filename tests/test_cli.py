"""The command line as a user runs it: output files, panel, summary, plan."""

from __future__ import annotations

import subprocess
import sys

import xarray as xr

from .conftest import ROOT


def sim_cli(*args):
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True)


def test_run_writes_netcdf_zarr_and_panel(tmp_path):
    nc, zr, panel = tmp_path / "run.nc", tmp_path / "run.zarr", tmp_path / "panel.nc"
    r = sim_cli("run", str(ROOT / "scenarios" / "vat_cut.toml"), "--firms", "2000", "--months", "13",
                "--out", str(nc), "--panel", str(panel))
    assert r.returncode == 0, r.stderr
    assert "steel" in r.stdout and "value added" in r.stdout  # the summary table
    ds = xr.open_dataset(nc)
    assert ds.attrs["scenario"] == "vat_cut" and ds.sizes["time"] == 13
    assert float(ds.output.sel(sector="steel").isel(time=0)) > 0
    p = xr.open_dataset(panel)
    assert p.sizes["time"] == 2  # month 12 and the end
    for v in ("sector", "ownership", "alive", "output", "capacity", "productivity", "energy_intensity",
              "net_worth", "loans", "cash"):
        assert v in p
    r = sim_cli("run", str(ROOT / "scenarios" / "baseline.toml"), "--firms", "2000", "--months", "3", "--out",
                str(zr), "--quiet")
    assert r.returncode == 0 and r.stdout == ""
    assert xr.open_zarr(zr).sizes["time"] == 3
    assert sorted(x.name for x in tmp_path.iterdir()) == ["panel.nc", "run.nc", "run.zarr"]  # no temp files


def test_bad_output_suffix_exit_2(tmp_path):
    r = sim_cli("run", str(ROOT / "scenarios" / "baseline.toml"), "--out", str(tmp_path / "x.csv"))
    assert r.returncode == 2 and "x.csv" in r.stderr and "Traceback" not in r.stderr


def test_banks_option_sets_the_bank_count_and_refuses_bad_values(tmp_path):
    """`--banks N` runs N banks (the dataset says so); without it the count keeps the 1:1 ratio of firms to
    banks (4,000 banks for 378,000 firms: 21 for 2,000); a bad value exits 2 naming the option."""
    base = str(ROOT / "scenarios" / "baseline.toml")
    for banks, want in (("7", 7), (None, 21)):
        out = tmp_path / f"b{banks}.nc"
        r = sim_cli("run", base, "--firms", "2000", "--months", "1", "--out", str(out), "--quiet",
                    *(("--banks", banks) if banks else ()))
        assert r.returncode == 0, r.stderr
        ds = xr.open_dataset(out)
        assert ds.attrs["banks_simulated"] == want
        assert abs(ds.attrs["bank_weight"] - 4000 / want) < 1e-9
    for bad in ("0", "-2", "many", "200000"):
        r = sim_cli("run", base, "--banks", bad, "--out", str(tmp_path / "bad.nc"))
        assert r.returncode == 2 and "--banks" in r.stderr and "Traceback" not in r.stderr
        assert r.stderr.count("Error") == 1
    assert not (tmp_path / "bad.nc").exists()


def test_plan_lists_the_steps():
    r = sim_cli("plan")
    assert r.returncode == 0
    assert r.stdout.index("policy") < r.stdout.index("demand") < r.stdout.index("entry")


def test_panel_follows_each_firm_by_its_id(tmp_path):
    """One column per firm over its life (rows reused by entrants do not mix two firms), sector
    names, active firms only, the balance sheet adding up, snapshots every --panel-every months."""
    path = tmp_path / "p.nc"
    r = sim_cli("run", str(ROOT / "scenarios" / "capacity_consolidation.toml"), "--firms", "3000", "--months", "24",
                "--panel", str(path), "--panel-every", "6", "-q")
    assert r.returncode == 0, r.stderr
    p = xr.open_dataset(path)
    assert p.sizes["time"] == 4 and p.attrs["seed"] == 0 and "scenario_toml" in p.attrs
    assert len(set(p.firm.values.tolist())) == p.sizes["firm"]
    assert set(p.sector.values.tolist()) <= {"steel", "nonferrous", "cement", "flat_glass", "chemicals",
                                             "machinery", "autos", "nev", "electronics", "textiles"}
    alive = p.alive == 1
    assert bool(p.output.where(~alive).isnull().all()) and bool(p.output.where(alive).notnull().sum() == alive.sum())
    assert int((~alive).sum()) > 0  # firms entered or exited between snapshots
    gap = (p.assets - p.liabilities - p.equity).where(alive)
    assert float(abs(gap).max()) <= 1e-6 * float(p.assets.max())
    steel = p.where(p.sector == "steel", drop=True)
    assert 0 < steel.sizes["firm"] < p.sizes["firm"]
    r = sim_cli("run", str(ROOT / "scenarios" / "baseline.toml"), "--months", "2", "--panel", str(tmp_path / "q.nc"),
                "--panel-vars", "output,nope", "-q")
    assert r.returncode == 2 and "nope" in r.stderr and not (tmp_path / "q.nc").exists()
