"""Sweeps: nothing silently wrong, nothing lost (issue 24).

A store with a missing or damaged chunk is checked on resume and the runs it covered are run again;
one driver at a time works on a store (a second waits, also for a driver that was SIGKILLed while
holding the lock); temporaries of dead processes are removed; bad sweep files, scheduler addresses
and --out paths stop with one line and nothing written. Tiny economies (200 firms, 3 months) on one
local worker process shared by the module.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.outpaths import temp_path
from sim.scenario import ScenarioError
from sim.sweep import load_sweep, run_sweep, store

from .conftest import SCENARIOS
from .test_sweep import assert_same_results, sim_cli

TINY = f"""
base = "{SCENARIOS / 'baseline.toml'}"
seeds = 2
outputs = ["gdp", "output"]
run = {{ firms = 200, months = 3 }}
[[grid]]
key = "policy.cit_rate"
values = [0.2, 0.25]
"""


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cl = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                      env={"NUMBA_NUM_THREADS": "1"})
    c = Client(cl)
    yield c
    c.close()
    cl.close()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    (p := tmp_path_factory.mktemp("tiny") / "tiny.toml").write_text(TINY)
    return p


@pytest.fixture(scope="module")
def reference(tiny, client, tmp_path_factory):
    """The uninterrupted sweep, in chunks of two runs (one per cit_rate), so damage hits half of it."""
    out = tmp_path_factory.mktemp("ref") / "ref.zarr"
    mp = pytest.MonkeyPatch()
    lead_chunks = store.lead_chunks
    mp.setattr(store, "lead_chunks", lambda shape: lead_chunks(shape, 2))
    try:
        s = run_sweep(load_sweep(tiny), out, client=client)
    finally:
        mp.undo()
    assert s.done == 4 and s.failed == 0
    assert sorted(os.listdir(out / "gdp")) == [".zarray", ".zattrs", "0.0.0", "1.0.0"]
    return out


def resumed(tiny, reference, client, tmp_path, damage) -> tuple[Any, list[str], Path]:
    out = tmp_path / "r.zarr"
    shutil.copytree(reference, out)
    damage(out)
    said: list[str] = []
    s = run_sweep(load_sweep(tiny), out, client=client, notify=said.append)
    return s, said, out


# ---------------------------------------------------------------------------------------------
# resume checks the data, not only the status
# ---------------------------------------------------------------------------------------------
def test_missing_chunk_is_run_again(tiny, reference, client, tmp_path):
    s, said, out = resumed(tiny, reference, client, tmp_path, lambda o: (o / "output" / "1.0.0.0").unlink())
    assert (s.skipped, s.done, s.failed) == (2, 2, 0)  # the two runs of the lost chunk, only them
    assert said == [f"warning: {out}: 2 runs marked done have missing or unreadable data (chunk "
                    "output/1.0.0.0 missing); running them again"]
    assert_same_results(out, reference)
    assert np.isfinite(xr.open_zarr(out).output.values).all()


def test_garbage_chunk_is_reported_removed_and_run_again(tiny, reference, client, tmp_path):
    s, said, out = resumed(tiny, reference, client, tmp_path,
                           lambda o: (o / "gdp" / "0.0.0").write_bytes(b"not a blosc frame"))
    assert (s.skipped, s.done) == (2, 2) and len(said) == 1
    assert "2 runs marked done" in said[0] and "chunk gdp/0.0.0 unreadable (RuntimeError), removed" in said[0]
    assert_same_results(out, reference)
    # and the next resume has nothing to say or do
    said.clear()
    s = run_sweep(load_sweep(tiny), out, client=client, notify=said.append)
    assert (s.skipped, s.done, said) == (4, 0, [])


def test_damaged_status_chunk_and_lost_run_time(tiny, reference, client, tmp_path):
    def damage(o):
        (o / "status" / "1.0").write_bytes(b"\x00" * 7)
        g = store.zarr.open_group(o, mode="r+", zarr_format=2)
        g["run_seconds"][0, 1] = np.nan  # a chunk from an older state: run 1 recorded done, no data
    s, said, out = resumed(tiny, reference, client, tmp_path, damage)
    assert (s.skipped, s.done) == (1, 3) and len(said) == 1 and "status/1.0 unreadable" in said[0]
    assert_same_results(out, reference)


def test_missing_status_chunk_is_reported(tiny, reference, client, tmp_path):
    s, said, out = resumed(tiny, reference, client, tmp_path, lambda o: (o / "status" / "0.0").unlink())
    assert (s.skipped, s.done) == (2, 2)
    assert said == [f"warning: {out}: 2 runs marked done have missing or unreadable data (chunk status/0.0 "
                    "missing); running them again"]
    assert_same_results(out, reference)


def test_garbage_chunk_through_the_command_line(tiny, tmp_path):
    out = tmp_path / "c.zarr"
    r = sim_cli("sweep", tiny, "--out", out, "--workers", 1, "--quiet")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    (out / "output" / "0.0.0.0").write_bytes(b"garbage")
    r = sim_cli("sweep", tiny, "--out", out, "--workers", 1)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert (f"warning: {out}: 4 runs marked done have missing or unreadable data (chunk output/0.0.0.0 "
            "unreadable (RuntimeError), removed); running them again") in r.stderr
    assert "4 of 4 runs done, 0 failed; this invocation: 4 done" in r.stderr


# ---------------------------------------------------------------------------------------------
# one driver per store
# ---------------------------------------------------------------------------------------------
HOLD = """
import sys, time
from pathlib import Path
from sim.sweep import store
with store.locked(Path(sys.argv[1]), print):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(out: Path, seconds: float) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(out), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_second_driver_waits_for_the_first(tiny, reference, client, tmp_path):
    out = tmp_path / "w.zarr"
    shutil.copytree(reference, out)
    holder = hold_lock(out, 2.0)
    said: list[str] = []
    t0 = time.perf_counter()
    s = run_sweep(load_sweep(tiny), out, client=client, notify=said.append)
    assert time.perf_counter() - t0 > 1.0 and holder.wait(5) == 0
    assert said == [f"{out}: waiting for the sweep running on this store (pid {holder.pid} on host "
                    f"{os.uname().nodename})"]
    assert s.skipped == 4 and not (tmp_path / ".w.zarr.lock").exists()


def test_lock_of_a_killed_driver_is_free_and_a_new_store_is_created_once(tiny, client, tmp_path):
    out = tmp_path / "n.zarr"  # a new store: the waiting driver creates it once the holder is gone
    holder = hold_lock(out, 600)
    said: list[str] = []
    timer = subprocess.Popen(["sh", "-c", f"sleep 1; kill -9 {holder.pid}"])
    s = run_sweep(load_sweep(tiny), out, client=client, notify=said.append)
    timer.wait(5)
    assert holder.wait(5) == -signal.SIGKILL and len(said) == 1 and "waiting" in said[0]
    assert s.done == 4 and list(tmp_path.iterdir()) == [out]


def test_create_loses_to_an_existing_store_and_leaves_no_temporary(tiny, tmp_path):
    sw, out = load_sweep(tiny), tmp_path / "x.zarr"
    store.create(sw, out)
    before = sorted(p.name for p in out.rglob("*"))
    with pytest.raises(FileExistsError):
        store.create(sw, out)  # as the second of two drivers that started at once would
    assert sorted(p.name for p in out.rglob("*")) == before and list(tmp_path.iterdir()) == [out]


# ---------------------------------------------------------------------------------------------
# temporaries
# ---------------------------------------------------------------------------------------------
def test_stale_temporaries_are_removed_live_ones_kept(tiny, reference, client, tmp_path):
    out = tmp_path / "x.zarr"
    shutil.copytree(reference, out)
    gone = subprocess.Popen(["true"])
    gone.wait()
    live = subprocess.Popen(["sleep", "60"])
    try:
        names = {pid: temp_path(out).name.rsplit("-", 1)[0] + f"-{pid}" for pid in (gone.pid, live.pid)}
        for name in names.values():
            (tmp_path / name).mkdir()
            (tmp_path / name / ".zgroup").write_text("{}")
        s = run_sweep(load_sweep(tiny), out, client=client)
        assert s.skipped == 4
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names[live.pid], "x.zarr"])
    finally:
        live.kill()
        live.wait()


CREATE_SLOWLY = """
import sys, time
from pathlib import Path
from sim.sweep import load_sweep, store
build = store._build
def slow(sw, tmp):
    build(sw, tmp)
    print("built", flush=True)
    time.sleep(60)
store._build = slow
store.create(load_sweep(sys.argv[1]), Path(sys.argv[2]))
"""


def test_sigterm_while_creating_removes_the_temporary(tiny, tmp_path):
    out = tmp_path / "t.zarr"
    p = subprocess.Popen([sys.executable, "-c", CREATE_SLOWLY, str(tiny), str(out)], stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "built"
    assert [q.name for q in tmp_path.iterdir()] == [temp_path(out).name.rsplit("-", 1)[0] + f"-{p.pid}"]
    p.send_signal(signal.SIGTERM)
    assert p.wait(10) == -signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# the command line: one line, exit 2 (bad input) or 1 (a fault), nothing written
# ---------------------------------------------------------------------------------------------
def cli(*args):
    return CliRunner().invoke(main, ["sweep", *map(str, args)])


def test_two_axes_on_one_key_and_bool_seeds_exit_2(tmp_path):
    p, out = tmp_path / "s.toml", tmp_path / "o.zarr"
    p.write_text(TINY + '[[grid]]\nkey = "policy.cit_rate"\nvalues = [0.3]\nname = "again"\n')
    r = cli(p, "--out", out)
    assert r.exit_code == 2 and r.output == (f"error: {p}: grid.1.key: policy.cit_rate is already swept by "
                                             "grid.0\n")
    p.write_text(TINY.replace("seeds = 2", "seeds = true"))
    r = cli(p, "--out", out)
    assert r.exit_code == 2 and r.output.startswith(f"error: {p}: seeds: ") and "(got True)" in r.output
    assert list(tmp_path.iterdir()) == [p]


def test_bad_scheduler_address_is_one_line_and_writes_nothing(tiny, tmp_path):
    out = tmp_path / "o.zarr"
    r = sim_cli("sweep", tiny, "--out", out, "--scheduler", "notanaddress")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip() == "error: --scheduler notanaddress: missing port number in address 'notanaddress'"
    assert list(tmp_path.iterdir()) == []


def test_out_in_a_missing_folder_or_over_another_thing(tiny, reference, client, tmp_path):
    r = cli(tiny, "--out", tmp_path / "nowhere" / "o.zarr")
    assert r.exit_code == 2 and r.output == f"error: {tmp_path / 'nowhere' / 'o.zarr'}: folder " \
                                            f"{tmp_path / 'nowhere'} does not exist\n"
    assert list(tmp_path.iterdir()) == []
    junk = tmp_path / "junk.zarr"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    r = cli(tiny, "--out", junk)
    assert r.exit_code == 2 and r.output.startswith(f"error: {junk}: exists and is not a sweep store")
    assert "--overwrite" in r.output and (junk / "notes.txt").read_text() == "mine"
    # --overwrite (here through the Python API, as the command passes it): replaced by the sweep
    s = run_sweep(load_sweep(tiny), junk, client=client, overwrite=True)
    assert s.done == 4 and not (junk / "notes.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.zarr"]
    assert_same_results(junk, reference)


def test_read_only_folder_exits_1(tiny, tmp_path, monkeypatch):
    access = os.access  # (root may write anywhere: pretend the folder is read-only)
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path and access(path, mode))
    r = cli(tiny, "--out", tmp_path / "o.zarr")
    assert r.exit_code == 1 and r.output == f"error: {tmp_path / 'o.zarr'}: folder {tmp_path} is not writable\n"
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# property: generated sweep files, valid and invalid
# ---------------------------------------------------------------------------------------------
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(map(toml_value, v)) + "]"
    return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"


def toml_text(doc: dict) -> str:
    lines = [f"{k} = {toml_value(v)}" for k, v in doc.items() if k != "grid"]
    for axis in doc.get("grid", []):
        lines += ["[[grid]]"] + [f"{k} = {toml_value(v)}" for k, v in axis.items()]
    return "\n".join(lines) + "\n"


# (key, strategy of one valid value): numbers in range, integers, booleans
AXES = {
    "policy.cit_rate": st.floats(0.0, 1.0),
    "behaviour.imitation_prob": st.floats(0.0, 0.5),
    "behaviour.upgrade_lag": st.integers(0, 60),
    "policy.deficit_financed": st.booleans(),
}
NUMERIC = ["policy.cit_rate", "behaviour.imitation_prob", "behaviour.upgrade_lag"]


@st.composite
def valid_docs(draw, max_values: int = 3, max_seeds: int = 3) -> dict:
    keys = [draw(st.sampled_from(NUMERIC))]
    keys += draw(st.lists(st.sampled_from([k for k in AXES if k != keys[0]]), max_size=1))
    grid = [{"key": k, "values": draw(st.lists(AXES[k], min_size=1, max_size=min(max_values, 2 if k.endswith(
        "financed") else max_values), unique=True))} for k in keys]
    seeds = draw(st.one_of(st.integers(1, max_seeds), st.lists(st.integers(0, 99), min_size=1,
                                                                max_size=max_seeds, unique=True)))
    return {"base": str(SCENARIOS / "baseline.toml"), "seeds": seeds, "outputs": ["gdp"],
            "run": {"firms": draw(st.integers(200, 400)), "months": draw(st.integers(1, 3))}, "grid": grid}


BAD_VALUES = [(True, "boolean"), ("0.2", "string"), (math.inf, "finite"), (-math.inf, "finite"),
              (math.nan, "finite")]


@st.composite
def invalid_docs(draw) -> tuple[dict, str]:
    """A valid file with one fault, and the key the error must name."""
    doc = draw(valid_docs())
    grid = doc["grid"]
    fault = draw(st.sampled_from(["unknown", "unknown_in_axis", "unknown_in_run", "bad_value", "empty",
                                  "duplicate", "duplicate_in_axis", "bool_seeds", "bool_firms", "float_seeds"]))
    if fault == "unknown":
        doc["colour"] = draw(st.integers())
        return doc, "colour"
    if fault == "unknown_in_axis":
        grid[-1]["colour"] = 1
        return doc, f"grid.{len(grid) - 1}.colour"
    if fault == "unknown_in_run":
        doc["run"]["colour"] = "red"
        return doc, "run.colour"
    if fault == "bad_value":  # on the first axis, a numeric one
        value, _ = draw(st.sampled_from(BAD_VALUES))
        if isinstance(value, float):  # a number of the same kind: named by its index
            j = draw(st.integers(0, len(grid[0]["values"])))
            grid[0]["values"].insert(j, value)
            return doc, f"grid.0.values.{j}"
        grid[0]["values"] = [value]  # (a mixed list is refused as a whole, at grid.0.values)
        return doc, "grid.0.values.0"
    if fault == "empty":
        grid[-1]["values"] = []
        return doc, f"grid.{len(grid) - 1}.values"
    if fault == "duplicate":
        grid.append({"key": grid[0]["key"], "values": list(grid[0]["values"]), "name": "again"})
        return doc, f"grid.{len(grid) - 1}.key"
    if fault == "duplicate_in_axis":
        grid[0]["key"] = [grid[0]["key"], grid[0]["key"]]
        return doc, "grid.0.key.1"
    if fault == "bool_seeds":
        doc["seeds"] = True
        return doc, "seeds"
    if fault == "float_seeds":
        doc["seeds"] = 2.0
        return doc, "seeds"
    doc["run"]["firms"] = True
    return doc, "run.firms"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=invalid_docs())
def test_invalid_sweep_files_name_file_and_key_and_write_nothing(bad, tmp_path):
    doc, key = bad
    folder = tmp_path / f"case{time.monotonic_ns()}"
    folder.mkdir()
    p = folder / "bad.toml"
    p.write_text(toml_text(doc))
    with pytest.raises(ScenarioError) as e:
        load_sweep(p)
    assert e.value.key == key and str(e.value).startswith(f"{p}: {key}: "), (str(e.value), toml_text(doc))
    r = cli(p, "--out", folder / "o.zarr")
    assert r.exit_code == 2 and r.output.startswith(f"error: {p}: {key}: ") and r.output.count("\n") == 1
    assert list(folder.iterdir()) == [p]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=valid_docs())
def test_valid_sweep_files_load(doc, tmp_path):
    p = tmp_path / "ok.toml"
    p.write_text(toml_text(doc))
    sw = load_sweep(p)
    n_seeds = doc["seeds"] if isinstance(doc["seeds"], int) else len(doc["seeds"])
    assert sw.lead_shape == (*[len(a["values"]) for a in doc["grid"]], n_seeds)


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=valid_docs(max_values=2, max_seeds=1))
def test_valid_sweep_files_run(doc, client, tmp_path):
    folder = tmp_path / f"case{time.monotonic_ns()}"
    folder.mkdir()
    p = folder / "ok.toml"
    p.write_text(toml_text(doc))
    sw = load_sweep(p)
    s = run_sweep(sw, folder / "o.zarr", client=client)
    assert s.done + s.failed == sw.n_runs
    ds = xr.open_zarr(folder / "o.zarr").load()
    done = ds.status == "done"
    assert np.isfinite(ds.gdp.where(done)).sum() == int(done.sum()) * doc["run"]["months"]
