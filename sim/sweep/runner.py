"""Running a sweep on Dask: workers run one scenario each and return small arrays; the driver
writes each result into the store as it arrives.

- The task (`run_point`) lives in an importable module, so workers unpickle it by reference and
  import the numba kernels from `sim.kernels` (whose compiled code numba caches on disk).
- numba's on-disk cache and many processes compiling at once do not mix well (numba issue 4807):
  the driver runs the first run alone, on one worker, so a cold cache is filled once, and only then
  fills the other workers.
- A run that raises is caught on the worker and returned as "failed" with its message; the driver
  records it and goes on. A worker that dies has its runs rescheduled by the scheduler (and
  `retries` covers errors that escape the task); after too many deaths the run is recorded failed.
- At most a few runs per worker thread are in flight, so neither the scheduler nor the driver
  holds more than that many results; everything else is in the store.
- Resume: runs whose status is "done" are skipped; "" (never finished) and "failed" are run again,
  and so are runs recorded done whose data is missing or unreadable (`store.check`).
- One driver per store: the store's lock is held from before the store is opened or created to
  the last write, so a second `sim sweep` on the same store waits for the first.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..outpaths import clean_stale
from ..scenario import ScenarioError
from . import store
from .spec import Sweep, apply_overrides, first_error

WAIT_SECONDS = 0.5    # the driver checks Ctrl-C (and a batch cluster its workers) this often
RETRIES = 2          # re-runs of a task whose error escaped run_point (the run's own errors do not)
PER_THREAD = 3       # runs in flight per worker thread


def run_point(flat: int, base: dict[str, Any], overrides: list[tuple[tuple[str, ...], Any]], seed: int,
              outputs: tuple[str, ...]) -> dict[str, Any]:
    """One run on a worker: the scenario with its overrides, `sim.run`, the kept outputs as arrays."""
    from pydantic import ValidationError

    _test_hook_hold(flat)
    t0 = time.perf_counter()
    _one_thread()
    try:
        try:
            sc = apply_overrides(base, overrides)
        except ValidationError as e:
            raise ValueError("invalid scenario for this point: " + first_error(e)) from None
        from ..api import run

        ds = run(sc, seed=seed)
        data = {}
        from ..records import VARIABLES

        for name in outputs:
            arr = ds[name].transpose(*VARIABLES[name][0]).values
            data[name] = np.ascontiguousarray(arr, dtype=np.float64)
        res = {"index": flat, "status": store.STATUS_DONE, "data": data, "time": ds["time"].values,
               "seconds": time.perf_counter() - t0}
    except Exception as e:  # noqa: BLE001 - every failure of a run is recorded, not raised
        res = {"index": flat, "status": store.STATUS_FAILED, "error": f"{e.__class__.__name__}: {e}",
               "seconds": time.perf_counter() - t0}
    log = os.environ.get("SIM_SWEEP_RUN_LOG")
    if log:  # audit trail: one line per run executed (tests count runs with it)
        with open(log, "a") as f:
            f.write(f"{flat} {os.getpid()}\n")
    _test_hook_die(flat)
    return res


def _one_thread() -> None:
    """A worker runs one run per thread with one numba thread, whoever started it (a local cluster
    sets this in the worker's environment; workers of a scheduler started elsewhere get it here,
    per executor thread); the first run on a worker says so in the worker's log."""
    from ..threads import configure

    n = configure(1)
    if not getattr(_one_thread, "said", False):
        _one_thread.said = True
        logging.getLogger("sim.sweep").info("sim worker pid %d: %d numba thread(s) per run", os.getpid(), n)


def _test_hook_die(flat: int) -> None:
    """SIM_SWEEP_TEST_DIE=INDEX:MARKER kills the worker process the first time run INDEX finishes."""
    spec = os.environ.get("SIM_SWEEP_TEST_DIE")
    if not spec:
        return
    idx, marker = spec.split(":", 1)
    if int(idx) == flat and not os.path.exists(marker):
        Path(marker).write_text("died\n")
        os._exit(17)


def _test_hook_hold(flat: int) -> None:
    """SIM_SWEEP_TEST_HOLD=MARKER: every run but run 0 waits while MARKER exists (at most 300 s), so that a
    test can cancel a batch cluster's jobs while runs are in flight."""
    marker = os.environ.get("SIM_SWEEP_TEST_HOLD")
    t0 = time.monotonic()
    while marker and flat != 0 and os.path.exists(marker) and time.monotonic() - t0 < 300:
        time.sleep(0.1)


@dataclass
class Summary:
    total: int
    skipped: int           # already done when the command started
    done: int              # done in this invocation
    failed: int            # failed in this invocation
    wall: float            # seconds from start to end of this invocation
    run_seconds: float     # sum of run times on the workers (this invocation)
    workers: int
    startup: float = 0.0   # seconds to start the local cluster or connect to the scheduler


# (The engine also sets glibc's thresholds itself at model start: sim/_memory.py.)
# distributed's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in workers, which turns off glibc's dynamic
# mmap threshold: every large numpy temporary is then mmapped and unmapped, and a run takes twice
# as long (measured: 0.48 s instead of 0.24 s for quick.toml's runs). Local workers start without it.
NANNY_PRE_SPAWN_ENV = {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1,
                       "OPENBLAS_NUM_THREADS": 1}


def _client(workers: int | None, scheduler: str | None, quiet: bool):
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="20s"), None
    from ..threads import available_cores, worker_env

    n = workers or available_cores()
    # one numba thread per worker, set in the environment the worker process starts with: numba reads
    # it when it loads, and a value changed after its threads started is an error (sim/threads.py)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {**NANNY_PRE_SPAWN_ENV, **worker_env(1)}}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.CRITICAL)
    # (workers' own log lines stay quiet: a run's error is recorded in the store, and a worker
    # closing while the scheduler shuts down logs harmless heartbeat errors)
    return Client(cluster), cluster


class SchedulerError(OSError):
    """The Dask scheduler given by address could not be reached (nothing was written)."""


def check_address(address: str) -> None:
    """Raise ValueError if `address` is not a scheduler address (tcp://HOST:PORT, HOST:PORT, ...)."""
    from distributed.comm.addressing import get_address_host_port

    get_address_host_port(address)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _call_one_thread(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    _one_thread()
    return fn(*args)


def map_runs(fn: Callable[..., Any], jobs: list[tuple[Any, ...]], *, workers: int | None = None,
             scheduler: str | None = None, progress: Callable[[int, int], None] | None = None) -> list[Any]:
    """[fn(*job) for job in jobs] on Dask workers (local single-threaded processes, or `scheduler`),
    in the order of `jobs`: the runner of `sim compare` and `sim check-facts --workers/--scheduler`.

    `fn` must be importable by the workers (a module-level function) and its arguments picklable.
    As in sweeps, the first job runs alone so that a cold numba cache is filled by one process, and
    each job runs with one numba thread; the results are those of serial calls, bit for bit. Raises
    SchedulerError if the scheduler cannot be reached."""
    from distributed import as_completed

    if not jobs:
        return []
    if scheduler:
        check_address(scheduler)
    try:
        client, cluster = _client(workers, scheduler, quiet=True)
    except OSError as e:
        raise SchedulerError(str(e)) from None
    out: list[Any] = [None] * len(jobs)
    try:
        first = client.submit(_call_one_thread, fn, jobs[0], pure=False)
        out[0] = first.result()
        if progress:
            progress(1, len(jobs))
        futs = {client.submit(_call_one_thread, fn, job, pure=False): i for i, job in enumerate(jobs[1:], 1)}
        for n, fut in enumerate(as_completed(futs), 2):
            out[futs[fut]] = fut.result()
            fut.release()
            if progress:
                progress(n, len(jobs))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return out


def run_sweep(sw: Sweep, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              client: Any = None, progress: Callable[[int, int, int], None] | None = None,
              quiet: bool = True, overwrite: bool = False, notify: Callable[[str], None] | None = None,
              on_open: Callable[[int, int], None] | None = None, cluster: str | None = None,
              cluster_config: Any = None) -> Summary:
    """Run every run of `sw` not yet done in the store `out`, on Dask; return a summary.

    `client`: a distributed.Client to use (else one is made: `scheduler` address, a batch cluster, or
    a LocalCluster of `workers` single-threaded processes). `cluster`: "slurm" or "pbs", jobs submitted
    through dask-jobqueue as `cluster_config` says (a TOML file, a dict or a ClusterConfig; see
    sim.sweep.cluster); a bad configuration raises ScenarioError, a refused job or a cluster that
    gives no worker (or loses them all) ClusterError. `progress(done, failed, todo)` is called after each run.
    One driver at a time works on a store: a second one waits for the first (see `store.locked`).
    The store is checked before resuming (`store.check`). `overwrite`: replace a path that is not
    this sweep's store. `notify(message)` gets the waiting and damage messages (default: stderr);
    `on_open(done, failed)` is called once the store is open, before any run.
    A scheduler that cannot be reached raises SchedulerError before anything is written.
    """
    out = Path(out)
    say = notify or _say
    t_start = time.perf_counter()
    own = client is None
    cfg = None
    if cluster is not None or cluster_config is not None:
        from . import cluster as batch

        if workers is not None or scheduler:
            raise ScenarioError("<arguments>", "cluster", "give a batch cluster, workers or a scheduler, not two")
        cfg = batch.load_config(cluster_config, cluster)
    owned = alive = None   # a cluster started here, and its check for lost workers
    startup = 0.0
    try:
        if own and scheduler:  # before the store: a wrong address writes nothing
            check_address(scheduler)
            try:
                client, _ = _client(None, scheduler, quiet)
            except OSError as e:
                raise SchedulerError(str(e)) from None
            startup = time.perf_counter() - t_start
        elif own and cfg is not None and not _all_done(sw, out):  # before the store: a refused job writes nothing
            client, owned, alive = batch.start(cfg, say)
            startup = time.perf_counter() - t_start
        with store.locked(out, say):
            # temporaries of dead drivers on this host (a driver on another host sharing the disk has
            # another host tag in its temporary's name, and holds this lock while it writes)
            clean_stale(out)
            g, _ = store.open_or_create(sw, out, overwrite=overwrite)
            status = store.check(g, sw, out, say)
            todo = np.flatnonzero(status.ravel() != store.STATUS_DONE)
            if on_open is not None:
                on_open(sw.n_runs - len(todo), int((status == store.STATUS_FAILED).sum()))
            if len(todo) == 0:
                return Summary(sw.n_runs, sw.n_runs, 0, 0, time.perf_counter() - t_start, 0.0, 0, startup)
            if client is None:
                t_client = time.perf_counter()
                if cfg is not None:  # (the store was complete when looked at before the lock)
                    client, owned, alive = batch.start(cfg, say)
                else:
                    client, owned = _client(workers, None, quiet)
                startup = time.perf_counter() - t_client
            if not quiet and getattr(client, "dashboard_link", None):
                say(f"Dask dashboard: {client.dashboard_link}")
            expected = cfg.jobs * cfg.cores if cfg is not None else 0
            return _run(sw, g, client, todo, progress, t_start, startup, alive, expected)
    finally:
        if own and client is not None:
            client.close()
            if owned is not None:
                owned.close()  # (a batch cluster cancels its jobs)


def _run(sw: Sweep, g: Any, client: Any, todo: np.ndarray, progress: Callable[[int, int, int], None] | None,
         t_start: float, startup: float, alive: Any = None, min_threads: int = 0) -> Summary:
    """Run `todo` on the client's workers, writing each result as it comes. `alive()`, if given, is
    called every WAIT_SECONDS while waiting and raises to stop (a batch cluster that lost its
    workers); `min_threads`: worker threads still to come (jobs queued) that the runs in flight count."""
    from distributed import wait

    kill_after = int(os.environ.get("SIM_SWEEP_KILL_AFTER", "0"))  # test hook: SIGKILL after N writes
    token = uuid.uuid4().hex[:8]
    done = failed = nworkers = 0
    run_seconds = 0.0

    def submit(flat: int):
        b, over, seed = sw.run_of(int(flat))
        return client.submit(run_point, int(flat), sw.base_dumps[b], over, seed, sw.outputs,
                             key=f"sim-run-{int(flat)}-{token}", retries=RETRIES, pure=False)

    def record(fut) -> None:
        nonlocal done, failed, run_seconds
        try:
            res = fut.result()
        except Exception as e:  # noqa: BLE001 - KilledWorker and other scheduler-side failures
            flat = int(fut.key.split("-")[2])
            res = {"index": flat, "status": store.STATUS_FAILED, "error": f"{e.__class__.__name__}: {e}"}
        fut.release()
        idx = sw.index(res["index"])
        if res["status"] == store.STATUS_DONE and not np.array_equal(res["time"], sw.time):
            res = {"status": store.STATUS_FAILED, "seconds": res["seconds"],
                   "error": "the run's time axis differs from the store's"}
        store.write_run(g, sw, idx, res)
        run_seconds += float(res.get("seconds", 0.0) or 0.0)
        if res["status"] == store.STATUS_DONE:
            done += 1
        else:
            failed += 1
        if progress is not None:
            progress(done, failed, len(todo))
        if kill_after and done + failed >= kill_after:
            _kill_self()

    def finished(pending: set[Any]) -> set[Any]:
        """Wait for at least one of `pending` to finish; meanwhile `alive()` checks the workers, and
        a Ctrl-C is raised."""
        while True:
            try:
                done = wait(pending, timeout=WAIT_SECONDS, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            interrupted()
            if done:
                return done
            if alive is not None:
                alive()

    with _sigint_between_waits() as interrupted:
        queue = iter(todo.tolist())
        # the first run alone: a cold numba cache is compiled and written by one process only
        first = submit(next(queue))
        finished({first})
        record(first)
        nthreads = max(1, sum(client.nthreads().values()), min_threads)  # (workers still to come included)
        nworkers = len(client.nthreads())
        pending: set[Any] = set()
        for flat in [*queue, None]:  # (None: the end, when the runs still in flight are waited for)
            if flat is not None:
                pending.add(submit(flat))
            while pending and (flat is None or len(pending) >= PER_THREAD * nthreads):
                for fut in finished(pending):
                    pending.discard(fut)
                    record(fut)
    total = sw.n_runs
    return Summary(total, total - len(todo), done, failed, time.perf_counter() - t_start, run_seconds,
                   nworkers, startup)


def _all_done(sw: Sweep, out: Path) -> bool:
    """Whether `out` already holds every run of `sw` (looked at without the lock: then no batch jobs
    are submitted for a finished sweep)."""
    try:
        n_done, _, n = store.status_counts(store.open_for(sw, out))
    except Exception:  # noqa: BLE001 - no store, another's, unreadable: the locked open says what
        return False
    return n_done == n


@contextmanager
def _sigint_between_waits() -> Iterator[Callable[[], None]]:
    """Ctrl-C while the driver waits for runs is raised between two waits (by the function yielded),
    not inside Dask's calls into its event loop, where a KeyboardInterrupt leaves tracebacks of
    distributed's own on the terminal. Only in the main thread, and only over Python's own handler."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield lambda: None
        return
    hits: list[int] = []

    def check() -> None:
        if hits:
            hits.clear()
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, lambda *_: hits.append(1))
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _kill_self() -> None:
    """Test hook: die like `kill -9` of the whole job (driver and its local workers) would."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
