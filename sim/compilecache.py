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

COLD_SECONDS = 50.0     # a full compile, measured (README, benchmarks/RESULTS.md)
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


def uncached() -> list[str]:
    """Kernels with no compiled code in the cache for this machine and Python."""
    return [k for k, d in dispatchers().items() if not os.path.exists(d._cache._cache_file._index_path)]


def notice() -> str | None:
    """A line to show before a run that will compile, or None when the cache is warm."""
    missing = uncached()
    if SENTINEL not in missing:
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
    """Compile every kernel by running each shipped scenario small (firms 300, 14 months) and a
    passive-credit variant; returns (kernels compiled now, seconds, kernels still not cached)."""
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
    for i, sc in enumerate(scs):
        api.run(sc, seed=0, quiet=True)
        if progress:
            progress(i + 1, len(scs))
    left = uncached()
    return len(before - set(left)), time.perf_counter() - t0, left
