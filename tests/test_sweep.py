"""Sweeps on Dask into one resumable Zarr store (issue 5).

A real distributed scheduler and worker processes on localhost (no mocks): the store made through
`--scheduler` equals the one made by `--workers 1` value for value, with the workers' numba cache
cold (an empty NUMBA_CACHE_DIR) and then warm; a sweep killed with SIGKILL and re-run equals an
uninterrupted one and no run recorded done is run again; a failing run is recorded and the others
go on; a worker that dies has its run retried; bad sweep files exit 2. Small economies throughout.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from sim.cli import main
from sim.sweep import load_sweep
from sim.sweep.spec import apply_overrides, parse_key

from .conftest import ROOT, SCENARIOS

SMALL_SWEEP = f"""
name = "small"
base = "{SCENARIOS / 'vat_cut.toml'}"
seeds = 2
outputs = ["output", "price_index_tax_inclusive", "upgrades", "credit", "gdp"]

[run]
firms = 1000
months = 6

[[grid]]
key = ['schedule."2019-04".vat_rate', 'schedule."2019-04".vat_rate_inputs']
values = [0.13, 0.16]
name = "vat_rate"

[[grid]]
key = "policy.upgrade_subsidy"
values = [0.0, 0.5]
"""
N_RUNS = 8


# a guard against a hung command, not a timing: a cold sweep compiles the kernels in every worker (the
# scheduler test took 274-287 s alone on 2 cores at load 3; its sweep passed 300 s at load 13-17, 2026-12-07)
CLI_TIMEOUT = 1200


def sim_cli(*args, env=None, **kw):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True, text=True,
                          env=e, timeout=CLI_TIMEOUT, **kw)


def open_store(path) -> xr.Dataset:
    return xr.open_zarr(path).load()


def assert_same_results(a, b) -> None:
    """Value for value: every output, status, error and coordinate (run timings excepted)."""
    da, db = open_store(a), open_store(b)
    assert da.attrs["sweep_fingerprint"] == db.attrs["sweep_fingerprint"]
    assert set(da.data_vars) == set(db.data_vars)
    xr.testing.assert_identical(da.drop_vars("run_seconds").drop_attrs(),
                                db.drop_vars("run_seconds").drop_attrs())


def run_log(path: Path) -> list[int]:
    return [int(line.split()[0]) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("sweep") / "small.toml"
    p.write_text(SMALL_SWEEP)
    return p


@pytest.fixture(scope="module")
def reference(sweep_file, tmp_path_factory):
    """The uninterrupted sweep on one local worker process, through the command line."""
    out = tmp_path_factory.mktemp("ref") / "ref.zarr"
    r = sim_cli("sweep", sweep_file, "--out", out, "--workers", 1)
    assert r.returncode == 0, r.stderr
    assert "8 of 8 runs done, 0 failed" in r.stderr
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A real scheduler and two worker processes on localhost, their numba cache dir empty (cold)."""
    from distributed import Client, LocalCluster

    cache = tmp_path_factory.mktemp("numba_cache")
    cl = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      env={"NUMBA_CACHE_DIR": str(cache), "NUMBA_NUM_THREADS": "1"})
    client = Client(cl)
    yield cl, client, cache
    client.close()
    cl.close()


@pytest.fixture(scope="module")
def shared_cluster():
    """A real scheduler and two worker processes on localhost that use the suite's numba cache (warm
    once any test has compiled the kernels): for tests of what a sweep does on a scheduler, not of
    its cache. (On `cluster`, whose cache only the cold-cache test fills, a test that pytest-xdist
    dealt to the other worker started cold and compiled every kernel again: 160 s instead of 3.)"""
    from distributed import Client, LocalCluster

    cl = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      env={"NUMBA_NUM_THREADS": "1"})
    client = Client(cl)
    yield cl, client
    client.close()
    cl.close()


# ---------------------------------------------------------------------------------------------
# a real scheduler: equal to --workers 1, with a cold and a warm numba cache on the workers
# ---------------------------------------------------------------------------------------------
def test_scheduler_equals_one_worker_cold_then_warm_cache(sweep_file, reference, cluster, tmp_path):
    cl, client, cache = cluster
    assert list(cache.iterdir()) == []  # cold: nothing compiled yet
    assert set(client.run(lambda: os.environ.get("NUMBA_CACHE_DIR")).values()) == {str(cache)}

    cold = tmp_path / "cold.zarr"
    r = sim_cli("sweep", sweep_file, "--out", cold, "--scheduler", cl.scheduler_address)
    assert r.returncode == 0, r.stderr
    assert list(cache.rglob("*.nbi")), "workers did not write the numba cache"
    assert_same_results(cold, reference)

    client.restart()  # new worker processes that load the cache written above
    warm = tmp_path / "warm.zarr"
    r = sim_cli("sweep", sweep_file, "--out", warm, "--scheduler", cl.scheduler_address, "--quiet")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    assert_same_results(warm, reference)

    ds = open_store(warm)
    assert dict(ds.sizes) == {"vat_rate": 2, "upgrade_subsidy": 2, "seed": 2, "time": 6, "sector": 10,
                              "size_class": 2}
    assert ds.output.dims == ("vat_rate", "upgrade_subsidy", "seed", "time", "sector")
    assert (ds.status == "done").all() and (ds.error == "").all()
    assert np.isfinite(ds.output).all() and ds.output.attrs["units"].startswith("yuan")
    assert ds.vat_rate.values.tolist() == [0.13, 0.16] and ds.seed.values.tolist() == [0, 1]
    assert "policy.upgrade_subsidy" in ds.attrs["sweep_toml"] and ds.attrs["engine_version"]
    # a point equals the single run it stands for
    sc = apply_overrides(load_sweep(sweep_file).base_dumps[0],
                         [(parse_key('schedule."2019-04".vat_rate'), 0.16),
                          (parse_key('schedule."2019-04".vat_rate_inputs'), 0.16),
                          (parse_key("policy.upgrade_subsidy"), 0.5)])
    import sim

    one = sim.run(sc, seed=1)
    np.testing.assert_array_equal(ds.output.sel(vat_rate=0.16, upgrade_subsidy=0.5, seed=1).values,
                                  one.output.values)


# ---------------------------------------------------------------------------------------------
# killed and resumed
# ---------------------------------------------------------------------------------------------
def test_killed_sweep_resumes_to_the_same_store_without_rerunning_done_runs(sweep_file, reference, tmp_path):
    out, log1, log2 = tmp_path / "k.zarr", tmp_path / "log1", tmp_path / "log2"
    # SIGKILL of the driver's whole process group (driver and local workers) after 3 runs are written
    p = subprocess.Popen([sys.executable, "-m", "sim.cli", "sweep", str(sweep_file), "--out", str(out),
                          "--workers", "1", "--quiet"], env={**os.environ, "SIM_SWEEP_KILL_AFTER": "3",
                                                             "SIM_SWEEP_RUN_LOG": str(log1)},
                         start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.wait(timeout=120)
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert p.returncode == -signal.SIGKILL
    st = open_store(out).status.values.ravel()
    done_before = set(np.flatnonzero(st == "done").tolist())
    assert len(done_before) == 3 and (st[st != "done"] == "").all()

    r = sim_cli("sweep", sweep_file, "--out", out, "--workers", 1, env={"SIM_SWEEP_RUN_LOG": str(log2)})
    assert r.returncode == 0, r.stderr
    assert "resuming: 3 runs done are skipped" in r.stderr
    rerun = run_log(log2)
    assert sorted(rerun) == sorted(set(range(N_RUNS)) - done_before)  # each remaining run exactly once
    assert not done_before & set(rerun)                                 # no done run again
    assert_same_results(out, reference)

    # a third time: nothing to do
    r = sim_cli("sweep", sweep_file, "--out", out, "--workers", 1, env={"SIM_SWEEP_RUN_LOG": str(log2)})
    assert r.returncode == 0 and "8 skipped" in r.stderr and len(run_log(log2)) == len(rerun)


def test_worker_that_dies_has_its_run_retried(sweep_file, reference, tmp_path):
    out, log, marker = tmp_path / "d.zarr", tmp_path / "log", tmp_path / "died"
    r = sim_cli("sweep", sweep_file, "--out", out, "--workers", 1,
                env={"SIM_SWEEP_RUN_LOG": str(log), "SIM_SWEEP_TEST_DIE": f"2:{marker}"})
    assert r.returncode == 0, r.stderr
    assert marker.exists() and run_log(log).count(2) == 2  # the run ran, its worker died, it ran again
    assert_same_results(out, reference)


# ---------------------------------------------------------------------------------------------
# a failing run is recorded, the others go on
# ---------------------------------------------------------------------------------------------
def test_failing_run_is_recorded_and_others_continue(shared_cluster, tmp_path):
    cl, _ = shared_cluster
    p = tmp_path / "fail.toml"
    # each value is valid alone; labour 0.3 with energy 0.5 leaves steel a negative materials share
    p.write_text(f"""
base = "{SCENARIOS / 'baseline.toml'}"
seeds = 1
outputs = ["gdp"]
run = {{ firms = 1000, months = 3 }}
[[grid]]
key = "sectors.steel.labour_share"
values = [0.035, 0.3]
[[grid]]
key = "sectors.steel.energy_share"
values = [0.25, 0.5]
""")
    out = tmp_path / "fail.zarr"
    r = sim_cli("sweep", p, "--out", out, "--scheduler", cl.scheduler_address)
    assert r.returncode == 1 and "1 runs failed" in r.stderr and "Traceback" not in r.stderr
    ds = open_store(out)
    bad = ds.sel(labour_share=0.3, energy_share=0.5, seed=0)
    assert str(bad.status.values) == "failed"
    assert "materials share" in str(bad.error.values) and np.isnan(bad.gdp).all()
    assert (ds.status == "done").sum() == 3 and np.isfinite(ds.gdp.where(ds.status == "done")).sum() == 3 * 3


# ---------------------------------------------------------------------------------------------
# sensitivity: a sampled design, end to end and against a known answer
# ---------------------------------------------------------------------------------------------
def test_morris_sweep_end_to_end(shared_cluster, tmp_path):
    from sim.sweep import analyze, run_sweep

    _, client = shared_cluster
    p = tmp_path / "morris.toml"
    p.write_text(f"""
base = "{SCENARIOS / 'baseline.toml'}"
seeds = 1
outputs = ["upgrades", "gdp"]
run = {{ firms = 1000, months = 6 }}
[sample]
method = "morris"
n = 2
params = [
  {{ key = "policy.upgrade_subsidy", bounds = [0.0, 0.6] }},
  {{ key = "behaviour.upgrade_lag", bounds = [2, 12] }},
]
""")
    sw = load_sweep(p)
    assert sw.lead_dims == ("sample", "seed") and sw.n_runs == 2 * 3
    s = run_sweep(sw, tmp_path / "m.zarr", client=client)
    assert s.done == 6 and s.failed == 0
    ds = open_store(tmp_path / "m.zarr")
    assert ds.upgrade_lag.dims == ("sample",) and set(ds.upgrade_lag.values) <= set(range(2, 13))
    res = analyze(tmp_path / "m.zarr")
    assert res.gdp.dims == ("index", "param") and res.upgrades.dims == ("index", "param", "sector")
    assert list(res.param.values) == ["upgrade_subsidy", "upgrade_lag"]
    assert np.isfinite(res.gdp.sel(index="mu_star")).all()


def test_sobol_indices_of_a_known_function(tmp_path):
    """Ishigami through the sweep's own design and store: S1 = (0.314, 0.442, 0), ST3 = 0.244."""
    from sim.sweep import analyze, store

    p = tmp_path / "s.toml"
    p.write_text(f"""
base = "{SCENARIOS / 'baseline.toml'}"
seeds = 1
outputs = ["gdp"]
run = {{ months = 1 }}
[sample]
method = "sobol"
n = 1024
params = [
  {{ key = "behaviour.imitation_prob", bounds = [0, 1], name = "x1" }},
  {{ key = "behaviour.imitation_speed", bounds = [0, 1], name = "x2" }},
  {{ key = "behaviour.dividend_payout", bounds = [0, 1], name = "x3" }},
]
""")
    sw = load_sweep(p)
    out = tmp_path / "s.zarr"
    store.create(sw, out)
    import zarr

    g = zarr.open_group(out, mode="r+", zarr_format=2)
    x = -np.pi + 2 * np.pi * sw.design
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    g["gdp"][:, 0, 0] = y
    g["status"][...] = "done"
    res = analyze(out)
    np.testing.assert_allclose(res.gdp.sel(index="S1").values, [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(res.gdp.sel(index="ST").values, [0.558, 0.442, 0.244], atol=0.05)


# ---------------------------------------------------------------------------------------------
# sweep files: shipped ones validate, bad ones exit 2 with file and key
# ---------------------------------------------------------------------------------------------
def test_shipped_sweeps_validate():
    q = load_sweep(ROOT / "scenarios" / "sweeps" / "quick.toml")
    assert q.lead_dims[-1] == "seed" and len(q.seeds) == 2 and q.n_runs <= 16
    v = load_sweep(ROOT / "scenarios" / "sweeps" / "vat_guarantee.toml")
    assert "vat_rate" in v.lead_dims and v.n_runs >= 100


def test_key_paths():
    assert parse_key('schedule."2019-04".vat_rate') == ("schedule", "2019-04", "vat_rate")
    assert parse_key("sectors.steel.price_elasticity") == ("sectors", "steel", "price_elasticity")
    d = load_sweep(ROOT / "scenarios" / "sweeps" / "quick.toml").base_dumps[0]
    sc = apply_overrides(d, [(parse_key("policy.upgrade_subsidy.steel"), 0.3),
                             (parse_key('schedule."2020-01".cit_rate'), 0.2)])
    assert sc.policy.upgrade_subsidy["steel"] == 0.3 and sc.policy.upgrade_subsidy["cement"] == 0.0
    assert sc.schedule["2020-01"].cit_rate == 0.2
    with pytest.raises(KeyError, match="vat_rat"):
        apply_overrides(d, [(parse_key("policy.vat_rat"), 0.1)])


BASE = f'base = "{SCENARIOS / "baseline.toml"}"\nseeds = 1\n'
BAD = [
    ("not toml [", None, "not valid TOML"),
    (BASE + "colour = 1\n", "colour", "unknown key"),
    (BASE + '[[grid]]\nkey = "policy.vat_rat"\nvalues = [0.1]\n', "grid.0.key", "vat_rat"),
    (BASE + '[[grid]]\nkey = "policy.vat_rate"\nvalues = [0.1, 1.5]\n', "grid.0.values.1",
     "less than or equal"),
    (BASE + '[[grid]]\nkey = "policy.vat_rate"\nvalues = []\n', "grid.0.values", "at least 1"),
    (BASE + '[[grid]]\nkey = "run.months"\nvalues = [3]\n', "grid.0.key", "cannot be swept"),
    (BASE + 'outputs = ["gdp", "happiness"]\n', "outputs.1", "unknown output"),
    ('base = "nowhere.toml"\nseeds = 1\n', "base", "not found"),
    (BASE.replace("seeds = 1", "seeds = 0"), "seeds", "between 1"),
    (BASE + '[sample]\nmethod = "sobol"\nn = 10\nparams = [{key = "policy.cit_rate", bounds = [0.1, 0.3]}]\n',
     "sample", "power of 2"),
    (BASE + '[sample]\nmethod = "latin"\nn = 4\nparams = [{key = "policy.cit_rate", bounds = [0.3, 0.1]}]\n',
     "sample.params.0.bounds", "lower < upper"),
    (BASE + '[[grid]]\nkey = "policy.cit_rate"\nvalues = [0.2]\n[[grid]]\nkey = \'schedule."2020-01".cit_rate\'\n'
     'values = [0.3]\n', "grid.1.name", "taken"),
    (BASE + '[[grid]]\nkey = "policy.cit_rate"\nvalues = [0.2]\n[[grid]]\nkey = "policy.cit_rate"\n'
     'values = [0.3]\n', "grid.1.key", "policy.cit_rate is already swept by grid.0"),
]


@pytest.mark.parametrize("body,key,msg", BAD, ids=[b[2] for b in BAD])
def test_bad_sweep_files_exit_2(tmp_path, body, key, msg):
    p = tmp_path / "bad.toml"
    p.write_text(body)
    out = tmp_path / "o.zarr"
    r = CliRunner().invoke(main, ["sweep", str(p), "--out", str(out)])
    assert r.exit_code == 2, r.output
    line = r.output.strip()
    assert "\n" not in line and line.startswith(f"error: {p}: ") and msg in line, line
    if key:
        assert f": {key}: " in line, line
    assert not out.exists()


def test_bad_arguments_exit_2(tmp_path, sweep_file):
    r = CliRunner().invoke(main, ["sweep", str(sweep_file), "--out", str(tmp_path / "o.nc")])
    assert r.exit_code == 2 and ".zarr" in r.output
    r = CliRunner().invoke(main, ["sweep", str(sweep_file), "--out", str(tmp_path / "o.zarr"),
                                  "--workers", "1", "--scheduler", "tcp://127.0.0.1:1"])
    assert r.exit_code == 2
    # a store from another sweep is not overwritten
    other = tmp_path / "other.toml"
    other.write_text(SMALL_SWEEP.replace("seeds = 2", "seeds = 3"))
    from sim.sweep import store

    store.create(load_sweep(other), tmp_path / "x.zarr")
    r = CliRunner().invoke(main, ["sweep", str(sweep_file), "--out", str(tmp_path / "x.zarr")])
    assert r.exit_code == 2 and "different sweep" in r.output


def test_docs_examples_validate(tmp_path):
    """Every sweep file in docs/sweeps.md is a valid sweep (next to copies of the scenarios)."""
    text = (ROOT / "docs" / "sweeps.md").read_text()
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "base =" in b]
    assert blocks
    (tmp_path / "sweeps").mkdir()
    for f in SCENARIOS.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    for i, b in enumerate(blocks):
        p = tmp_path / "sweeps" / f"doc{i}.toml"
        p.write_text(b)
        load_sweep(p)
