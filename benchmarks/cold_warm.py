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
from kernel_turns import arrays

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

    import sim
    from sim.api import make_model

    names = [k.split(".") for k in a.kernels.split(",")]
    captured: dict[str, tuple] = {}
    month = [0]
    funcs = {}
    for mod, f in names:
        module = importlib.import_module(f"sim.kernels.{mod}")
        funcs[f] = orig = getattr(module, f)

        def wrapped(*args, _f=orig, _n=f):
            if month[0] == a.at and _n not in captured:
                captured[_n] = (args, [x.copy() for x in arrays(args, [])])
            return _f(*args)

        setattr(module, f, wrapped)
    sc = sim.load_scenario(ROOT / "scenarios" / "baseline.toml", firms=a.firms, months=a.at + 2, banks=a.banks)
    m = make_model(sc, "numba")
    for k in range(a.at + 1):
        month[0] = k
        m.step()
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
