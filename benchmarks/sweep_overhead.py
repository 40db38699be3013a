"""Sweep overhead and speed-up from 1 to 2 workers, on scenarios/sweeps/quick.toml.

    python benchmarks/sweep_overhead.py [--sweep scenarios/sweeps/quick.toml] [--repeat 2] [--write]

For each worker count it runs `sim sweep` as a user does (a fresh store, local processes) and
reports, from the store's own per-run timings:
  wall           the command's wall time (Python start, cluster start, runs, writes, shut-down)
  sweep wall     run_sweep's wall time (cluster start to shut-down)
  sum of runs    the sum of the runs' times inside sim.run on the workers
  overhead       wall beyond the sum of the runs divided by the workers: what the sweep machinery
                 costs over a perfect split of the same runs; shown in all, and after start-up
                 (without Python start, imports and starting the local cluster)
  speed-up       wall(1 worker) / wall(2 workers)
The numba cache is warm (one sweep runs first to fill it). `--write` appends the table to
benchmarks/RESULTS.md with the machine, the command and the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xarray as xr

ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def one(sweep: Path, workers: int, tmp: Path) -> dict:
    out = tmp / f"w{workers}-{time.time_ns()}.zarr"
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(sweep), "--out", str(out), "--workers",
                        str(workers)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"sweep failed:\n{r.stderr}")
    line = [x for x in r.stderr.splitlines() if "this invocation" in x][-1]
    sweep_wall = float(line.split(" s wall")[0].rsplit(",", 1)[1])
    startup = float(line.split(" s starting workers")[0].rsplit(",", 1)[1])
    ds = xr.open_zarr(out)
    runs = float(ds.run_seconds.sum())
    n = int(ds.run_seconds.size)
    shutil.rmtree(out)
    return {"workers": workers, "runs": n, "wall": wall, "sweep_wall": sweep_wall, "sum_runs": runs,
            "startup": startup, "overhead": wall - runs / workers,
            "sweep_overhead": sweep_wall - startup - runs / workers}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", type=Path, default=ROOT / "scenarios" / "sweeps" / "quick.toml")
    ap.add_argument("--repeat", type=int, default=2, help="runs per worker count; the best is kept")
    ap.add_argument("--write", action="store_true", help="append the results to benchmarks/RESULTS.md")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        one(a.sweep, 2, tmp)  # warm the numba cache
        res = {}
        for w in (1, 2):
            res[w] = min((one(a.sweep, w, tmp) for _ in range(a.repeat)), key=lambda r: r["wall"])
    rows = ["| workers | runs | command wall (s) | sum of runs (s) | overhead, all (s) | of which starting "
            "workers (s) | overhead after start-up (s) | per run (ms) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for w, r in res.items():
        rows.append(f"| {w} | {r['runs']} | {r['wall']:.1f} | {r['sum_runs']:.1f} | {r['overhead']:.1f} | "
                    f"{r['startup']:.1f} | {r['sweep_overhead']:.1f} | "
                    f"{1000 * r['sweep_overhead'] / r['runs']:.0f} |")
    speed = res[1]["wall"] / res[2]["wall"]
    speed_runs = (res[1]["sweep_wall"] - res[1]["startup"]) / (res[2]["sweep_wall"] - res[2]["startup"])
    shown = a.sweep.relative_to(ROOT) if a.sweep.resolve().is_relative_to(ROOT) else a.sweep
    cmd = "python benchmarks/sweep_overhead.py " + " ".join(sys.argv[1:])
    text = "\n".join([
        "", "## Sweep overhead and speed-up (issue 5)", "",
        f"- date: {dt.date.today().isoformat()}; machine: {os.cpu_count()} CPUs (nproc "
        f"{len(os.sched_getaffinity(0))}), {cpu_model()}; Python {platform.python_version()}",
        f"- command: `{cmd.strip()}` (sweep `{shown}`"
        f", warm numba cache, best of {a.repeat})", "",
        *rows, "",
        f"Speed-up 1 -> 2 workers: {speed:.2f}x for the whole command, {speed_runs:.2f}x after start-up. "
        "Overhead = wall time beyond the sum of the runs' own times divided by the workers (cluster "
        "start and shut-down, scheduling, transfers, and the driver's Zarr writes).", ""])
    print(text)
    if a.write:
        res_md = ROOT / "benchmarks" / "RESULTS.md"
        if not res_md.exists():
            res_md.write_text("# Benchmark results\n\nEach section: what was measured, on which machine, "
                              "with which command and when.\n")
        with res_md.open("a") as f:
            f.write(text)


if __name__ == "__main__":
    main()
