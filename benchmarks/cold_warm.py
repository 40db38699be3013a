"""Is a kernel waiting for memory? Its time on the 1:1 state read from memory against read from the caches.

    python benchmarks/cold_warm.py --kernels investment.execute_investment,exit_entry.exit_decisions [--reps 15]

The model runs to month `--at`; the arguments of each kernel named (module of sim.kernels, then function)
are kept at its first call that month (copies of every array in them, as benchmarks/kernel_turns.py keeps
them). Rep by rep the kernel is called twice on the restored arguments: "cold", after writing a buffer
larger than the last-level cache (`--evict` MB), so that its rows come from memory; "warm", right after
restoring them (the rows last written, as far as the caches hold them). CPU time of the process (or wall
time with --wall). A kernel that waits for memory is much faster warm; one whose time is its own work is
not, and then a pass that re-reads rows another pass read costs little more than the pass's own work.
"""

from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path

import numpy as np
from kernel_turns import arrays, capture

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", default="accounting.income,investment.plan_investment,"
                                        "investment.execute_investment,exit_entry.exit_decisions")
    ap.add_argument("--at", type=int, default=4)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--evict", type=int, default=800, help="MB written between the restore and a cold call")
    ap.add_argument("--wall", action="store_true")
    ap.add_argument("--firms", type=int, default=378_000)
    ap.add_argument("--banks", type=int, default=4_000)
    a = ap.parse_args()

    import sim  # noqa: F401  (first: sim.threads sets the thread counts and BLAS's before the kernels load)

    names = [k.split(".") for k in a.kernels.split(",")]
    funcs = {f: getattr(importlib.import_module(f"sim.kernels.{mod}"), f) for mod, f in names}
    captured = capture(names, a.at, a.firms, a.banks)
    clock = time.perf_counter if a.wall else time.process_time
    junk = np.ones(a.evict * (1 << 20) // 8)
    for _, f in names:
        args, saved = captured[f]
        times = {"cold": [], "warm": []}
        for _ in range(a.reps):
            for kind in ("cold", "warm"):
                for x, y in zip(arrays(args, []), saved, strict=True):
                    np.copyto(x, y)
                if kind == "cold":
                    junk += 1.0
                t0 = clock()
                funcs[f](*args)
                times[kind].append(clock() - t0)
        line = f"{f:20s}"
        for kind, t in times.items():
            t = sorted(t)
            line += f" | {kind}: med {1e3 * t[len(t) // 2]:6.2f} min {1e3 * t[0]:6.2f} ms"
        print(line, flush=True)


if __name__ == "__main__":
    main()
