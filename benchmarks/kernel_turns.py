"""One kernel's versions from several checkouts, taking turns on the same 1:1 state, in one process.

    python benchmarks/kernel_turns.py --kernels accounting.month_sums,accounting.income \
        --variants main=/tmp/tree-main,mine=.    [--reps 41] [--wall] [--at 4]

The model (this checkout's `sim`) runs to month `--at`; the arguments of each kernel named (module of
sim.kernels, then function) are kept at its first call that month (copies of every array in them).
Each variant's kernel is the function of that name in the variant's file (`<root>/sim/kernels/<module>.py`,
loaded as a module of its own, so a variant needs no more than that file; without it, this
checkout's); rep by rep, each variant in
turn (the order rotating) is called on the restored arguments and timed (CPU time of the process, or
wall time with --wall). The first rep, untimed, checks that every variant leaves the same arrays and
returns the same values as the first, bit for bit.

Prints, per kernel, each variant's median, lower quartile and minimum (ms) and the median of the paired
ratios to the first variant with their quartiles: on a shared machine, turns a few milliseconds apart
see much the same load, where the medians of separate processes swing by a third.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def arrays(x, out: list) -> list:
    """The arrays in x (an array, or tuples of them, nested), in order."""
    if isinstance(x, np.ndarray):
        out.append(x)
    elif isinstance(x, tuple):
        for y in x:
            arrays(y, out)
    return out


def load(root: str, module: str):
    """The variant's module (this checkout's own where the variant has no file of that name)."""
    # numba's cache keeps the module's name with a file's compiled kernels: a name of the file's own
    name = f"sim.kernels._v{hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:10]}_{module}"
    if not (Path(root) / "sim" / "kernels" / f"{module}.py").exists():
        return importlib.import_module(f"sim.kernels.{module}")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(root) / "sim" / "kernels" / f"{module}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def capture(names: list[list[str]], at: int, firms: int, banks: int) -> dict[str, tuple]:
    """Run this checkout's model (the baseline) to month `at` and keep, by function name, each named
    kernel's arguments at its first call that month with copies of every array in them. The kernels are
    wrapped in their modules from here on: take what is to be timed from the modules before."""
    import sim
    from sim.api import make_model

    captured: dict[str, tuple] = {}
    month = [0]
    for mod, f in names:
        module = importlib.import_module(f"sim.kernels.{mod}")
        orig = getattr(module, f)

        def wrapped(*args, _f=orig, _n=f):
            if month[0] == at and _n not in captured:
                captured[_n] = (args, [x.copy() for x in arrays(args, [])])
            return _f(*args)

        setattr(module, f, wrapped)
    sc = sim.load_scenario(ROOT / "scenarios" / "baseline.toml", firms=firms, months=at + 2, banks=banks)
    m = make_model(sc, "numba")
    for k in range(at + 1):
        month[0] = k
        m.step()
    return captured


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", default="accounting.month_sums,accounting.income,market.market_step,"
                                        "production.costs_and_prices,sums.classify_and_weigh")
    ap.add_argument("--variants", required=True, help="tag=checkout root, comma separated")
    ap.add_argument("--at", type=int, default=4)
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--wall", action="store_true")
    ap.add_argument("--firms", type=int, default=378_000)
    ap.add_argument("--banks", type=int, default=4_000)
    a = ap.parse_args()
    import sim  # noqa: F401  (first: sim.threads sets the thread counts and BLAS's before the kernels load)

    names = [k.split(".") for k in a.kernels.split(",")]
    variants = [v.split("=") for v in a.variants.split(",")]
    funcs = {(tag, f): getattr(load(root, mod), f) for tag, root in variants for mod, f in names}
    captured = capture(names, a.at, a.firms, a.banks)
    clock = time.perf_counter if a.wall else time.process_time
    times = {(tag, f): [] for tag, _ in variants for _, f in names}
    first: dict[str, tuple] = {}
    differ = set()
    for rep in range(a.reps + 1):  # rep 0 untimed: the outputs compared
        for _, f in names:
            args, saved = captured[f]
            for tag, _ in variants[rep % len(variants):] + variants[:rep % len(variants)]:
                for x, y in zip(arrays(args, []), saved, strict=True):
                    np.copyto(x, y)
                t0 = clock()
                r = funcs[tag, f](*args)
                dt = clock() - t0
                if rep > 0:
                    times[tag, f].append(dt)
                    continue
                res = r if isinstance(r, tuple) else (r,)
                out = ([x.tobytes() for x in arrays(args, []) + arrays(res, [])],
                       repr([v for v in res if not isinstance(v, np.ndarray)]))
                if f not in first:
                    first[f] = out
                elif out != first[f]:
                    differ.add((tag, f))
    t0 = variants[0][0]
    for _, f in names:
        line = f"{f:20s}"
        for tag, _ in variants:
            t = sorted(times[tag, f])
            line += (f" | {tag}: med {1e3 * t[len(t) // 2]:6.2f} q1 {1e3 * t[len(t) // 4]:6.2f} min {1e3 * t[0]:6.2f}"
                     + (" DIFFERS" if (tag, f) in differ else ""))
        for tag, _ in variants[1:]:
            r = sorted(y / x for x, y in zip(times[t0, f], times[tag, f], strict=True))
            line += f" | {tag}/{t0} {r[len(r) // 2]:.3f} [{r[len(r) // 4]:.3f}, {r[3 * len(r) // 4]:.3f}]"
        print(line, flush=True)


if __name__ == "__main__":
    main()
