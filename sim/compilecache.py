"""numba's on-disk cache of compiled kernels: is it warm, say so when it is not, and fill it.

The kernels are compiled for this machine the first time they run (about 100 s of CPU on the
2-core reference machine, benchmarks/RESULTS.md) and cached next to their source files (or under
$NUMBA_CACHE_DIR: on a cluster, point every job at one shared, writable folder and run
`sim warmup` once). A run whose main kernels are not cached says so before it starts, on the
terminal and in notebooks, so a first run does not look hung.

A cold run, and `sim warmup`, compile the kernels in parallel processes, one kernel per task, from
the signatures the engines call them with (`MANIFEST`, written by `python -m sim.compilecache
--write-manifest` and checked against a run by the tests): on n cores the compile takes about 1/n of
the time, down to the largest kernel's; one cold start at a time (`prepare`). A cold run compiles so
the kernels the baseline scenario's run calls; what it calls beyond them, and what the manifest
misses, compiles in the run, as it first calls it. `benchmarks/compile_times.py` measures each
kernel's compile. A warm run loads its kernels from the cache in a
background thread during the set-up (`preload`).
"""

from __future__ import annotations

import importlib
import os
import pickle
import pkgutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A cold first run's seconds with j compiling processes, about COLD_FIXED + COLD_SPLIT / j: a 2,000-firm
# year took 75 s compiling in the run and 49 s in two processes on the 2-core reference machine
# (benchmarks/RESULTS.md, "Session 17"); the fixed part is each worker's start, the largest kernel and
# what the run compiles itself.
COLD_FIXED, COLD_SPLIT = 23.0, 52.0
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
    # (not a method of the same name: the reference's FirmAgent.overtime_output is its own Python)
    return {k for k in dispatchers()
            if re.search(rf"(?<!self\.)(?<!def )\b{re.escape(k.split(':')[1])}\(", text)}


def uncached() -> list[str]:
    """Kernels with no compiled code in the cache for this machine and Python."""
    return [k for k, d in dispatchers().items() if not os.path.exists(d._cache._cache_file._index_path)]


# every engine kernel's signatures (numba types, pickled), as the warm-up's runs call them
MANIFEST = Path(__file__).resolve().parent / "data" / "kernel_signatures.pkl"
# the largest kernels' cold compile, CPU s (benchmarks/compile_times.py, benchmarks/RESULTS.md, branch
# `compile`); the others take about a second: the workers' shares are balanced with them (`_partition`)
COMPILE_CPU = {"sim.kernels.exit_entry:exit_books": 12.0, "sim.kernels.accounting:month_sums": 7.5,
               "sim.kernels.credit_allocation:allocate_credit_drawn": 6.8, "sim.kernels.market:market_step": 5.5,
               "sim.kernels.accounting:income": 5.0, "sim.kernels.credit_allocation:serving_table": 4.7,
               "sim.kernels.credit:repay_and_apply": 4.5, "sim.kernels.sums:classify_and_weigh": 4.5,
               "sim.kernels.investment:execute_investment": 3.5, "sim.kernels.exit_entry:exit_decisions": 3.2,
               "sim.kernels.exit_entry:forced_closures": 3.9, "sim.kernels.sums:sector_sums": 3.2}


def signatures() -> dict[str, list]:
    """The signatures each kernel has been compiled or loaded for in this process."""
    return {k: list(d.signatures) for k, d in dispatchers().items() if d.signatures}


def write_manifest(path: Path = MANIFEST) -> int:
    """Run the warm-up's jobs (compiling what is not cached) and write every kernel's signatures to
    `path`, in the order the runs first call them, then the list of those the first run (the baseline
    scenario) calls (`preload_keys`: what `preload` loads, in that order); returns the number of kernels."""
    from numba.core.registry import CPUDispatcher

    first: dict[int, int] = {}  # the order the warm-up's runs first load (or compile) each kernel in
    add = CPUDispatcher.add_overload

    def recording(self, cres):
        first.setdefault(id(self), len(first))
        return add(self, cres)

    CPUDispatcher.add_overload = recording
    os.environ["SIM_PRELOAD"] = "0"  # (the runs' own order, not the preloading thread's)
    in_first: list[int] = []  # how many kernels the first run (the baseline scenario) loaded

    def progress(done, _total):
        if done == 1:
            in_first.append(len(first))

    try:
        warmup(progress)
    finally:
        del CPUDispatcher.add_overload  # numba's own, from the base class, again
        os.environ.pop("SIM_PRELOAD")
    ds = dispatchers()
    man = dict(sorted(signatures().items(), key=lambda kv: first.get(id(ds[kv[0]]), len(first))))
    baseline = [k for k in man if first.get(id(ds[k]), len(first)) < (in_first or [len(first)])[0]]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(pickle.dumps(man, protocol=4) + pickle.dumps(baseline, protocol=4))
    tmp.replace(path)
    return len(man)


def preload_keys(path: Path = MANIFEST) -> list[str]:
    """The kernels the baseline scenario's run loads, in the order it first calls them (written after
    the signatures in the manifest file; `preload` loads these)."""
    import io

    try:
        f = io.BytesIO(path.read_bytes())
        pickle.load(f)
        return list(pickle.load(f))
    except Exception:  # noqa: BLE001 (an older file: no preloading)
        return []


def load_manifest(path: Path = MANIFEST) -> dict[str, list]:
    """The shipped signatures, or nothing if the file is missing or was written by another numba."""
    try:
        return pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 (any failure to read it only means compiling as the runs go)
        return {}


def _compile_worker(keys: list[str]) -> dict[str, str]:
    """In a worker process (its own $NUMBA_CACHE_DIR): compile (and cache) the kernels `keys` for their
    manifest signatures; returns, for every kernel cached on the way (callees too), the folder its
    files are in."""
    man = load_manifest()
    ds = dispatchers()
    for key in keys:
        for sig in man.get(key, []):
            try:
                ds[key].compile(sig)
            except Exception:  # noqa: BLE001 (a stale signature: the runs compile what they call)
                pass
    return {k: d._cache._cache_path for k, d in ds.items() if os.path.exists(d._cache._cache_file._index_path)}


def _partition(keys: list[str], jobs: int) -> list[list[str]]:
    """The kernels dealt to `jobs` workers, the largest first (COMPILE_CPU; the others a second each),
    each to the worker with the least compiling so far, so that no worker is left with much more."""
    parts: list[list[str]] = [[] for _ in range(jobs)]
    load = [0.0] * jobs
    for k in sorted(keys, key=lambda k: (-COMPILE_CPU.get(k, 1.0), k)):
        j = load.index(min(load))
        parts[j].append(k)
        load[j] += COMPILE_CPU.get(k, 1.0)
    return [p for p in parts if p]


def compile_in_processes(jobs: int, keys: list[str] | None = None) -> list[str]:
    """Compile the uncached kernels of the manifest (those of `keys` only, if given) in `jobs`
    processes and move their code into this process's cache; returns the kernels whose code was moved in.

    Each worker compiles into a folder of its own: processes writing one function's cache files at
    once can leave an index that points at another process's code (numba issue 4807), and two
    kernels compiled in different workers may share a callee. Once a worker is done, each kernel's
    files (its index and code, written by that one process) replace this cache's, a file at a time
    through a temporary name."""
    import json
    import shutil
    import subprocess
    import tempfile

    todo = [k for k in uncached() if k in load_manifest() and (keys is None or k in keys)]
    if not todo:
        return []
    ds = dispatchers()
    moved: list[str] = []
    parts = _partition(todo, max(1, jobs))
    with tempfile.TemporaryDirectory(prefix="sim-compile-") as tmp:
        procs = []
        for j, keys in enumerate(parts):
            env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(tmp, f"w{j}"))
            code = ("import json, sys\nfrom sim.compilecache import _compile_worker\n"
                    "print(json.dumps(_compile_worker(json.loads(sys.argv[1]))))")
            procs.append(subprocess.Popen([sys.executable, "-c", code, json.dumps(keys)], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
        for proc in procs:
            out, _ = proc.communicate()
            if proc.returncode:
                continue  # a worker that failed leaves its kernels to the runs
            for key, folder in json.loads(out.strip().splitlines()[-1]).items():
                if key in moved or key not in ds:
                    continue
                cache = ds[key]._cache
                stem = cache._cache_file._index_name[: -len(".nbi")]
                os.makedirs(cache._cache_path, exist_ok=True)
                code = [n for n in sorted(os.listdir(folder)) if n.startswith(stem + ".") and n != stem + ".nbi"]
                for name in [*code, stem + ".nbi"]:  # code first, the index last
                    tmp_dest = os.path.join(cache._cache_path, name + ".tmp")
                    shutil.copyfile(os.path.join(folder, name), tmp_dest)
                    os.replace(tmp_dest, os.path.join(cache._cache_path, name))
                moved.append(key)
    return moved


def load_cached(key: str, sig, ds: dict[str, object] | None = None) -> bool:
    """Load kernel `key`'s code for `sig` from the cache if it is there, never compiling (what
    `Dispatcher.compile` does on a cache hit, under numba's compiler lock: a run that calls the kernel
    meanwhile waits for the lock and then finds it loaded); True if it is loaded now."""
    from numba.core import sigutils
    from numba.core.compiler_lock import global_compiler_lock

    d = (ds or dispatchers())[key]
    with global_compiler_lock:
        args, _ = sigutils.normalize_signature(sig)
        if d.overloads.get(tuple(args)) is not None:
            return True
        cres = d._cache.load_overload(sig, d.targetctx)
        if cres is None:
            return False
        d._cache_hits[sig] += 1
        if not cres.objectmode:
            d.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
        d.add_overload(cres)
        return True


_PRELOADED: list[bool] = []  # once per process: a kernel once loaded stays loaded


def preload(stop=lambda: False) -> threading.Thread | None:
    """Start loading the baseline run's cached kernels (`preload_keys`) in a background thread, in the
    order a run first calls them, while the set-up's numpy work runs: numba's one-off start-up and
    the code of ~45 kernels take ~0.4 s of a warm run, on the other core here (-0.2 s wall at 1:1 on
    2 cores when one is idle, a small loss when none is: benchmarks/RESULTS.md, branch `load2`).
    Nothing is compiled (`load_cached`), so results and the cache do not change; a kernel not cached
    is compiled by the run, as before. Not a daemon thread: the interpreter waits for it rather than
    stopping it inside LLVM. It stops early once `stop()` is true (the run past its first month).
    Other scenarios' kernels (the capacity rules', ~5 MB of code for all of them) are loaded by the
    runs that call them, as before. Only where the run has two threads or more: a run the thread policy
    gives one (a busy machine, a sweep worker) has no idle core for it, and there the loading thread
    competed with the set-up (+50-80 ms). `SIM_PRELOAD=0` turns it off."""
    import numba

    if _PRELOADED or os.environ.get("SIM_PRELOAD", "1") == "0" or numba.get_num_threads() < 2:
        return None  # (one thread: the thread policy found no idle core, or a sweep worker's share is one)
    man = load_manifest()
    man = {k: man[k] for k in preload_keys() if k in man}
    if not man:
        return None

    def load() -> None:
        ds = dispatchers()
        for key, sigs in man.items():
            if stop():
                return
            for sig in sigs:
                try:
                    if key in ds and not load_cached(key, sig, ds):
                        break
                except Exception:  # noqa: BLE001 (a stale entry: the run compiles what it calls)
                    break
        _PRELOADED.append(True)

    thread = threading.Thread(target=load, name="sim-preload")
    thread.start()
    return thread


_WARM: list[bool] = []  # once the cache is warm it stays so for this process: not checked again each run


MAX_COMPILE_JOBS = 8  # a compiling process holds a few hundred MB; past ~8 the largest kernel sets the time


def compile_jobs() -> int:
    """Processes a cold run compiles in: $SIM_COMPILE_JOBS, else the cores this process may use (at
    most MAX_COMPILE_JOBS)."""
    from .threads import available_cores

    env = os.environ.get("SIM_COMPILE_JOBS", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else min(available_cores(), MAX_COMPILE_JOBS)


def notice() -> str | None:
    """A line to show before a run that will compile, or None when the cache is warm."""
    if _WARM:
        return None
    missing = uncached()
    if SENTINEL not in missing:
        _WARM.append(True)
        return None
    jobs = compile_jobs()
    est = (COLD_FIXED + COLD_SPLIT / jobs) * len(missing) / max(len(dispatchers()), 1)
    how = f"in {jobs} processes" if jobs > 1 else "in this process"
    return (f"compiling {len(missing)} kernels for this machine {how} (first run only, about {est:.0f} s; "
            "cached for later runs; `sim warmup` fills the cache ahead)")


def prepare(quiet: bool = False) -> None:
    """Before a run of the numba engine: when its main kernels are not cached, say so and compile the
    kernels the baseline scenario's run calls (`preload_keys`, 44 of the manifest's 52) in one process
    per core this process may use (`compile_in_processes`) rather than one after another as the run
    first calls them; the run then loads them from the cache. The others (the closed economy's sums,
    forced closures, the capacity caps' and bans' rescaling: ~10 s of CPU a baseline run never uses)
    compile in the run that first calls them; `sim warmup` compiles them all.

    One cold start compiles at a time: the compile holds a lock file in the cache folder, and a run
    that starts cold meanwhile (another notebook, an xdist or Dask worker) waits for it and then finds
    the kernels cached. `SIM_COMPILE_JOBS=1` compiles in the run itself, as before."""
    msg = notice()
    if msg is None:
        return
    if not quiet:
        print(msg, file=sys.stderr, flush=True)
    jobs = compile_jobs()
    if jobs < 2:
        return
    with _compile_lock():
        if SENTINEL in uncached():
            compile_in_processes(jobs, preload_keys() or None)


@contextmanager
def _compile_lock() -> Iterator[None]:
    """An exclusive lock on `sim-compile.lock` in the cache folder of the kernels (none where that
    folder cannot be written: numba then compiles into its fallback cache, and runs may compile side
    by side as they did)."""
    import fcntl

    folder = dispatchers()[SENTINEL]._cache._cache_path
    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(os.path.join(folder, "sim-compile.lock"), os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def warmup(progress=None, jobs: int = 1) -> tuple[int, float, list[str]]:
    """Compile every kernel the engines call: with `jobs` > 1 first those of the manifest in that
    many processes (`compile_in_processes`), then by running each shipped scenario small (firms 300,
    14 months), a passive-credit and a closed-economy variant and the Mesa reference briefly (which
    compiles whatever the manifest missed); returns (kernels compiled now, seconds, engine kernels
    still not cached: none, unless a rule of the engine went unused)."""
    from . import api
    from .scenario import load_scenario

    before = set(uncached())
    t0 = time.perf_counter()
    if jobs > 1:
        compile_in_processes(jobs)
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
    if files:  # a cap that binds at once: capacity under construction is scaled down (sums.scale_pipeline);
        # a ban that starts during the run halts the projects under way (sums.halt_projects)
        rules = {"schedule.2019-03.capacity_cap.steel": 1.0, "schedule.2019-03.ban_new_capacity.chemicals": True}
        scs.append(load_scenario(files[0], firms=300, months=6, **rules))
    jobs = [(sc, "numba") for sc in scs] + [(scs[0].model_copy(update={"run": scs[0].run.model_copy(
        update={"firms": 200, "months": 2, "banks": 5})}), "reference")]  # the reference's own kernel calls
    for i, (sc, engine) in enumerate(jobs):
        api.run(sc, seed=0, quiet=True, engine=engine)
        if progress:
            progress(i + 1, len(jobs))
    left = [k for k in uncached() if k in engine_kernels()]
    return len(before - set(uncached())), time.perf_counter() - t0, left


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-manifest"]:
        print(f"{write_manifest()} kernels' signatures written to {MANIFEST}")
    else:
        sys.exit("usage: python -m sim.compilecache --write-manifest")
