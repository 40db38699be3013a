"""Thread policy in one place: how many threads the kernels use.

- Never more threads than the cores this process is given: its CPU affinity (what `taskset`,
  SLURM and Dask workers set) and its cgroup CPU quota (containers), not the machine's core count,
  which numba would use. `SIM_THREADS`, `--threads N` or `sim.run(..., threads=N)` ask for a number.
- Unless a number is asked for, a run uses the cores that are idle when it starts (measured over
  50 ms from /proc/stat, at least one). numba's OpenMP threads wait for each other at the end of
  every parallel loop, spinning; on a machine whose cores other processes keep busy, a thread
  that waits for a descheduled partner spins away the time its partner needs. Measured on the
  2-core machine with two other CPU-bound processes (20,000 firms, months 3-24): two threads
  13-211 ms a month (spinning, GOMP's default), 12-26 ms (OMP_WAIT_POLICY=PASSIVE), one thread
  5.4-9 ms; on the quiet machine two threads take about 2.5 ms. Passive waiting is no cure: it
  costs the quiet 1:1 month +20-50% (45 -> 62-75 ms in the same session), so the wait policy is
  left as it is and a busy machine gets fewer threads instead.

`configure()` runs when `sim` is imported, before numba starts its threads (it reads
NUMBA_NUM_THREADS once); each run then sets its count with `numba.set_num_threads` (`using`).
Sweep workers get one thread through their spawn environment (`worker_env`) and per task. A model
whose firm rows fit in one chunk steps on one thread whatever it was given (`one_thread_while_one_chunk`).
Results do not depend on the thread count (tests/test_engine.py).

BLAS (OpenBLAS, MKL: numpy's `@` and `np.dot`) runs on one thread (`limit_blas`): the engine's BLAS
calls are small (ten-sector matrices, sums over a month's estates), and OpenBLAS splits a dot of more
than 10,000 values between threads, whose workers then spin after the call. At 1:1 the estates in the
court procedure pass 10,000 in the ninth year: with one kernel thread asked for, the process used 1.8
cores from then on (CPU 236-273 ms a month against 136-164 wall), and the split changed the records'
last digits with the machine's core count.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENV = "SIM_THREADS"


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota if any."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        n = min(n, max(1, math.ceil(quota)))
    return max(1, n)


def _cgroup_quota() -> float | None:
    """CPUs allowed by the cgroup (v2 cpu.max, or v1 cfs quota/period); None if unlimited or unknown."""
    try:
        text = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if text and text[0] != "max":
            return int(text[0]) / int(text[1])
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        q = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        p = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return q / p if q > 0 and p > 0 else None
    except (OSError, ValueError):
        return None


def requested(threads: int | None = None) -> int:
    """Threads to use: `threads`, else $SIM_THREADS, else every available core; never more than
    the available cores, never fewer than one."""
    if threads is None:
        env = os.environ.get(ENV, "").strip()
        threads = int(env) if env.isdigit() else None
    cores = available_cores()
    return cores if threads is None else max(1, min(int(threads), cores))


def idle_cores(interval: float = 0.05) -> float | None:
    """Cores of this machine idle over `interval` seconds (None where /proc/stat is not readable)."""
    def sample():
        with open("/proc/stat") as f:
            parts = [int(x) for x in f.readline().split()[1:]]
        return parts[3] + parts[4], sum(parts[:8])  # idle + iowait, all but guest time

    try:
        i0, t0 = sample()
        time.sleep(interval)
        i1, t1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    if t1 <= t0:
        return None
    return (i1 - i0) / (t1 - t0) * (os.cpu_count() or 1)


_CHOICE: list[float] = []   # [when, threads]: one measurement serves the runs of the next seconds
CHOICE_SECONDS = 5.0


def choose(threads: int | None = None) -> int:
    """Threads for a run: the number asked for (argument or $SIM_THREADS) within the cores given, else
    the cores given that are idle now (at least one)."""
    if threads is not None or os.environ.get(ENV, "").strip().isdigit():
        return requested(threads)
    cores = available_cores()
    if cores == 1:
        return 1
    now = time.monotonic()
    if _CHOICE and now - _CHOICE[0] < CHOICE_SECONDS:
        return int(_CHOICE[1])
    idle = idle_cores()
    n = cores if idle is None else max(1, min(cores, int(idle + 0.5)))
    _CHOICE[:] = [now, n]
    return n


BLAS_ENV = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def worker_env(threads: int = 1) -> dict[str, str]:
    """Environment for a process that will import sim (a sweep worker): set before it starts."""
    n = str(requested(threads))
    return {ENV: n, "NUMBA_NUM_THREADS": n, "OMP_NUM_THREADS": "1", **dict.fromkeys(BLAS_ENV, "1")}


def limit_blas() -> None:
    """BLAS on one thread, unless the user set its thread count: for libraries not loaded yet through
    their environment variables, for numpy's, if loaded already, through threadpoolctl."""
    import sys

    user = any(os.environ.get(v, "").strip() for v in BLAS_ENV)
    for v in BLAS_ENV:
        os.environ.setdefault(v, "1")
    if user or "numpy" not in sys.modules:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an environment without it: BLAS keeps its threads
        return
    threadpool_limits(1, user_api="blas")


def configure(threads: int | None = None) -> int:
    """Apply the policy for this process (and thread); returns the thread count the kernels use."""
    import sys

    limit_blas()
    n = requested(threads)
    if "numba" not in sys.modules:
        user = os.environ.get("NUMBA_NUM_THREADS", "").strip()
        os.environ["NUMBA_NUM_THREADS"] = str(min(n, int(user)) if user.isdigit() and int(user) > 0 else n)
        return n
    import numba

    _numba_reads_env()
    n = min(n, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    return n


def _numba_reads_env() -> None:
    """numba read NUMBA_NUM_THREADS when it loaded, and reads it again whenever it compiles, failing if the
    value differs from the size of a pool already started. A sweep worker spawned from `python -m sim.cli`
    imports sim (and numba, with the driver's count) as its main module before its nanny's spawn
    environment sets NUMBA_NUM_THREADS=1: then every run of a cold cache failed. Before the pool starts,
    numba reads the environment again; after, the environment is made to agree with the pool."""
    from numba.core import config
    from numba.np.ufunc import parallel

    env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if not env.isdigit() or int(env) == config.NUMBA_NUM_THREADS:
        return
    if parallel._is_initialized:
        os.environ["NUMBA_NUM_THREADS"] = str(config.NUMBA_NUM_THREADS)
    else:
        config.reload_config()


@contextmanager
def using(threads: int | None) -> Iterator[int]:
    """Run a block with `threads` kernel threads (None: `choose()`), then restore the count."""
    import numba

    before = numba.get_num_threads()
    n = configure(choose(threads))
    try:
        yield n
    finally:
        numba.set_num_threads(before)


def current() -> int:
    """Threads the kernels use in this thread now."""
    import numba

    return numba.get_num_threads()


def one_thread_while_one_chunk(step: Callable[[Any], None]) -> Callable[[Any], None]:
    """A model's step on one kernel thread while its firm rows fit in one chunk (`_numba.CHUNK`):
    the kernels share their work between threads by chunks of rows, so up to 2^16 rows a second
    thread has nothing to do but wait for the first at every parallel loop (spinning: GNU OpenMP).
    On the 2-core machine with other work on it, a 20,000-firm month took 300-400 ms wall on two
    threads against 11-19 on one (benchmarks/RESULTS.md). Results do not depend on the count."""
    import numba

    from ._numba import CHUNK

    @functools.wraps(step)
    def wrapped(model) -> None:
        n = numba.get_num_threads()
        if n == 1 or model.firms.n_rows > CHUNK:
            return step(model)
        numba.set_num_threads(1)
        try:
            return step(model)
        finally:
            numba.set_num_threads(n)

    return wrapped
