"""How kernels should take the model's arrays (issue 18): positional arrays, the `FirmState` named
tuple of every firm field (`Firms.bundle()`), or a numba structref holding the same arrays.

Measures, for each way:
  (a) call overhead: the serial build of (b)'s kernel on 100 rows (median of 9 blocks of 2,000 calls),
      with the bundle kept, and built anew for each call;
  (b) a parallel kernel over 437,583 rows (the 1:1 economy) reading 10 fields and writing 4, with
      per-chunk sums by sector as the model's kernels do (median of 25 calls, on numba's threads and
      on one); the ways take turns in one process, so a busy spell of the shared machine hits all;
  (c) compile time of that kernel (first call, no cache), in a fresh process per way;
  (d) the size of its machine code and bitcode (what numba's cache keeps and a process loads);
  and whether a write through a bundle's attribute inside `prange` (`f.out[i] = ...`) is kept.

    python benchmarks/bundles.py            # prints the table
    python benchmarks/bundles.py --rows N   # another size for (b)
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time

import numba
import numpy as np
from numba import njit, prange
from numba.core import types
from numba.experimental import structref

from sim._numba import chunks, rows_of
from sim.state import FIRM_FIELDS, Firms

READ = ("capacity", "pipeline", "orders", "productivity", "energy_intensity", "cash", "loans", "other_assets")
WRITE = ("expected", "plan_expansion", "plan_upgrade", "net_worth")
N_S = 10


def body_positional(alive, sector, capacity, pipeline, orders, productivity, energy_intensity, cash, loans,
                    other_assets, expected, plan_expansion, plan_upgrade, net_worth, table):
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, table.shape[0]))
    for c in prange(nc):
        t = part[c]
        for i in rows_of(c, cs, n):
            if not alive[i]:
                continue
            s = np.uint64(sector[i])
            ex = 0.75 * capacity[i] + 0.25 * orders[i]
            expected[i] = ex
            x = 0.01 * capacity[i] + 0.1 * (ex - capacity[i]) - 0.05 * pipeline[i]
            x = x if x > 0 else 0.0
            plan_expansion[i] = x
            plan_upgrade[i] = capacity[i] * np.log(productivity[i] / energy_intensity[i])
            net_worth[i] = cash[i] + other_assets[i] - loans[i]
            t[s] += x
    table[:] = 0.0
    for c in range(nc):
        table[:] += part[c]


def body_bundle(f, table):
    """The same kernel on a bundle: arrays written in the loop bound to locals before it."""
    expected = f.expected
    plan_expansion = f.plan_expansion
    plan_upgrade = f.plan_upgrade
    net_worth = f.net_worth
    n = f.alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, table.shape[0]))
    for c in prange(nc):
        t = part[c]
        for i in rows_of(c, cs, n):
            if not f.alive[i]:
                continue
            s = np.uint64(f.sector[i])
            ex = 0.75 * f.capacity[i] + 0.25 * f.orders[i]
            expected[i] = ex
            x = 0.01 * f.capacity[i] + 0.1 * (ex - f.capacity[i]) - 0.05 * f.pipeline[i]
            x = x if x > 0 else 0.0
            plan_expansion[i] = x
            plan_upgrade[i] = f.capacity[i] * np.log(f.productivity[i] / f.energy_intensity[i])
            net_worth[i] = f.cash[i] + f.other_assets[i] - f.loans[i]
            t[s] += x
    table[:] = 0.0
    for c in range(nc):
        table[:] += part[c]


def body_write_through(f):
    """The trap: a write through the bundle's attribute inside prange."""
    n = f.alive.shape[0]
    nc, cs = chunks(n)
    for c in prange(nc):
        for i in rows_of(c, cs, n):
            f.net_worth[i] = 1.0


# a structref with the same fields
@structref.register
class FirmRefType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class FirmRef(structref.StructRefProxy):
    pass


structref.define_proxy(FirmRef, FirmRefType, list(FIRM_FIELDS))


def make_kernel(way: str, parallel: bool):
    deco = njit(cache=False, fastmath=False, parallel=parallel, nogil=True, error_model="numpy")
    return deco(body_positional if way == "positional" else body_bundle)


def args_for(way: str, F: Firms, table: np.ndarray, ref=None):
    if way == "positional":
        return (F.alive, F.sector) + tuple(getattr(F, n) for n in READ[:6]) + (F.loans, F.other_assets) + tuple(
            getattr(F, n) for n in WRITE) + (table,)
    if way == "named tuple":
        return F.bundle(), table
    return ref, table


def filled(n: int) -> Firms:
    F = Firms(n)
    g = np.random.default_rng(1)
    F.alive[:] = g.random(n) < 0.9
    F.sector[:] = g.integers(0, N_S, n)
    for name in READ + WRITE:
        getattr(F, name)[:] = g.random(n) + 0.5
    return F


WAYS = ("positional", "named tuple", "structref")


def compile_time(way: str) -> tuple[float, int, int]:
    """First call of the parallel kernel, compile included (run in a fresh process per way), and
    the size of its machine code and of its bitcode (what numba's cache stores), bytes."""
    small = filled(100)
    t0 = time.perf_counter()
    ref = FirmRef(*small.bundle()) if way == "structref" else None
    kern = make_kernel(way, parallel=True)
    kern(*args_for(way, small, np.zeros(N_S), ref))
    seconds = time.perf_counter() - t0
    _, _, (obj, bitcode) = next(iter(kern.overloads.values())).library.serialize_using_object_code()
    return seconds, len(obj), len(bitcode)


def measure(rows: int) -> dict[str, dict[str, float]]:
    """(a) and (b) for every way in one process, the ways taking turns (the machine is shared: a
    busy spell then hits every way alike)."""
    table = np.zeros(N_S)
    small, big = filled(100), filled(rows)
    refs = {way: (FirmRef(*small.bundle()), FirmRef(*big.bundle())) if way == "structref" else (None, None)
            for way in WAYS}
    serial = {way: make_kernel(way, parallel=False) for way in WAYS}
    par = {way: make_kernel(way, parallel=True) for way in WAYS}
    out: dict[str, dict[str, list]] = {way: {"call": [], "build_call": [], "big2": [], "big1": []} for way in WAYS}
    for way in WAYS:  # compile
        serial[way](*args_for(way, small, table, refs[way][0]))
        par[way](*args_for(way, big, table, refs[way][1]))
    calls = 2000
    for _ in range(9):
        for way in WAYS:
            args = args_for(way, small, table, refs[way][0])
            t0 = time.perf_counter()
            for _ in range(calls):
                serial[way](*args)
            out[way]["call"].append((time.perf_counter() - t0) / calls * 1e6)
            t0 = time.perf_counter()
            for _ in range(calls // 4):  # the bundle built anew each call (a caller that does not keep it)
                if way == "named tuple":
                    small._bundle = None
                    serial[way](small.bundle(), table)
                elif way == "structref":
                    serial[way](FirmRef(*small.bundle()), table)
                else:
                    serial[way](*args_for(way, small, table))
            out[way]["build_call"].append((time.perf_counter() - t0) / (calls // 4) * 1e6)
    checks = set()
    for threads, key in ((numba.get_num_threads(), "big2"), (1, "big1")):
        numba.set_num_threads(threads)
        for _ in range(25):
            for way in WAYS:
                args = args_for(way, big, table, refs[way][1])
                t0 = time.perf_counter()
                par[way](*args)
                out[way][key].append((time.perf_counter() - t0) * 1e3)
                checks.add(float(big.plan_expansion.sum() + big.net_worth.sum() + table.sum()))
    res = {way: {k: float(np.median(v)) for k, v in d.items()} | {k + "_min": float(min(v)) for k, v in d.items()}
           for way, d in out.items()}
    res["same"] = len(checks) == 1  # the kernel gives the same state at every call: every way alike
    return res


def write_kept(way: str, rows: int) -> bool:
    F = Firms(rows)
    F.alive[:] = True
    f = F.bundle() if way == "named tuple" else FirmRef(*F.bundle())
    njit(parallel=True)(body_write_through)(f)
    return bool(np.all(F.net_worth == 1.0))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=437_583)
    ap.add_argument("--way", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.way:
        print(*compile_time(a.way))
        return
    threads = numba.get_num_threads()
    print(f"machine: nproc {os.cpu_count()}, {platform.processor() or platform.machine()}; Python "
          f"{platform.python_version()}, numba {numba.__version__}, numpy {np.__version__}; numba threads "
          f"{threads}; {a.rows:,} rows for (b)")
    comp = {way: [float(x) for x in subprocess.run([sys.executable, __file__, "--way", way], check=True,
                                                   capture_output=True, text=True).stdout.split()] for way in WAYS}
    r = measure(a.rows)
    print(f"| way | (a) call, 100 rows (us) | (a') call incl. building the bundle (us) | (b) parallel kernel, "
          f"{threads} threads, median (min) (ms) | (b') the same on 1 thread (ms) | (c) first call incl. compile (s) | "
          f"(d) machine code, bitcode (KB) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for way in WAYS:
        x = r[way]
        print(f"| {way} | {x['call']:.1f} | {x['build_call']:.1f} | {x['big2']:.2f} ({x['big2_min']:.2f}) | "
              f"{x['big1']:.2f} ({x['big1_min']:.2f}) | {comp[way][0]:.2f} | {comp[way][1] / 1024:.0f}, "
              f"{comp[way][2] / 1024:.0f} |")
    print(f"same results every way: {r['same']}")
    for way in ("named tuple", "structref"):
        print(f"{way}: a write through the bundle's attribute inside prange (`f.net_worth[i] = 1.0`) kept on "
              f"{a.rows:,} rows: {write_kept(way, a.rows)}")


if __name__ == "__main__":
    main()
