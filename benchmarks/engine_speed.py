"""Speed and memory of the numba engine, against the Mesa reference and the memory-bandwidth floor.

Measures, in one run (each large run in its own subprocess, so peak memory is its own):
  (a) firm-steps per second of the engine and of the Mesa reference on the same economy, and the ratio;
  (b) seconds and peak memory (VmHWM) of the 1:1 decade (378,000 firms, 4,000 banks, 120 months) and of
      a 5,000,000-firm decade;
  (c) cold (empty NUMBA_CACHE_DIR) and warm start of `sim run`;
  (d) how time per firm-month grows with the number of firms (1e4 to 5e6);
  and the bytes each step touches per firm row, against ~19 GB/s read / ~38 GB/s copy.

    python benchmarks/engine_speed.py            # everything, prints a report
    python benchmarks/engine_speed.py --write    # ... and replaces its section of benchmarks/RESULTS.md
    python benchmarks/engine_speed.py --quick    # small sizes only (a smoke test, about a minute)
    python benchmarks/engine_speed.py --report   # the report again from the numbers --write kept
                                                 # (benchmarks/engine_speed.json), without measuring
    python benchmarks/engine_speed.py --decade 3 --against ../other-checkout
                                                 # the 1:1 decade alone, 3 times, taking turns with
                                                 # another checkout (PYTHONPATH) if given; no --write
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.toml"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
NUMBERS = ROOT / "benchmarks" / "engine_speed.json"  # the last full run's measurements (--write)
SECTION = "## Engine speed and memory (issue 6)"
READ_GBS, COPY_GBS = 19.0, 38.0  # this machine with numpy (issue 6)

# one run in a fresh interpreter: timings of each part and peak resident memory
CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
import sim
from sim.api import make_model
t_import = time.perf_counter() - t0
firms, months, banks, engine = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sc = sim.load_scenario(sys.argv[5], firms=firms, months=months, banks=banks)
t1 = time.perf_counter()
model = make_model(sc, engine)
t_setup = time.perf_counter() - t1
t2 = time.perf_counter()
for _ in range(months):
    model.step()
t_steps = time.perf_counter() - t2
t3 = time.perf_counter()
ds = model.rec.to_dataset(sc.run.start, {})
t_records = time.perf_counter() - t3
status = open("/proc/self/status").read()
hwm = int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) * 1024
pool = model._draw_pool.buf  # (hosted in the credit scratch's `repaid`: counted there, not twice)
state = model.firms.nbytes_per_row() * model.firms.n_rows + sum(
    a.nbytes for a in vars(model).values() if isinstance(a, np.ndarray)) + (
    0 if pool is model.scratch.repaid else pool.nbytes)
print(json.dumps(dict(firms=firms, months=months, banks=banks, engine=engine, rows=model.firms.n_rows,
                      t_import=t_import, t_setup=t_setup, t_steps=t_steps, t_records=t_records,
                      vm_hwm=hwm, state_bytes=state, bytes_per_row=model.firms.nbytes_per_row())))
"""


DECADE_REPEATS = {"1:1": 3, "5M": 3}


def all_in(d: dict) -> float:
    """Set-up, steps and records of one run (import excluded)."""
    return d["t_setup"] + d["t_steps"] + d["t_records"]


def child(firms: int, months: int, banks: int = 100, engine: str = "numba", env: dict | None = None,
          cwd: Path = ROOT) -> dict:
    # `python -c` puts its working directory first on sys.path: `sim` is the one under cwd
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(firms), str(months), str(banks), engine, str(SCENARIO)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_rss(env: dict | None = None, cwd: Path = ROOT) -> int:
    """Peak memory of an interpreter that has imported sim, loaded every compiled kernel and made
    a Dataset of records (one month of a 200-firm economy with 4,000 banks, then `to_dataset`, whose
    first call loads xarray's and pandas' code paths: about 11 MB whatever the economy's size):
    what a run costs before its own arrays."""
    code = (
        "import sim;from sim.api import make_model;"
        f"sc = sim.load_scenario({str(SCENARIO)!r}, firms=200, months=1, banks=4000);"
        "m = make_model(sc, 'numba');"
        "m.step(); m.rec.to_dataset(sc.run.start, {});"
        "print(int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) * 1024)"
    )
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd).stdout)


def bytes_touched(firms: int = 100_000, months: int = 3) -> dict:
    """Bytes of firm-row arrays each kernel call passes (read or written), per row and step: an upper
    bound on the memory traffic of the step kernels (each array counted once per kernel call; of a
    bundle, the fields the kernel's source names, `_bundle_fields`)."""
    import sim
    from sim import kernels
    from sim.kernels import accounting, credit, credit_allocation, exit_entry, investment, market, production, sums
    from sim.model import IndustrialEconomy

    sc = sim.load_scenario(SCENARIO, firms=firms, months=months)
    model = IndustrialEconomy(sc)
    rows = model.firms.n_rows
    count = {"bytes": 0, "calls": 0}
    patched = []
    for mod in (accounting, credit, credit_allocation, exit_entry, investment, market, production, sums):
        for name in dir(mod):
            f = getattr(mod, name)
            if hasattr(f, "py_func"):
                named = _bundle_fields(f.py_func)

                def wrapper(*args, _f=f, _named=named):
                    count["calls"] += 1
                    count["bytes"] += sum(
                        a.nbytes for a in _arrays(args, _named) if a.shape[:1] == (rows,)
                    )
                    return _f(*args)

                patched.append((mod, name, f))
                setattr(mod, name, wrapper)
    del kernels
    try:
        model.step()  # month 0 runs the one-off set-up paths too
        count.update(bytes=0, calls=0)
        for _ in range(months - 1):
            model.step()
    finally:
        for mod, name, f in patched:
            setattr(mod, name, f)
    per = count["bytes"] / (months - 1) / rows
    return {"bytes_per_row_step": per, "kernel_calls_per_step": count["calls"] / (months - 1)}


def _bundle_fields(fn) -> list[set[str] | None]:
    """For each parameter of a kernel, the fields its source names (`firms.cash`): the arrays it
    touches of a bundle (a named tuple) passed there; a kernel is passed all of a bundle's arrays."""
    import inspect
    import re

    src = inspect.getsource(fn)
    return [set(re.findall(rf"\b{p}\.(\w+)", src)) for p in inspect.signature(fn).parameters]


def _arrays(args, named) -> list:
    """The arrays a kernel call touches: the array arguments, and the named fields of the bundles."""
    import numpy as np

    out = []
    for a, fields in zip(args, named, strict=False):
        if isinstance(a, np.ndarray):
            out.append(a)
        elif hasattr(a, "_fields"):
            out += [getattr(a, f) for f in fields if f in a._fields and isinstance(getattr(a, f), np.ndarray)]
    return out


def stream_rate(rows: int = 437_583, reads: int = 13, writes: int = 6, repeat: int = 15) -> dict:
    """What the step's kernels could move at best: a kernel of their shape (parallel over the same
    row chunks, `reads` float64 arrays read and `writes` written per row, the income kernel's
    counts) but with trivial arithmetic, over the 1:1 decade's rows. Returns the bytes of the
    arrays passed per second (as `bytes_touched` counts them: each array once, read or written)."""
    import numpy as np
    from numba import njit, prange

    from sim._numba import chunks, rows_of

    @njit(parallel=True)
    def stream(src, dst):
        n = src.shape[1]
        nc, cs = chunks(n)
        for c in prange(nc):
            for i in rows_of(c, cs, n):
                x = 0.0
                for k in range(src.shape[0]):
                    x += src[k, i]
                for k in range(dst.shape[0]):
                    dst[k, i] = x + k

    rng = np.random.default_rng(0)
    src = rng.random((reads, rows))
    dst = np.zeros((writes, rows))
    stream(src, dst)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        stream(src, dst)
        times.append(time.perf_counter() - t)
    best = float(np.min(times))  # at best: the machine is shared, and a busy moment only slows it
    return {"rows": rows, "reads": reads, "writes": writes, "seconds": best,
            "gbs": (reads + writes) * 8 * rows / best / 1e9}


def reference_ratio(firms: int, months: int, banks: int = 100) -> dict:
    """Firm-steps per second of both engines on the same economy (same process, compiled kernels):
    each runs one month untimed (the first touches all its fresh memory), then `months` timed."""
    import sim
    from sim.api import make_model

    sc = sim.load_scenario(SCENARIO, firms=firms, months=months + 1, banks=banks)
    make_model(sc, "numba").step()  # compile / load the cache outside the timing
    out = {}
    for engine in ("numba", "reference"):
        model = make_model(sc, engine)
        model.step()
        t = time.perf_counter()
        for _ in range(months):
            model.step()
        sec = time.perf_counter() - t
        out[engine] = firms * months / sec
    out["ratio"] = out["numba"] / out["reference"]
    out.update(firms=firms, months=months, banks=banks)
    return out


def start_times() -> dict:
    """`sim run` wall time with an empty numba cache (cold), then again (warm); `import sim`."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cmd = [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(SCENARIO),
            "--firms",
            "2000",
            "--months",
            "12",
            "--quiet",
        ]
        res = {}
        for label in ("cold", "warm"):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True)
            res[label] = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sim"], check=True, env=env, cwd=ROOT)
        res["import"] = time.perf_counter() - t
    return res


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    import numba
    import numpy

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": numpy.__version__,
        "threads": numba.config.NUMBA_NUM_THREADS,
        "date": dt.date.today().isoformat(),
    }


def report(r: dict) -> str:
    m = r["machine"]
    base = r["baseline_rss"]
    lines = [
        SECTION,
        "",
        f"- date: {m['date']}; machine: nproc {m['nproc']}, {m['cpu']}; Python {m['python']}, numba "
        f"{m['numba']}, numpy {m['numpy']}; numba threads {m['threads']}",
        f"- command: `python benchmarks/engine_speed.py{' --quick' if r['quick'] else ''} --write` "
        "(scenario `scenarios/baseline.toml`, warm numba cache unless stated; the machine is shared, "
        "so expect some noise)",
        "",
    ]
    a = r["ratio"]
    lines += [
        "**(a) Engine against the Mesa reference** (same economy: "
        f"{a['firms']:,} firms, {a['banks']:,} banks, {a['months']} months, same process, compiled code "
        "loaded; set-up and the first month not timed):",
        "",
        "| engine | firm-steps per second |",
        "| --- | --- |",
        f"| numba | {a['numba']:,.0f} |",
        f"| Mesa reference | {a['reference']:,.0f} |",
        f"| ratio | **{a['ratio']:,.0f}x** (target 300x) |",
        "",
    ]
    lines += [
        "**(b) Decades** (one fresh process each; peak = VmHWM of that process, which includes about "
        f"{base / 1e6:,.0f} MB for the interpreter with numpy, numba, xarray, scipy and mesa loaded, every "
        "kernel compiled and a Dataset of records made once; the last three columns divide by the firms "
        "the run starts with):",
        "",
        "| run | rows | import (s) | set-up (s) | 120 steps (s) | records to Dataset (s) | all in (s) | "
        "ns per firm-month (steps) | peak memory (MB) | peak above interpreter, bytes per firm | "
        "firm state, bytes per firm |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, d in r["decades"].items():
        allin = all_in(d)
        lines.append(
            f"| {label} ({d['firms']:,} firms, {d['banks']:,} banks) | {d['rows']:,} | {d['t_import']:.2f} | "
            f"{d['t_setup']:.2f} | {d['t_steps']:.2f} | {d['t_records']:.2f} | **{allin:.2f}** "
            f"(+{d['t_import']:.1f} import) | {d['t_steps'] / d['firms'] / d['months'] * 1e9:.0f} | "
            f"{d['vm_hwm'] / 1e6:,.0f} | {(d['vm_hwm'] - base) / d['firms']:.0f} | "
            f"{d['state_bytes'] / d['firms']:.0f} |"
        )
    lines += [""]
    for label, d in r["decades"].items():
        if len(d.get("all_in_runs", [])) > 1:
            lines.append(f"{label}, all in, in {len(d['all_in_runs'])} fresh processes: "
                         + " / ".join(f"{x:.2f}" for x in d["all_in_runs"]) + " s (the table shows the median run).")
    lines += ["", "Targets: 1:1 decade under 5 s all in, 5M decade under 90 s, under 400 bytes per firm.", ""]
    s = r["start"]
    lines += [
        f"**(c) Start-up** (`sim run baseline.toml --firms 2000 --months 12 --quiet`): cold (empty "
        f"NUMBA_CACHE_DIR, every kernel compiled) {s['cold']:.1f} s; warm {s['warm']:.1f} s; "
        f"`python -c 'import sim'` {s['import']:.2f} s.",
        "",
    ]
    lines += [
        "**(d) Scaling** (12 months each, fresh process, 100 banks):",
        "",
        "| firms | rows | steps (s) | ns per firm-month |",
        "| --- | --- | --- | --- |",
    ]
    for d in r["scaling"]:
        lines.append(
            f"| {d['firms']:,} | {d['rows']:,} | {d['t_steps']:.2f} | "
            f"{d['t_steps'] / d['firms'] / d['months'] * 1e9:.0f} |"
        )
    bt = r["bytes"]
    one = r["decades"].get("1:1") or next(iter(r["decades"].values()))
    per_row_step = one["t_steps"] / one["months"] / one["rows"]
    floor = bt["bytes_per_row_step"] / (READ_GBS * 1e9)
    st = r["stream"]
    floor_st = bt["bytes_per_row_step"] / (st["gbs"] * 1e9)
    lines += [
        "",
        "**Memory-bandwidth floor.** The step's kernels pass "
        f"{bt['bytes_per_row_step']:.0f} bytes of firm-row arrays per row and month "
        f"({bt['kernel_calls_per_step']:.0f} kernel calls; each array counted once per call, read or "
        f"written). Streaming that at {READ_GBS:.0f} GB/s takes {floor * 1e9:.1f} ns per row-step; the "
        f"1:1 decade's steps take {per_row_step * 1e9:.1f} ns per row-step, "
        f"**{per_row_step / floor:.1f}x the floor** (target: within 3x).",
        "",
        "Measured by this script (`stream_rate`, best of 15), a kernel of the step's shape (parallel over "
        "the same row chunks, "
        f"{st['reads']} float64 arrays read and {st['writes']} written per row as the income kernel, "
        f"trivial arithmetic) over {st['rows']:,} rows takes {st['seconds'] * 1e3:.2f} ms: "
        f"{st['gbs']:.0f} GB/s of arrays passed (writes cost a read too, so more moves). At that rate "
        f"the step's bytes take {floor_st * 1e9:.1f} ns per row-step, "
        f"{floor_st * one['rows'] * 1e3:.0f} ms a month at 1:1; the steps take "
        f"**{per_row_step / floor_st:.1f}x** that.",
    ]
    state = one["bytes_per_row"]
    min_floor = 2 * state / (READ_GBS * 1e9)
    rows_per_firm = one["rows"] / one["firms"]
    from sim.state import Firms, Scratch

    scratch = Scratch(1, Firms(1)).nbytes_per_row()  # (as the model makes it: `granted` in the firms' arrays)
    lines += [
        "",
        f"A stricter floor reads and writes each of the {state} bytes of a row's state once per month: "
        f"{min_floor * 1e9:.0f} ns per row-step, and the steps take **{per_row_step / min_floor:.1f}x** "
        "that. What is left, and why (re-profiled on 2026-12-07 with `python benchmarks/profile_month.py`, "
        "SIM_THREADS=1: the 1:1 economy, months 4-15, CPU time of the process, both checkouts at once; the "
        "machine was shared by four sessions, load average 6-12 on its 2 cores, so each figure carries about "
        "15% and wall times say nothing; rows 416,745, 386,981 live):",
        "",
        "1. The kernels, CPU ms a month on one thread, at 47a0b0d (before this session's speed work) and after "
        "it: income 16.7 / 16.2, credit allocation (`allocate_credit_drawn`) 15.1 / 17.3, month sums 14.3 / "
        "16.9, repayment (`repay_and_apply`) 11.9 / 12.5, market 11.0 / 13.0, investment 7.1 / 7.8, exits "
        "(with the court procedure) 7.0 / 7.9, costs and prices 5.6 / 5.6, firm shocks 4.4 / 4.9, plans "
        "3.9 / 4.3, uniforms (`rng._pcg64_fill`, five calls) 3.1 / 3.9, credit close 2.5 / 2.8, score order "
        "2.1 / 2.4, the records' distress sums (`sums.live_weights`, new) - / 4.0, size classes 1.0 / 1.2, "
        "free rows 1.2 / 1.2; all kernels 112.5 / 127.6 of a month of 142.5 / 151.6. The second process had "
        "the worse share of the machine (kernels neither checkout changed, the allocation, investment and "
        "exits, took 10-15% longer in it too): on one thread the kernels' own code is the same, and no "
        "difference can be told at this load. Against session 7's profile (about 30 ms of kernels in a "
        "34 ms month, two threads, quiet machine), one thread instead of two explains 1.8-2x and the load "
        "the rest; the distress work (issue 20) added the court procedure to the exits, the loan categories "
        "to the month sums, the cost wedge and the yearly profit to income, and a shocks pass (one "
        "libm exp a row for every firm whose order shock is not zero). What this session changed: (i) "
        "`sim._numba.kernel(parallel=True)` hands numba the options {prange: True, everything else False}. "
        "With parallel=True numba also made every whole-array statement of a parallel kernel (np.zeros of "
        "the per-chunk sums, `x[:] = 0.0`, `x[:] += part[c]`, `npl[:] = a + b + c`) a parallel loop of its "
        "own, compiled as a function of its own and started as a parallel region of its own (every thread "
        "waits for it, on a busy core for a time slice) for 10 to 4,000 values: a small kernel of that shape "
        "had 5 parallel loops with parallel=True, 1 now (tests/test_numba_policy.py). On two threads the "
        "month sums on the 1:1 state after three months, both versions compiled in one process and taking "
        "turns (60 calls each; load average 14, so a parallel region often waited for a time slice): "
        "parallel=True median 920 ms, least 136; prange only median 96 ms, least 54. Cold compile fell too "
        "(item 7). (ii) The records' live weights by size class (the default rate) and the estates "
        "in court were numpy over every row each month (`W[F.sector]`, three masks, three gathers: 6.5 ms "
        "CPU); `sums.live_weights` makes them in two compiled passes without an array of the rows' size, "
        "reproducing numpy's pairwise summation of the gathered values bit for bit (3.4-4.6 ms; `_record` "
        "11.4 -> 9.9 ms in the profile). Tried and not kept: storing the size class in the month sums "
        "instead of the separate pass (`sums.classify_size`, 1 ms): the banks' month end reads the class in "
        "between (a failed bank's loans move with their SME risk weight), and results moved. Earlier "
        "sessions' wins, each with the same results to the last bit unless said: exp and log of our own "
        "(`sim/kernels/elementary.py`, vectorised; rounding level), selects instead of branches where the "
        "choice varies row to row, the market's replicator shares not divided by their sum again "
        "(rounding level), unsigned indices in the row loops, a row's values read into locals once, net "
        "worth stored once a month, the exits closing firms through per-chunk lists. Measured and not kept "
        "then: the banks' partial sums laid out bank by bank, OMP_WAIT_POLICY=PASSIVE, numba's workqueue "
        "layer, fastmath, sector sums in registers, rows grouped by sector, and packing the live rows "
        "together (each firm's per-row uniforms would move with its row).",
        "2. Balance: above 2^16 rows the kernels cut the rows into a multiple of 8 equal chunks "
        "(`sim._numba.chunks`). With chunks of a fixed 2^16 rows, 437,583 rows made 7 chunks: one "
        "thread ran 4, the other 2.7 (the 1:1 month took 64 ms; 56 ms in 8 equal chunks).",
        "3. The credit allocation is serial by design: banks serve applicants best score first under "
        "their capital room, and the room binds for most banks (measured: 4-10% of banks could serve "
        "every candidate applicant). About 34,000 firms apply in a month at 1:1 (shortfalls, and the "
        "yearly credit-line review); their rows are read and written in row order, the table being "
        "permuted into serving order in cache (in serving order the random row accesses took 4.3 ms "
        "a month; now 2.8). Each applicant's participations in the parts table (a loan shared by "
        "several banks) are found once, walking the table in row order (`credit_allocation._spans`, "
        "0.3-0.4 ms), not by a binary search per applicant in serving order inside the serial loop "
        "(4.2 of its 6.7 ms at 48,650 applicants and 13,937 participations; the allocation 17.7 -> "
        "11.6 ms a month on one thread, 2026-12-07).",
        "4. Random draws: 1.75 million uniforms a month at 1:1 before (upgrade reviews, bank search, "
        "imitation), one per row and process so that scenarios share them. numpy fills on one thread "
        "(2.2 ns a double: about 4 ms a month); `rng.fill_uniforms` now makes the same doubles with a "
        "numba kernel that steps numpy's PCG64 with LLVM's 128-bit integers, each chunk of rows from "
        "its jumped-ahead state (0.4 ms for 437,583 uniforms on two threads against 0.96 for numpy; the "
        "month 46 -> 43 ms). It replaced two Python threads filling halves of large buffers, which "
        "only paid from 2^20 uniforms on: GNU OpenMP keeps numba's worker spinning after each kernel, "
        "and the second filling thread competed with it. The bank search's uniforms (two a row) are "
        "used by the applicants only: `RowDraws.at` makes just their rows' numbers (the same ones), "
        "each chunk of applicants jumping the generator from row to row with precomputed jumps by "
        "powers of two, so the month draws 875,000 uniforms plus the applicants' 68,000 (month "
        "42.0 -> 40.8 ms; the draw buffer 16 -> 8 bytes a row).",
        f"5. Rows: {rows_per_firm:.2f} per firm at the end of the 1:1 decade (entrants take exited "
        "firms' rows first; the rows grow in 5% blocks when the firm count rises, which it does by "
        "about 12% in the first years, then falls to about 337,000 firms), and each growth copies "
        "the state once (at 1:1 about 25 ms in its month and 15 in the next: item 7).",
        "6. Python between the kernels (same profile, CPU ms a month, after): entry 12.6 with its kernels "
        "(growing the rows 4.5 averaged over the twelve months: one growth of about 54 ms; writing the "
        "entrants' rows `Firms.set_rows` 2.8, now numpy's indexed assignment, one per field, instead of a "
        "parallel kernel per dtype: 777 -> 526 us for 3,000 entrants, 246 -> 20 us for 20; the entry draws "
        "`fill_uniforms` and normals about 1; free rows 1.3, now one pass over the rows instead of two: "
        "1.07 -> 0.40 ms; the entrants' banks 0.9; its own numpy 1.6); the records 9.9 (`_record`'s own "
        "Python 3.7, about 90 small assignments and sums over 4,000 banks; the distress sums 4.0; the size "
        "classes 1.1); the firm shocks' uniforms (`DrawPool.draw`) are part of the 3.9 ms of uniforms above. Entry's "
        "`u = np.empty((N_S, m, 3))` and `standard_normal((N_S, m))` draw for the most entrants any sector "
        "may get (`entry_max`), every month, whatever the counts; drawing the counts' rows only would need "
        "another stream layout and move results (sim/phases/entry.py is another session's).",
        "7. Costs once a run: cold compile. `sim run baseline.toml --firms 2000 --months 12 --quiet` with an "
        "empty NUMBA_CACHE_DIR (this script's cold start; each checkout run from its own directory): 47a0b0d "
        "1,439 s wall, 167.9 s user CPU (load average 13-20); after 971 s wall, 115.4 s user (load about 15, "
        "an earlier half hour): a third less CPU, the wall times only say how loaded the machine was "
        "(127 s on the quiet machine at 752c6a1). One kernel compiled afresh in one process with each option "
        "(no cache, numba's pipeline warmed first, taking turns): month sums 28.3 and 31.5 s CPU with "
        "parallel=True, 13.2 s prange only; market 13.5 and 11.1 s with parallel=True, 13.9 s prange only "
        "(no gain: it has few whole-array statements). All kernels (empty NUMBA_CACHE_DIR), numba's compile events "
        "summed per kernel in CPU seconds (`profile_month.py --firms 20000 --banks 200 --months 8`, both "
        "checkouts at once): "
        "134.3 s at 47a0b0d, 100.9 s after (i): month sums 24.7 -> 13.4, exits 19.9 -> 14.8, income 13.1 -> "
        "7.3, allocation 11.5 -> 12.9 (noise; it has few array statements), market 10.9 -> 6.7, investment "
        "7.2 -> 5.3, repayment 7.1 -> 4.8; the first kernel compiled carries numba's own start-up (about 6 s "
        "CPU). The largest left are the exits (14.8 s: with `_close`, `_default`, `_settle`, `_wind_up` "
        "compiled inside it), the month sums (13.4) and the allocation (12.9). The first kernel call of a "
        "process costs numba about 0.25 s of its own initialisation, and each kernel's cached machine code "
        "loads at its first call (2-20 ms each); each growth of the rows costs its month about 25 ms and the "
        "next month 15 (copies and first touch of the new pages); records to a Dataset 0.15 s.",
        "",
        f"Memory: {state} bytes per row of firm state (int8 sector and exit reason, int16 ages and "
        f"month counters, int32 ids and banks) and {scratch} bytes per row of per-month scratch (credit flows; "
        "the applicants' requests, limits and fees are kept per applicant), "
        "whose `repaid` also holds the month's per-row uniforms (the firm-shock, upgrade and imitation "
        "draws take that buffer in turn outside the credit step: `rng.DrawPool`; the bank search draws "
        "its applicants' rows only, `RowDraws.at`), "
        f"times {rows_per_firm:.2f} rows per firm; the peak adds the month's "
        "temporaries (applicant table, chunk partial sums, a few MB) and the copy of one array while the "
        "rows grow. Freed heap pages are given back after set-up, after the rows grow and once a year "
        "(`_memory.release_freed_memory`): with the raised trim threshold the set-up's temporaries "
        "otherwise stayed resident.",
        "",
        "Found on the way (each measured with this script or a profile of the same runs): the credit "
        "market had every firm apply each month (437 ms a month at 1:1; now 68 ms with the other "
        "changes); glibc returned each month's large temporaries to the kernel and faulted them in "
        "again (`sim/_memory.py`: -20%); arrays of more than 32 MB all started at the same offset "
        "within a page, so kernels reading twenty-odd of them thrashed one cache set (5M firms: 873 "
        "-> 627 ms a month; `state.staggered_zeros`); a background thread for the random draws was "
        "no faster on 2 cores and cost small runs 5 ms a month, while filling a large draw buffer with "
        "two threads at once (same numbers) halved its time (5M: 51 -> 27 ms a month; now a numba "
        "kernel, item 4). Runs of the same command vary by a few percent (the machine is shared).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--report", action="store_true", help=f"report from {NUMBERS.name}, measure nothing")
    ap.add_argument("--decade", type=int, default=0, help="only the 1:1 decade, this many times")
    ap.add_argument("--against", help="with --decade: another checkout, run in turns (its PYTHONPATH)")
    args = ap.parse_args()
    if args.decade:
        decade_only(args.decade, args.against)
        return
    if args.report:
        r = json.loads(NUMBERS.read_text())
        write_report(r, args.write)
        return
    r = {"machine": machine(), "quick": args.quick}
    print("machine", r["machine"], flush=True)
    r["baseline_rss"] = baseline_rss()
    r["start"] = start_times()
    print("start", r["start"], flush=True)
    r["ratio"] = reference_ratio(2000, 3) if args.quick else reference_ratio(378_000, 2, banks=4000)
    print("ratio", r["ratio"], flush=True)
    r["bytes"] = bytes_touched(20_000 if args.quick else 100_000)
    print("bytes", r["bytes"], flush=True)
    r["stream"] = stream_rate()
    print("stream", r["stream"], flush=True)
    sizes = (
        [10_000, 100_000]
        if args.quick
        else [10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 5_000_000]
    )
    r["scaling"] = []
    for n in sizes:
        r["scaling"].append(child(n, 12))
        print("scaling", r["scaling"][-1], flush=True)
    decades = {"1:1": (378_000, 4_000), "5M": (5_000_000, 4_000)}
    if args.quick:
        decades = {"1:1, 24 months": (378_000, 4_000)}
    r["decades"] = {}
    for label, (firms, banks) in decades.items():
        # each decade three times (the machine is shared: +-5%): the table shows the median run
        runs = sorted((child(firms, 24 if args.quick else 120, banks) for _ in range(1 if args.quick else
                       DECADE_REPEATS.get(label, 1))), key=all_in)
        r["decades"][label] = dict(runs[len(runs) // 2], all_in_runs=[all_in(d) for d in runs])
        print(label, r["decades"][label], flush=True)
    if args.write and not args.quick:
        NUMBERS.write_text(json.dumps(r, indent=1) + "\n")
    write_report(r, args.write)


def decade_only(repeat: int, against: str | None) -> None:
    """The 1:1 decade alone, `repeat` times in fresh processes; with `against`, each time also in
    that checkout (PYTHONPATH), the two taking turns (the machine is shared: turns see the same load)."""
    trees = {"this": str(ROOT)} | ({"against": str(Path(against).resolve())} if against else {})
    runs: dict[str, list[dict]] = {k: [] for k in trees}
    # the interpreter's own peak (sim imported, kernels loaded), per checkout: the decade's peak above it
    # per firm is the memory measure (bytes per firm; target under 400)
    base = {label: baseline_rss(dict(os.environ, PYTHONPATH=tree), Path(tree)) for label, tree in trees.items()}
    # the host's speed beside the timings: the same machine kind has streamed 8-38 GB/s on different days,
    # and the decade's time follows it (RESULTS.md), so a decade is only compared with one measured beside it
    st = stream_rate()
    print(f"this host streams {st['gbs']:.1f} GB/s now ({len(trees)} tree(s), {repeat} turn(s); "
          f"{json.loads(NUMBERS.read_text())['stream']['gbs']:.1f} GB/s when the full benchmark last ran)", flush=True)
    for _ in range(repeat):
        for label, tree in trees.items():
            env = dict(os.environ, PYTHONPATH=tree)
            load = os.getloadavg()[0]
            d = child(378_000, 120, 4_000, env=env, cwd=Path(tree))
            runs[label].append(d)
            print(f"{label}: all in {all_in(d):.2f} s (steps {d['t_steps']:.2f} s, {1e3 * d['t_steps'] / 120:.1f} ms a "
                  f"month; set-up {d['t_setup']:.2f}, records {d['t_records']:.2f}; rows {d['rows']}); peak "
                  f"{d['vm_hwm'] / 2**20:.0f} MB, {(d['vm_hwm'] - base[label]) / 378_000:.0f} bytes a firm above the "
                  f"interpreter's {base[label] / 2**20:.0f} MB; load average {load:.1f} at the start", flush=True)
    for label, rs in runs.items():
        xs = sorted(all_in(d) for d in rs)
        each = " / ".join(f"{x:.2f}" for x in xs)
        per_firm = " / ".join(f"{(d['vm_hwm'] - base[label]) / 378_000:.0f}" for d in rs)
        print(f"{label} ({trees[label]}): all in, median {xs[len(xs) // 2]:.2f} s of {each}; bytes a firm {per_firm}")


def write_report(r: dict, write: bool) -> None:
    text = report(r)
    print(text)
    if write:
        old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
        if SECTION in old:
            head, rest = old.split(SECTION, 1)
            nxt = rest.find("\n## ")
            old = head.rstrip() + "\n\n" + (rest[nxt + 1 :] if nxt >= 0 else "")
        RESULTS.write_text(old.rstrip() + "\n\n" + text)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
