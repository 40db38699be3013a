"""numba's on-disk cache of compiled kernels: is it warm, say so when it is not, and fill it.

The kernels are compiled for this machine the first time they run (about 50 s on the 2-core
reference machine, benchmarks/RESULTS.md) and cached next to their source files (or under
$NUMBA_CACHE_DIR: on a cluster, point every job at one shared, writable folder and run
`sim warmup` once). A run whose main kernels are not cached says so before it starts, on the
terminal and in notebooks, so a first run does not look hung.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path

COLD_SECONDS = 120.0    # a full compile on 2 cores, measured (README): 2m55s at 47a0b0d, cut by about a quarter since
SENTINEL = "sim.kernels.accounting:income"  # run every month of every run: cached iff a run has compiled


def dispatchers() -> dict[str, object]:
    """Every cacheable numba kernel of the engine, by 'module:name'."""
    from numba.core.registry import CPUDispatcher

    from . import _numba, kernels, rng

    mods = [importlib.import_module(f"{kernels.__name__}.{m.name}") for m in pkgutil.iter_modules(kernels.__path__)]
    out = {}
    for mod in [*mods, rng, _numba]:
        for name, obj in vars(mod).items():
            if (isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == mod.__name__
                    and hasattr(obj._cache, "_cache_file")):  # inline helpers have no cache of their own
                out[f"{mod.__name__}:{name}"] = obj
    return out


def engine_kernels() -> set[str]:
    """The kernels the engines call (named in sim's modules outside sim/kernels/, the Mesa reference
    included); the others are compiled as part of their callers or kept for tests (such as
    credit_allocation.allocate_credit, the plain version of the allocation the tests check
    allocate_credit_drawn against)."""
    import re

    root = Path(__file__).resolve().parent
    text = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py")
                     if "kernels" not in p.relative_to(root).parts and p.name != "compilecache.py")
    return {k for k in dispatchers() if re.search(rf"\b{re.escape(k.split(':')[1])}\(", text)}


def uncached() -> list[str]:
    """Kernels with no compiled code in the cache for this machine and Python."""
    return [k for k, d in dispatchers().items() if not os.path.exists(d._cache._cache_file._index_path)]


_WARM: list[bool] = []  # once the cache is warm it stays so for this process: not checked again each run


def notice() -> str | None:
    """A line to show before a run that will compile, or None when the cache is warm."""
    if _WARM:
        return None
    missing = uncached()
    if SENTINEL not in missing:
        _WARM.append(True)
        return None
    est = COLD_SECONDS * len(missing) / max(len(dispatchers()), 1)
    return (f"compiling {len(missing)} kernels for this machine (first run only, about {est:.0f} s on 2 cores; "
            "cached for later runs; `sim warmup` compiles them all ahead)")


def say_if_cold(quiet: bool = False) -> None:
    if quiet:
        return
    msg = notice()
    if msg:
        print(msg, file=sys.stderr, flush=True)


def warmup(progress=None) -> tuple[int, float, list[str]]:
    """Compile every kernel the engines call by running each shipped scenario small (firms 300, 14
    months), a passive-credit and a closed-economy variant and the Mesa reference briefly; returns
    (kernels compiled now, seconds, engine kernels still not cached: none, unless a rule of the
    engine went unused)."""
    from . import api
    from .scenario import load_scenario

    before = set(uncached())
    t0 = time.perf_counter()
    folder = Path(__file__).resolve().parents[1] / "scenarios"
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    scs = [load_scenario(f, firms=300, months=14) for f in files]
    if not scs:  # an installed package without the scenarios folder: the defaults
        from .scenario import Scenario
        from .scenario.load import sector_defaults

        scs = [Scenario.model_validate({"sectors": sector_defaults(), "run": {"firms": 300, "months": 14}})]
    passive = scs[0].model_copy(deep=True)
    passive.banking.market = "passive"
    scs.append(passive)
    closed = scs[0].model_copy(deep=True)  # the closed economy's kernels (kernels.payout, sums.sector_sums)
    closed.economy.closure = "closed"
    scs.append(closed)
    if files:  # a cap that binds at once: capacity under construction is scaled down (sums.scale_pipeline)
        scs.append(load_scenario(files[0], firms=300, months=6, **{"schedule.2019-03.capacity_cap.steel": 1.0}))
    jobs = [(sc, "numba") for sc in scs] + [(scs[0].model_copy(update={"run": scs[0].run.model_copy(
        update={"firms": 200, "months": 2, "banks": 5})}), "reference")]  # the reference's own kernel calls
    for i, (sc, engine) in enumerate(jobs):
        api.run(sc, seed=0, quiet=True, engine=engine)
        if progress:
            progress(i + 1, len(jobs))
    left = [k for k in uncached() if k in engine_kernels()]
    return len(before - set(uncached())), time.perf_counter() - t0, left
