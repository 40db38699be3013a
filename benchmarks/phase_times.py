"""Time per month of chosen phases of the step (methods of the model, each timed around its call) at
1:1 (378,000 firms, 4,000 banks), in fresh processes; for before/after comparisons of a kernel
change (run it in two checkouts, alternating, as the machine is shared).

    python benchmarks/phase_times.py                          # plan_investment, execute_investment
    python benchmarks/phase_times.py --phases exits --runs 5 --months 12 --threads 1
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

CHILD = r"""
import json, sys, time
import sim
from sim.api import make_model
months, phases = int(sys.argv[1]), sys.argv[2].split(",")
sc = sim.load_scenario(sys.argv[3], firms=378000, months=months, banks=4000)
m = make_model(sc)
times = {name: [] for name in phases + ["step"]}
for name in phases:
    def timed(*a, _f=getattr(m, name), _t=times[name]):
        t0 = time.perf_counter()
        r = _f(*a)
        _t.append(time.perf_counter() - t0)
        return r
    setattr(m, name, timed)
for _ in range(months):
    t0 = time.perf_counter()
    m.step()
    times["step"].append(time.perf_counter() - t0)
print(json.dumps({k: v[1:] for k, v in times.items()}))  # the first month (first calls) left out
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--phases", nargs="+", default=["plan_investment", "execute_investment"])
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, help="SIM_THREADS for the runs (default: sim's policy)")
    a = ap.parse_args()
    env = dict(os.environ)
    if a.threads:
        env["SIM_THREADS"] = str(a.threads)
    runs = []
    for _ in range(a.runs):
        out = subprocess.run([sys.executable, "-c", CHILD, str(a.months), ",".join(a.phases),
                              str(ROOT / "scenarios" / "baseline.toml")], check=True, capture_output=True, text=True,
                             env=env).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    for name in [*a.phases, "step"]:
        per_run = [float(np.median(r[name])) * 1e3 for r in runs]
        print(f"{name}: median {np.median(per_run):.2f} ms a month (medians of the runs: "
              f"{', '.join(f'{x:.2f}' for x in per_run)})")


if __name__ == "__main__":
    main()
