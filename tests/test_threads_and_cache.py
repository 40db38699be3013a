"""The thread policy (sim.threads) and the compile-cache notice and warm-up (sim.compilecache)."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from click.testing import CliRunner

import sim
from sim import compilecache, threads
from sim.cli import main

from .conftest import SCENARIOS


def test_threads_never_exceed_the_cores_given():
    code = "import os, sim, numba; print(os.environ['NUMBA_NUM_THREADS'], numba.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_NUM_THREADS", threads.ENV)}
    one_core = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True,
                              env={**env, "NUMBA_NUM_THREADS": "8"})
    assert one_core.returncode == 0, one_core.stderr
    assert one_core.stdout.split() == ["1", "1"]  # an affinity of one core: one thread, whatever was asked
    asked = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**env, threads.ENV: "1"})
    assert asked.stdout.split()[:2] == ["1", "1"]


def test_requested_is_within_the_available_cores(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.delenv(threads.ENV, raising=False)
    assert threads.requested() == 2 and threads.requested(1) == 1 and threads.requested(64) == 2
    monkeypatch.setenv(threads.ENV, "1")
    assert threads.requested() == 1
    env = threads.worker_env(1)
    assert env["NUMBA_NUM_THREADS"] == "1" and env[threads.ENV] == "1"


def test_a_busy_machine_gets_fewer_threads(monkeypatch):
    """Other processes keep the cores busy: a run takes the idle ones (at least one), so its threads
    do not spin waiting for each other; a number asked for is kept."""
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.delenv(threads.ENV, raising=False)
    for idle, want in ((0.0, 1), (0.3, 1), (1.2, 1), (1.6, 2), (2.0, 2), (None, 2)):
        monkeypatch.setattr(threads, "_CHOICE", [])
        monkeypatch.setattr(threads, "idle_cores", lambda idle=idle: idle)
        assert threads.choose() == want, idle
    monkeypatch.setattr(threads, "_CHOICE", [])
    monkeypatch.setattr(threads, "idle_cores", lambda: 0.0)
    assert threads.choose(2) == 2
    monkeypatch.setenv(threads.ENV, "2")
    assert threads.choose() == 2
    assert 0.0 <= threads.idle_cores() <= (os.cpu_count() or 1) + 0.01


def test_run_with_threads_gives_the_same_results_and_restores_the_count(baseline):
    before = numba.get_num_threads()
    one = sim.run(baseline, seed=4, months=6, threads=1)
    assert numba.get_num_threads() == before
    every = sim.run(baseline, seed=4, months=6)
    for v in ("output", "credit_total", "profit"):
        np.testing.assert_array_equal(one[v].values, every[v].values)


def test_cold_cache_is_announced_and_a_warm_one_is_not(monkeypatch, capsys, baseline):
    monkeypatch.setattr(compilecache, "_WARM", [])  # as in a fresh process
    monkeypatch.setattr(compilecache, "uncached", lambda: [compilecache.SENTINEL, "x:y"])
    monkeypatch.setenv("SIM_COMPILE_JOBS", "1")
    msg = compilecache.notice()
    assert msg.startswith("compiling 2 kernels") and "first run only" in msg and "sim warmup" in msg
    assert "in this process" in msg
    sim.run(baseline, seed=0, months=1)
    assert "compiling 2 kernels" in capsys.readouterr().err
    sim.run(baseline, seed=0, months=1, quiet=True)
    assert capsys.readouterr().err == ""


def test_a_cold_run_compiles_in_processes_one_cold_start_at_a_time(monkeypatch, capsys, baseline):
    """A run that finds the cache cold compiles the kernels in one process per core first
    (compile_in_processes; with SIM_COMPILE_JOBS=1 in the run itself), holding the lock file while it
    does; the compile is asked for again only while the cache is still cold once the lock is held."""
    import fcntl

    cold = [compilecache.SENTINEL, "x:y"]
    calls = []

    def compile_in_processes(jobs, keys=None):
        lock = os.path.join(compilecache.dispatchers()[compilecache.SENTINEL]._cache._cache_path,
                            "sim-compile.lock")
        fd = os.open(lock, os.O_RDWR)
        try:  # held by the run: a second process could not take it now
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        calls.append(jobs)
        assert keys == compilecache.preload_keys()  # what the baseline's run calls
        cold.clear()  # the workers' code moved into the cache
        return ["sim.kernels.accounting:income"]

    monkeypatch.setattr(compilecache, "_WARM", [])
    monkeypatch.setattr(compilecache, "uncached", lambda: list(cold))
    monkeypatch.setattr(compilecache, "compile_in_processes", compile_in_processes)
    monkeypatch.setenv("SIM_COMPILE_JOBS", "3")
    assert "in 3 processes" in compilecache.notice()
    sim.run(baseline, seed=0, months=1)
    assert calls == [3] and "compiling 2 kernels" in capsys.readouterr().err
    sim.run(baseline, seed=0, months=1)
    assert calls == [3]  # warm now: no second compile
    monkeypatch.setattr(compilecache, "_WARM", [])
    cold[:] = [compilecache.SENTINEL]
    monkeypatch.setenv("SIM_COMPILE_JOBS", "1")
    sim.run(baseline, seed=0, months=1, quiet=True)
    assert calls == [3]  # one job: the run compiles as it goes
    monkeypatch.setattr(compilecache, "uncached", lambda: ["sim.kernels.credit:order_by_score"])
    assert compilecache.notice() is None  # a rarely used kernel compiles in a moment: no notice
    monkeypatch.setattr(compilecache, "uncached", lambda: [compilecache.SENTINEL])
    assert compilecache.notice() is None  # warm once, warm for the rest of the process


@pytest.mark.parametrize("first", ["import numpy, sim", "import sim, numpy"])
def test_blas_runs_on_one_thread_whatever_was_imported_first(first):
    """numpy's BLAS on one thread after `import sim`, whether numpy was loaded before (threadpoolctl)
    or after (its environment variables); a count the user set is left alone. A threaded OpenBLAS dot
    of the 1:1 economy's estates (over 10,000 values from the ninth year) kept a worker spinning
    beside a one-thread run, and split the sum by the machine's cores."""
    code = (f"{first}\nfrom threadpoolctl import threadpool_info\n"
            "print(sorted({d['num_threads'] for d in threadpool_info() if d['user_api'] == 'blas'}))")
    env = {k: v for k, v in os.environ.items() if k not in threads.BLAS_ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[1]"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env=dict(env, OPENBLAS_NUM_THREADS="2"))
    assert out.stdout.strip().splitlines()[-1] == "[2]"


def test_warmup_reaches_every_kernel_the_engines_call():
    """Whatever ran before in this process: after `sim warmup` no kernel that an engine calls is left
    to compile (checked against the cache files, not only the command's own count)."""
    r = CliRunner().invoke(main, ["warmup"])
    assert r.exit_code == 0, r.output
    engine = compilecache.engine_kernels()
    assert len(engine) > 25 and f"{len(engine)} of the engines' {len(engine)} kernels cached" in r.stderr
    assert "not reached" not in r.stderr
    assert not set(compilecache.uncached()) & engine
    alloc = "sim.kernels.credit_allocation:allocate_credit"
    assert f"{alloc}_drawn" in engine and alloc not in engine and "sim.kernels.credit:repay_and_apply" in engine


def test_the_manifest_holds_the_signatures_a_run_calls_the_kernels_with():
    """The signatures `sim warmup` compiles in parallel processes (compilecache.MANIFEST) are those a
    run calls the kernels with: a stale manifest (a kernel's arguments changed) would compile code no
    run uses. In a fresh process, so that no other test's calls count; regenerate the manifest with
    `python -m sim.compilecache --write-manifest`."""
    code = ("import sim\nfrom sim import compilecache as cc\n"
            f"sim.run(sim.load_scenario({str(SCENARIOS / 'baseline.toml')!r}, firms=300, months=3), quiet=True)\n"
            "man = cc.load_manifest()\n"
            "print(sorted(k for k, sigs in cc.signatures().items() if not set(sigs) <= set(man.get(k, []))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
    assert len(compilecache.load_manifest()) > 25


def test_kernels_compile_in_parallel_processes_into_the_cache(tmp_path):
    """compile_in_processes compiles the manifest's uncached kernels in worker processes (two small
    ones here, with an empty cache folder), each worker into a folder of its own, and moves their code
    into this cache: afterwards they are cached (with the callees compiled on the way), the others
    not."""
    few = ("sim.kernels.sums:sector_totals", "sim.kernels.sums:reprice")
    code = ("from sim import compilecache as cc\n"
            f"man = {{k: v for k, v in cc.load_manifest().items() if k in {few!r}}}\n"
            "cc.load_manifest = lambda path=cc.MANIFEST: man\n"
            "assert set(man) <= set(cc.uncached())\n"
            "print(set(man) <= set(cc.compile_in_processes(2)))\n"
            "left = set(cc.uncached())\n"
            "print(not (set(man) & left), len(left) > 20)\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, env=env)
    assert out.returncode == 0, out.stderr
    *_, compiled, check = out.stdout.strip().splitlines()
    assert compiled == "True" and check == "True True"


@pytest.mark.parametrize("cmd", ["run", "compare", "check-facts"])
def test_every_command_takes_threads(cmd):
    r = CliRunner().invoke(main, [cmd, "--help"])
    assert "--threads" in r.output and "--overwrite" in r.output


def test_compare_and_check_facts_on_workers_equal_serial_runs():
    """`--workers` sends the runs to Dask worker processes as a sweep does: the same numbers, bit for bit."""
    from sim.validation.check import check

    kw = dict(seeds=2, firms=400, months=3)
    files = [SCENARIOS / "baseline.toml", SCENARIOS / "vat_cut.toml"]
    serial = sim.compare.compare(files, **kw)
    workers = sim.compare.compare(files, workers=2, **kw)
    for v in ("output", "effect_gdp", "summary_mean", "credit"):
        np.testing.assert_array_equal(serial[v].values, workers[v].values)
    a = check(SCENARIOS / "baseline.toml", 2, firms=400, months=36)
    b = check(SCENARIOS / "baseline.toml", 2, firms=400, months=36, workers=1)
    np.testing.assert_array_equal(a.value.values, b.value.values)


def test_a_model_whose_rows_fit_one_chunk_steps_on_one_thread(monkeypatch):
    """While a model's firm rows fit in one chunk (2^16) its kernels have nothing to share between
    threads: the step runs them on one thread and gives the count back after; a larger model keeps
    its threads (threads.one_thread_while_one_chunk)."""
    from sim._numba import CHUNK
    from sim.api import make_model
    from sim.kernels import market

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two numba threads")
    seen = []
    real = market.market_step

    def spy(*args):
        seen.append(numba.get_num_threads())
        return real(*args)

    monkeypatch.setattr(market, "market_step", spy)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        for firms in (300, 70_000):
            m = make_model(sim.load_scenario(SCENARIOS / "baseline.toml", firms=firms, months=2))
            m.step()
            assert numba.get_num_threads() == 2
            assert seen[-1] == (1 if m.firms.n_rows <= CHUNK else 2), firms
        assert seen == [1, 2]
    finally:
        numba.set_num_threads(before)


PRELOAD = ("import numba\nfrom sim import compilecache as cc\n"
           "numba.get_num_threads = lambda: 1\n"
           "assert cc.preload() is None\n"  # one thread: no idle core to load on
           "numba.get_num_threads = lambda: 2\n"
           "keys = cc.preload_keys()\n"
           "assert 25 < len(keys) < len(cc.load_manifest()) and set(keys) <= set(cc.load_manifest())\n"
           "cached = set(keys) - set(cc.uncached())\n"
           "cc.preload().join()\n"
           "ds = cc.dispatchers()\n"
           "print(sorted(k for k, d in ds.items() if d.signatures) == sorted(cached),"
           " sum(sum(d._cache_misses.values()) for d in ds.values()), len(cached) > 0, len(cc.uncached()) > 20)\n")


def test_preload_loads_the_cached_kernels_and_compiles_nothing(tmp_path):
    """`compilecache.preload` (started by make_model) loads the cached kernels a baseline run calls
    (`preload_keys`, a part of the manifest) in a background thread and nothing else: with the cache
    warm, all of them and no compile (no cache miss); with an empty cache folder, none, and the cache
    stays empty (the run compiles, as before); a run on one thread does not preload."""
    warm = subprocess.run([sys.executable, "-c", PRELOAD], capture_output=True, text=True, timeout=300)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.split()[:3] == ["True", "0", "True"], warm.stdout
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    cold = subprocess.run([sys.executable, "-c", PRELOAD], capture_output=True, text=True, timeout=300, env=env)
    assert cold.returncode == 0, cold.stderr
    assert cold.stdout.split() == ["True", "0", "False", "True"], cold.stdout
