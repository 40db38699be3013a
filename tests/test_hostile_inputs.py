"""Nothing silently wrong, nothing lost: per-sector tables, strict types, output paths, hostile files.

Each case is one a user hit: a table under [policy] that zeroed the sectors it did not name, `true`
read as 1, `inf` accepted, a user's folder deleted by --out, the panel written over the run, a
traceback after the work was done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import sim
from sim.cli import main
from sim.outpaths import clean_stale, temp_path, write_atomic
from sim.scenario import SECTORS
from sim.sweep.spec import apply_overrides

from .conftest import SCENARIOS, write_scenario

TINY = ["--firms", "300", "--months", "2", "-q"]


def cli(*args):
    """`sim ARGS` in this process: (exit code, stderr). A traceback would show as result.exception."""
    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stderr


# --- per-sector tables change only the sectors they name --------------------------------------
def test_policy_table_keeps_unnamed_sectors_at_their_defaults(tmp_path):
    sc = sim.load_scenario(write_scenario(tmp_path, "[policy]\nvat_rate = { steel = 0.13 }\n"
                                                    "capacity_cap = { steel = 1500.0 }\n"))
    assert sc.policy.vat_rate["steel"] == 0.13
    assert all(sc.policy.vat_rate[s] == 0.16 for s in SECTORS if s != "steel")
    assert sc.policy.capacity_cap["nonferrous"] == 45.0  # the aluminium cap stays
    assert sc.policy.capacity_cap["steel"] == 1500.0


def test_policy_table_over_an_inherited_number_keeps_that_number(tmp_path):
    base = (SCENARIOS / "baseline.toml").read_text()
    assert base.count("\n[policy]\n") == 1  # the status-quo capacity rules
    parent = base.replace("\n[policy]\n", "\n[policy]\nvat_rate = 0.15\nentry_barrier = 0.4\n")
    (tmp_path / "parent.toml").write_text(parent)
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\n[policy]\nvat_rate = { steel = 0.13 }\n'
                                         '[schedule."2019-03"]\nentry_barrier = 0.3\n')
    (tmp_path / "grandchild.toml").write_text('extends = "child.toml"\n[schedule."2019-03-01"]\n'
                                              'entry_barrier = { nev = 0.2 }\n')
    sc = sim.load_scenario(tmp_path / "grandchild.toml")
    assert sc.policy.vat_rate == {s: (0.13 if s == "steel" else 0.15) for s in SECTORS}
    assert sc.policy.entry_barrier == 0.4  # a number stays a number
    # the same month written two ways merges, and the table widens the inherited number
    assert list(sc.schedule) == ["2019-03"]
    assert sc.schedule["2019-03"].entry_barrier == {s: (0.2 if s == "nev" else 0.3) for s in SECTORS}


def test_policy_table_runs_unnamed_sectors_at_the_default_rate(tmp_path):
    """The bug: textiles' first-month VAT was -233.7 bn against +82.8 bn, at 0% when only steel was named."""
    base = sim.run(sim.load_scenario(SCENARIOS / "baseline.toml", firms=400, months=2), seed=3)
    cut = sim.run(sim.load_scenario(write_scenario(tmp_path, "[policy]\nvat_rate = { steel = 0.13 }\n"),
                                    firms=400, months=2), seed=3)
    ratio = (cut.vat_revenue / base.vat_revenue).isel(time=0)
    assert float(ratio.sel(sector="steel")) < 0.5  # 13% on sales, 16% credited on inputs
    others = ratio.sel(sector=[s for s in SECTORS if s != "steel"])
    # still 16% on sales; only the credit for VAT paid on steel inputs falls (machinery +12%)
    assert float(others.min()) > 0.95 and float(others.max()) < 1.2


def test_sweep_point_and_run_of_one_scenario_agree(tmp_path):
    """A sweep key on one sector and a [policy] table naming that sector are one scenario."""
    kw = dict(firms=300, months=3)
    by_file = sim.load_scenario(write_scenario(tmp_path, "[policy]\nvat_rate = { steel = 0.13 }\n"
                                                         "capacity_cap = { steel = 1500.0 }\n"), **kw)
    dump = sim.load_scenario(SCENARIOS / "baseline.toml", **kw).model_dump()
    by_sweep = apply_overrides(dump, [(("policy", "vat_rate", "steel"), 0.13),
                                      (("policy", "capacity_cap", "steel"), 1500.0)])
    assert by_sweep.policy == by_file.policy
    a, b = sim.run(by_file, seed=2), sim.run(by_sweep, seed=2)
    for v in ("output", "price_index_tax_inclusive", "tax_revenue", "capacity"):
        np.testing.assert_array_equal(a[v].values, b[v].values)


def test_sweep_point_and_run_agree_on_a_dated_sector_change(tmp_path):
    """In a schedule month a sector key changes that sector only; the others keep the value in force
    that month (0.14 from 2019-02 here), not the value at the start."""
    kw = dict(firms=300, months=4)
    earlier = '[schedule."2019-02"]\nvat_rate = 0.14\n'
    by_file = sim.load_scenario(write_scenario(tmp_path, earlier + '[schedule."2019-03"]\n'
                                               'vat_rate = { steel = 0.13 }\n'), **kw)
    dump = sim.load_scenario(write_scenario(tmp_path, earlier, name="b.toml"), **kw).model_dump()
    by_sweep = apply_overrides(dump, [(("schedule", "2019-03", "vat_rate", "steel"), 0.13)])
    assert by_sweep.schedule == by_file.schedule
    a, b = sim.run(by_file, seed=2), sim.run(by_sweep, seed=2)
    np.testing.assert_array_equal(a.vat_revenue.values, b.vat_revenue.values)
    march = a.vat_revenue.isel(time=2) / a.vat_revenue.isel(time=1)
    assert 0.95 < float(march.sel(sector="textiles")) < 1.05  # still 14%: back at 16% it was 1.76


# --- strict types, finite numbers --------------------------------------------------------------
STRICT = {
    "months = true": ("[run]\nmonths = true\n", "run.months"),
    "months = 12.0": ("[run]\nmonths = 12.0\n", "run.months"),
    "cit_rate = true": ("[policy]\ncit_rate = true\n", "policy.cit_rate"),
    "vat as text": ('[policy]\nvat_rate = "0.13"\n', "policy.vat_rate"),
    "vat table as text": ('[policy]\nvat_rate = { steel = "0.13" }\n', "policy.vat_rate.steel"),
    "ban as 1": ("[policy]\nban_new_capacity = 1\n", "policy.ban_new_capacity"),
    "inf labour cost": ("[behaviour]\nlabour_cost_per_worker = inf\n", "behaviour.labour_cost_per_worker"),
    "inf capacity": ("[sectors.steel]\ncapacity_2019 = inf\n", "sectors.steel.capacity_2019"),
    "inf sme threshold": ("[behaviour]\nsme_revenue_threshold = inf\n", "behaviour.sme_revenue_threshold"),
    "nan rate": ("[policy]\npolicy_rate = nan\n", "policy.policy_rate"),
    "inf cap": ("[policy]\ncapacity_cap = { steel = inf }\n", "policy.capacity_cap.steel"),
    "name as number": ("name = 3\n", "name"),
}


@pytest.mark.parametrize("case", list(STRICT))
def test_no_coercion_and_finite_numbers(tmp_path, case):
    body, key = STRICT[case]
    path = write_scenario(tmp_path, body)
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(path)
    assert f"{path}: {key}:" in str(e.value)


def test_python_api_follows_the_same_rules(baseline):
    with pytest.raises(sim.ScenarioError, match="run.months"):
        sim.load_scenario(SCENARIOS / "baseline.toml", months=True)
    with pytest.raises(sim.ScenarioError, match="months"):
        sim.run(baseline, months=True)
    sc = baseline.model_copy(deep=True)
    with pytest.raises(sim.ScenarioError, match=r"^<python>: policy\.vat_rate: .*less than or equal to 1"):
        sc.policy.vat_rate = 1.5
    with pytest.raises(sim.ScenarioError, match=r"policy\.cit_rate: .*valid number \(got True\)"):
        sc.policy.cit_rate = True
    with pytest.raises(sim.ScenarioError, match=r"run\.months"):
        sc.run.months = 0
    sc.policy.vat_rate = {"steel": 0.13}  # a table assigned in Python is completed like one in a file
    assert sc.policy.vat_rate["cement"] == 0.16


# --- hostile files -----------------------------------------------------------------------------
def _hostile_files(tmp_path):
    (tmp_path / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    for i in range(100):
        (tmp_path / f"chain{i}.toml").write_text(f'extends = "chain{i + 1}.toml"\n' if i < 99
                                                 else 'extends = "baseline.toml"\n')
    (tmp_path / "nested.toml").write_text("x = " + "{ a = " * 2000 + "1" + " }" * 2000 + "\n")
    (tmp_path / "huge.toml").write_text('name = "' + "a" * (3 << 20) + '"\n')
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00\x81 not text")
    os.symlink("loop_b.toml", tmp_path / "loop_a.toml")
    os.symlink("loop_a.toml", tmp_path / "loop_b.toml")
    (tmp_path / "folder.toml").mkdir()
    return {"chain0.toml": "deeper than", "nested.toml": "nested deeper", "huge.toml": "at most 1 MiB",
            "binary.toml": "cannot read", "loop_a.toml": "symlink", "folder.toml": "cannot read"}


def test_hostile_files_give_one_line_exit_2_and_write_nothing(tmp_path):
    cases = _hostile_files(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    for name, words in cases.items():
        code, err = cli("run", tmp_path / name, "--out", tmp_path / "out.nc", *TINY)
        assert code == 2, (name, err)
        assert len(err.strip().splitlines()) == 1 and name in err and words in err, (name, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_status_quo_the_2019_accounts_cannot_carry_exits_2_naming_the_key(tmp_path):
    """A [policy] VAT of 100% is within the schema's range, but as the rule in force at the start it makes
    households' 2019 purchases exceed their budget in the (default) closed economy: one line naming the
    file and the key, exit 2, nothing written; from Python the same ScenarioError. Dated in [schedule]
    the same rate runs (buyers spend their budgets at the new prices)."""
    path = write_scenario(tmp_path, 'name = "hivat"\n[policy]\nvat_rate = 1.0\n')
    code, err = cli("run", path, "--out", tmp_path / "out.nc", *TINY)
    lines = [x for x in err.strip().splitlines() if not x.startswith("warning:")]
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"error: {path}: policy.vat_rate: "), err
    assert not (tmp_path / "out.nc").exists()
    with pytest.raises(sim.ScenarioError) as e:
        sim.run(sim.load_scenario(path, firms=300, months=2), quiet=True)
    assert e.value.key == "policy.vat_rate" and e.value.file == "the scenario 'hivat'"  # by its name
    code, err = cli("compare", tmp_path / "baseline.toml", path, "--seeds", "1", *TINY)
    assert code == 2 and "error: the scenario 'hivat': policy.vat_rate: " in err, err
    dated = write_scenario(tmp_path, '[schedule."2019-02"]\nvat_rate = 1.0\n', name="dated.toml")
    ds = sim.run(sim.load_scenario(dated, firms=300, months=3), quiet=True)
    assert float(ds.price_index_tax_inclusive.isel(time=2).mean()) > 1.1 * float(  # part passed on at once
        ds.price_index_tax_inclusive.isel(time=0).mean())


def test_a_huge_value_gives_a_short_error(tmp_path):
    path = write_scenario(tmp_path, '[policy]\nbank_resolution = "' + "x" * 500_000 + '"\n')
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(path)
    assert len(str(e.value)) < 400 and "policy.bank_resolution" in str(e.value)


# --- output paths ------------------------------------------------------------------------------
def test_an_existing_folder_or_store_is_never_deleted(tmp_path):
    user = tmp_path / "results.zarr"
    user.mkdir()
    (user / "thesis.tex").write_text("years of work")
    code, err = cli("run", SCENARIOS / "baseline.toml", "--out", user, *TINY)
    assert code == 2 and "--overwrite" in err and "results.zarr" in err
    assert (user / "thesis.tex").read_text() == "years of work"
    other = tmp_path / "notes.nc"
    other.write_text("not netcdf")
    code, err = cli("run", SCENARIOS / "baseline.toml", "--out", other, *TINY)
    assert code == 2 and other.read_text() == "not netcdf"
    # a panel is not a run: neither replaces the other without --overwrite
    run, panel = tmp_path / "run.nc", tmp_path / "panel.nc"
    assert cli("run", SCENARIOS / "baseline.toml", "--out", run, "--panel", panel, *TINY)[0] == 0
    assert cli("run", SCENARIOS / "baseline.toml", "--out", panel, *TINY)[0] == 2
    # the same command writes over its own output, and --overwrite over anything
    assert cli("run", SCENARIOS / "baseline.toml", "--out", run, "--seed", "5", *TINY)[0] == 0
    assert xr.open_dataset(run).attrs["seed"] == 5
    assert cli("run", SCENARIOS / "baseline.toml", "--out", user, "--overwrite", *TINY)[0] == 0
    assert not (user / "thesis.tex").exists() and xr.open_zarr(user).sizes["time"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.nc", "panel.nc", "results.zarr", "run.nc"]


def test_out_and_panel_must_differ_and_folders_must_exist(tmp_path):
    x = tmp_path / "x.nc"
    code, err = cli("run", SCENARIOS / "baseline.toml", "--out", x, "--panel", x, *TINY)
    assert code == 2 and "two outputs" in err
    code, err = cli("run", SCENARIOS / "baseline.toml", "--out", tmp_path / "nowhere" / "x.nc", *TINY)
    assert code == 2 and "does not exist" in err
    code, err = cli("run", SCENARIOS / "baseline.toml", "--out", tmp_path / ("n" * 256 + ".nc"), *TINY)
    assert code == 2 and "longer than" in err
    code, err = cli("compare", SCENARIOS / "vat_cut.toml", "--seeds", "1", "--firms", "300", "--months", "2",
                    "--plot", tmp_path / "nowhere" / "fig.png", "--out", tmp_path / "cmp.nc", "-q")
    assert code == 2 and "does not exist" in err
    code, err = cli("check-facts", SCENARIOS / "baseline.toml", "--out", tmp_path / "nowhere" / "f.nc", "-q")
    assert code == 2 and "does not exist" in err
    assert list(tmp_path.iterdir()) == []


def test_a_name_near_the_limit_is_written(tmp_path):
    out = tmp_path / ("r" * 250 + ".nc")  # 253 bytes: the usual temporary name would not fit
    assert cli("run", SCENARIOS / "baseline.toml", "--out", out, *TINY)[0] == 0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_read_only_folder_fails_before_the_run(tmp_path, monkeypatch):
    """A folder the process cannot write in (faked for root, who may write anywhere): exit 1, one line,
    before the simulation starts."""
    ro = tmp_path / "ro"
    ro.mkdir()
    real_mkdir = os.mkdir

    def read_only(path, *args, **kw):
        if os.path.dirname(os.path.abspath(path)) == str(ro):
            raise OSError(30, "Read-only file system", str(path))
        return real_mkdir(path, *args, **kw)

    monkeypatch.setattr(os, "mkdir", read_only)
    monkeypatch.setattr(sim.api, "run", lambda *a, **k: pytest.fail("the run started"))
    code, err = cli("run", SCENARIOS / "baseline.toml", "--out", ro / "x.nc", *TINY)
    assert code == 1 and "cannot write in folder" in err and "Read-only file system" in err
    assert list(ro.iterdir()) == []


def test_compare_refuses_scenarios_on_different_time_axes(tmp_path):
    short = write_scenario(tmp_path, 'name = "short"\n[run]\nmonths = 3\n', name="short.toml")
    code, err = cli("compare", SCENARIOS / "baseline.toml", short, "--seeds", "1", "--firms", "300",
                    "--out", tmp_path / "cmp.nc", "-q")
    assert code == 2 and "short" in err and "one time axis" in err
    assert not (tmp_path / "cmp.nc").exists()
    with pytest.raises(sim.ScenarioError, match="one time axis"):
        sim.compare.compare([SCENARIOS / "baseline.toml", short], seeds=1, firms=300)


# --- temporaries -------------------------------------------------------------------------------
def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    out = tmp_path / "run.nc"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = temp_path(out).with_name(temp_path(out).name.rsplit("-", 1)[0] + f"-{dead.pid}")
    stale.mkdir()
    (stale / "half").write_text("x")
    live = temp_path(out)  # this process's own
    live.write_text("in progress")
    assert clean_stale(out) == [stale]
    assert not stale.exists() and live.exists()
    live.unlink()


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    out = tmp_path / "x.nc"
    out.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(sim.ScenarioError, match="No space left"):
        write_atomic(out, broken)
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.nc"]


def test_sigterm_leaves_no_output_and_no_temporary(tmp_path):
    out = tmp_path / "x.nc"
    # a run that is still in its first years when the signal comes (3,000 firms for 1,200 months ran
    # through decades within the second and could reach the degenerate long run, docs/model.md)
    p = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(SCENARIOS / "baseline.toml"), "--firms",
                          "100000", "--months", "240", "--out", str(out)], stderr=subprocess.PIPE, text=True)
    p.stderr.readline()  # "scenario baseline: ..." once loaded and checked: the run has started
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_sigterm_inside_a_month_ends_the_process_when_the_month_is_done():
    """A SIGTERM during a model's step only records itself; SystemExit(143) comes when the step
    returns, so no kernel is interrupted mid-month (outpaths.between_months)."""
    from sim.outpaths import between_months, terminate_on_sigterm

    done = []

    @between_months
    def step(model):
        if not done:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run by now (it only records the signal)
        done.append(model)

    old = signal.getsignal(signal.SIGTERM)
    try:
        terminate_on_sigterm()
        with pytest.raises(SystemExit) as e:
            step("month")
        assert e.value.code == 128 + signal.SIGTERM and done == ["month"]
        step("next")  # nothing pending any more
        assert done == ["month", "next"]
    finally:
        signal.signal(signal.SIGTERM, old)
