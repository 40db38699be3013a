"""The month's fixed cost (issue 22 part 2): CPU ms a month of warm runs at 2,000, 20,000 and
100,000 firms on one thread, and the fixed cost as the intercept of a least-squares line of time a
month against firm rows (Python between kernels, kernel launches, sums over banks, records).

    python benchmarks/fixed_cost.py                              # this checkout, 3 rounds
    python benchmarks/fixed_cost.py --against /path/to/other     # two checkouts, taking turns
    python benchmarks/fixed_cost.py --profile 20000              # cProfile of the Python at one size

Each round is a fresh process per checkout (SIM_THREADS=1, warm numba cache) that builds each size
in turn (the scenario's own bank count: 1:1 firms per bank) and steps it `--skip` months untimed,
then `--months` months timed with time.process_time (the machine is shared: CPU time, not wall
time, and checkouts alternate so that they see the same load). Per size the median month of each
round (and its lower quartile: other processes inflate CPU time too, through the caches), then the
median over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.toml"

CHILD = r"""
import json, sys, time
import sim
from sim.api import make_model
sizes, months, skip = [int(x) for x in sys.argv[1].split(",")], int(sys.argv[2]), int(sys.argv[3])
out = {}
for n in sizes:
    sc = sim.load_scenario(sys.argv[4], firms=n, months=skip + months)
    m = make_model(sc)
    for _ in range(skip):
        m.step()
    cpu = []
    for _ in range(months):
        c0 = time.process_time()
        m.step()
        cpu.append(time.process_time() - c0)
    out[n] = dict(cpu=cpu, rows=m.firms.n_rows, banks=m.banking.banks.n_rows)
print(json.dumps(out))
"""


def child(tree: Path, sizes: list[int], months: int, skip: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), SIM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", CHILD, ",".join(map(str, sizes)), str(months), str(skip),
                          str(SCENARIO)], capture_output=True, text=True, env=env, cwd=tree)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return {int(k): v for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def intercept(rows: list[float], ms: list[float]) -> tuple[float, float]:
    """Least-squares line ms = a + b rows: (a in ms, b in ns per row)."""
    b, a = np.polyfit(np.asarray(rows, float), np.asarray(ms, float), 1)
    return float(a), float(b * 1e6)


def profile(n: int, months: int, skip: int, top: int) -> None:
    import cProfile
    import pstats
    import time

    import sim
    from sim.api import make_model
    from sim.threads import using

    with using(1):
        m = make_model(sim.load_scenario(SCENARIO, firms=n, months=skip + months))
        for _ in range(skip):
            m.step()
        prof = cProfile.Profile(time.process_time)
        c0 = time.process_time()
        prof.enable()
        for _ in range(months):
            m.step()
        prof.disable()
        cpu = time.process_time() - c0
    print(f"{n} firms ({m.firms.n_rows} rows, {m.banking.banks.n_rows} banks): {1e3 * cpu / months:.2f} CPU ms a "
          f"month under the profiler")
    st = pstats.Stats(prof)
    st.sort_stats("tottime").print_stats(top)
    st.sort_stats("cumtime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[2_000, 20_000, 100_000])
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--skip", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--against", help="another checkout, run in turns with this one")
    ap.add_argument("--profile", type=int, metavar="FIRMS", help="cProfile the step at this size instead")
    ap.add_argument("--top", type=int, default=40)
    a = ap.parse_args()
    if a.profile:
        profile(a.profile, a.months, a.skip, a.top)
        return
    trees = {"this": ROOT} | ({"against": Path(a.against).resolve()} if a.against else {})
    med: dict[str, dict[int, list[float]]] = {k: {n: [] for n in a.sizes} for k in trees}
    low: dict[str, dict[int, list[float]]] = {k: {n: [] for n in a.sizes} for k in trees}  # lower quartiles
    rows: dict[str, dict[int, int]] = {k: {} for k in trees}
    for r in range(a.rounds):
        for label, tree in trees.items():
            load = os.getloadavg()[0]
            res = child(tree, a.sizes, a.months, a.skip)
            for n, d in res.items():
                med[label][n].append(1e3 * float(np.median(d["cpu"])))
                low[label][n].append(1e3 * float(np.percentile(d["cpu"], 25)))
                rows[label][n] = d["rows"]
            each = ", ".join(f"{n}: {med[label][n][-1]:.2f}" for n in a.sizes)
            print(f"round {r + 1} {label}: CPU ms a month {each} (load average {load:.1f})", flush=True)
    for label, tree in trees.items():
        for what, table in (("median", med), ("lower quartile", low)):
            ms = [float(np.median(table[label][n])) for n in a.sizes]
            a0, b0 = intercept([rows[label][n] for n in a.sizes], ms)
            each = "; ".join(f"{n} firms ({rows[label][n]} rows) {m:.2f}" for n, m in zip(a.sizes, ms, strict=True))
            print(f"{label} ({tree}): CPU ms a month ({what} of the months, median of {a.rounds} rounds): {each}; "
                  f"fixed cost (intercept) {a0:.2f} ms a month, {b0:.1f} ns per row")


if __name__ == "__main__":
    main()
