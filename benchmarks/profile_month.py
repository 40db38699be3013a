"""Where a 1:1 month goes: ms per month of every compiled kernel called from Python, and of the
model's Python phases (cProfile, inclusive), at 1:1 (378,000 firms, 4,000 banks).

    python benchmarks/profile_month.py                    # 15 months, months 3-14 profiled
    python benchmarks/profile_month.py --months 15 --skip 3 --top 40

Times are CPU times of the process (time.process_time: the machine is shared, and wall times swing
with the others' load; run with SIM_THREADS=1). The first `--skip` months (first calls, compilation)
run as they are, with numba's compile events timed per kernel (callees compiled inside a kernel
counted in it too): with an empty NUMBA_CACHE_DIR, what each kernel costs to compile. Then each
numba dispatcher is wrapped where Python code calls it (the module attributes of sim's modules) and
timed; calls between kernels inside compiled code are part of their caller.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--months", type=int, default=15)
    ap.add_argument("--skip", type=int, default=3)
    ap.add_argument("--firms", type=int, default=378_000)
    ap.add_argument("--banks", type=int, default=4_000)
    ap.add_argument("--top", type=int, default=45)
    ap.add_argument("--wall", action="store_true",
                    help="time the kernels by the wall clock (to compare thread counts) instead of CPU time")
    a = ap.parse_args()

    import sim
    from sim.api import make_model
    from sim.compilecache import dispatchers

    times: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    from numba.core import event

    compiled: dict[str, float] = defaultdict(float)
    outer = [0.0]
    depth = [0]
    starts = []

    class Listener(event.Listener):
        def on_start(self, ev):
            starts.append(time.process_time())
            depth[0] += 1

        def on_end(self, ev):
            dt = time.process_time() - starts.pop()
            depth[0] -= 1
            name = getattr(ev.data.get("dispatcher"), "__qualname__", None) or str(ev.data.get("dispatcher"))
            key = f"{name} {ev.data.get('args')}"[:40] if False else name
            compiled[key] += dt
            if depth[0] == 0:
                outer[0] += dt

    event.register("numba:compile", Listener())
    t0 = time.perf_counter()
    sc = sim.load_scenario(ROOT / "scenarios" / "baseline.toml", firms=a.firms, months=a.months, banks=a.banks)
    m = make_model(sc, "numba")
    for _ in range(a.skip):
        m.step()
    print(f"set-up and first {a.skip} months: {time.perf_counter() - t0:.1f} s")
    print("compilation of each kernel (numba:compile events, callees compiled inside included), CPU s:")
    for k, v in sorted(compiled.items(), key=lambda kv: -kv[1])[:40]:
        print(f"  {k:40s} {v:7.2f}")
    print(f"  {'all (outermost events)':40s} {outer[0]:7.2f}")
    clock = time.perf_counter if a.wall else time.process_time
    disp = {id(d): k.split(":")[1] for k, d in dispatchers().items()}
    for name, mod in list(sys.modules.items()):
        if not name.startswith("sim") or mod is None:
            continue
        for attr, obj in list(vars(mod).items()):
            if id(obj) in disp:
                label = disp[id(obj)]

                def wrapped(*args, _f=obj, _l=label, _clock=clock, **kw):
                    t0 = _clock()
                    r = _f(*args, **kw)
                    dt = _clock() - t0
                    times[_l] += dt
                    calls[_l] += 1
                    return r

                setattr(mod, attr, wrapped)

    times.clear()
    calls.clear()
    n = a.months - a.skip
    prof = cProfile.Profile(time.process_time)
    steps, cpu = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        prof.enable()
        m.step()
        prof.disable()
        steps.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(f"month (profiled, median of {n}): wall {1e3 * sorted(steps)[n // 2]:.1f} ms,"
          f" CPU {1e3 * sorted(cpu)[n // 2]:.1f} ms;"
          f" mean wall {1e3 * sum(steps) / n:.1f} ms, CPU {1e3 * sum(cpu) / n:.1f} ms; rows {m.firms.n_rows},"
          f" live {int(m.firms.alive.sum())}")
    print(f"\nkernels, {'wall' if a.wall else 'CPU'} ms per month (calls per month):")
    for k, v in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"  {k:32s} {1e3 * v / n:7.2f}  ({calls[k] / n:.0f})")
    print(f"  {'all kernels':32s} {1e3 * sum(times.values()) / n:7.2f}")
    st = pstats.Stats(prof)
    rows = []
    for (fn, _line, func), (_cc, _nc, tt, ct, _callers) in st.stats.items():
        if "sim" in fn and "wrapped" not in func:
            rows.append((ct, tt, f"{Path(fn).parent.name}/{Path(fn).name}:{func}"))
    print("\nPython functions of sim, inclusive (own) CPU ms per month:")
    for ct, tt, label in sorted(rows, reverse=True)[: a.top]:
        print(f"  {label:60s} {1e3 * ct / n:7.2f} ({1e3 * tt / n:6.2f})")


if __name__ == "__main__":
    main()
