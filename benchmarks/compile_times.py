"""What each kernel costs to compile from an empty cache: CPU seconds per kernel of the manifest
(sim/data/kernel_signatures.pkl), numba's compile events timed, and how many specialisations each
kernel and callee is compiled for.

    python benchmarks/compile_times.py                # every manifest kernel, one process
    python benchmarks/compile_times.py --only sim.kernels.exit_entry:exit_books

Runs in a fresh temporary NUMBA_CACHE_DIR (nothing cached, nothing left behind). numba's own start-up
is paid first by compiling a trivial function, so the first kernel does not carry it. A kernel's time
includes the callees compiled inside it (a callee shared by two kernels is compiled in the first);
`self` is a compile event's time less its nested events'. CPU time of the process (time.process_time).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", action="append", help="compile only these kernels ('module:name'), in order")
    ap.add_argument("--top", type=int, default=30)
    a = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="compile-times-")
    os.environ["NUMBA_CACHE_DIR"] = tmp.name

    from numba import njit
    from numba.core import event

    t0 = time.process_time()
    njit(lambda x: x + 1)(1)
    start = time.process_time() - t0

    from sim.compilecache import dispatchers, load_manifest

    man = load_manifest()
    ds = dispatchers()
    inclusive: dict[str, float] = defaultdict(float)
    own: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    stack: list[list[float]] = []  # [start, time of nested events]

    class Listener(event.Listener):
        def on_start(self, ev):
            stack.append([time.process_time(), 0.0])

        def on_end(self, ev):
            t_start, nested = stack.pop()
            dt = time.process_time() - t_start
            d = ev.data.get("dispatcher")
            name = getattr(d, "__qualname__", None) or str(d)
            inclusive[name] += dt
            own[name] += dt - nested
            count[name] += 1
            if stack:
                stack[-1][1] += dt

    event.register("numba:compile", Listener())
    keys = a.only or list(man)
    per_kernel = []
    total = 0.0
    for key in keys:
        t = time.process_time()
        for sig in man[key]:
            ds[key].compile(sig)
        dt = time.process_time() - t
        total += dt
        per_kernel.append((dt, key))
    print(f"numba start-up {start:.2f} s CPU; {len(keys)} kernels compiled in {total:.2f} s CPU")
    print("kernel (manifest order), CPU s (callees compiled inside included):")
    for dt, key in sorted(per_kernel, reverse=True)[:a.top]:
        print(f"  {key:55s} {dt:7.2f}")
    print("compiled functions by own time (less nested compiles), CPU s, specialisations:")
    for name, v in sorted(own.items(), key=lambda kv: -kv[1])[:a.top]:
        print(f"  {name:40s} {v:7.2f}  (incl. {inclusive[name]:6.2f}) x{count[name]}")
    print("kernels compiled for several signatures (the arguments that differ):")
    for key, d in ds.items():
        sigs = list(d.signatures)
        if len(sigs) > 1:
            diff = [j for j in range(len(sigs[0])) if len({str(s[j]) for s in sigs}) > 1]
            kinds = sorted({", ".join(str(s[j])[:40] for j in diff) for s in sigs})
            print(f"  {key} x{len(sigs)}: argument(s) {diff}: {'; '.join(kinds)[:300]}")
    print(f"total {total:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
