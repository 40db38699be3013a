"""The sweep's Zarr store: preallocated once, then written run by run by the driver.

Layout (Zarr format 2, consolidated metadata, readable with `xarray.open_zarr`):

- coordinates as plain arrays: the leading dimensions (`scenario`, grid axes or `sample`, `seed`),
  then `time`, `sector`, `size_class`; a sampled design adds one coordinate per parameter over
  `sample`;
- each kept output over (leading dims..., its own dims), float64, NaN until its run is written;
- `status` per run: "" (not run yet), "done" or "failed"; `error` per run (the message of a
  failed run); `run_seconds` per run (time inside `sim.run` on the worker);
- attributes: the sweep file's text and path, its fingerprint, the design, the engine version.

Chunks hold a block of up to RUNS_PER_CHUNK neighbouring runs (innermost leading dims first, so
the seeds of a point share a chunk) and whole time series: a 10,000-run sweep is a few hundred
chunks per variable, quick to open and to resume. Only the driver writes, one run at a time, into
its region (zarr reads, modifies and rewrites the chunk); zarr's local store replaces a chunk file
atomically, so a kill in the middle of a write leaves the old chunk, and the run's status is
written last, so a run is "done" only once all its outputs are in. The arrays are created with
zarr directly (metadata only), so preallocating costs no chunk files; a written chunk always gets
its file, even when all its values equal the fill value (`write_empty_chunks`), so a chunk file
that is missing under a run recorded done means lost data.

One driver at a time: `locked` holds an `fcntl.flock` on `.NAME.lock` next to the store for the
whole sweep (a second driver waits; the kernel drops the lock when its holder dies, even by
SIGKILL). Under the lock the driver removes stale temporaries, creates the store (built under
`.NAME.tmp-HOST-PID`, then renamed into place) or opens it, and checks it (`check`): every chunk must
be readable, and every run recorded done must have its chunks; runs that fail either are run
again.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import itertools
import json
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import zarr

from ..outpaths import remove as _remove
from ..outpaths import temp_path
from ..scenario import ScenarioError, scenario_toml
from .spec import Sweep

ERROR_CHARS = 400
RUNS_PER_CHUNK = 32
STATUS_DONE, STATUS_FAILED = "done", "failed"
RUN_VARS = ("status", "error", "run_seconds")
REPLACE = "--overwrite to replace it"


def _var_dims() -> dict[str, tuple[str, ...]]:
    from ..records import VARIABLES

    return {k: v[0] for k, v in VARIABLES.items()}


def create(sw: Sweep, out: Path, *, replace: bool = False) -> None:
    """Write an empty store for the sweep under a temporary name, then rename it into place.

    Raises FileExistsError if `out` exists, unless `replace`: then whatever is at `out` is removed
    once the new store is complete, and the new one takes its place. A SIGTERM during the write
    removes the temporary before the process ends.
    """
    tmp = temp_path(out)
    _remove(tmp)
    with _removed_on_sigterm(tmp):
        try:
            _build(sw, tmp)
            if replace:
                _remove(out)
            os.rename(tmp, out)  # fails if `out` exists (a non-empty directory, or a file)
        except OSError as e:
            _remove(tmp)
            if out.exists() and not replace:
                raise FileExistsError(errno.EEXIST, "exists", str(out)) from None
            raise e


def _build(sw: Sweep, tmp: Path) -> None:
    from .. import __version__
    from ..records import SIZE_CLASSES, VARIABLES, variable_attrs
    from ..scenario.schema import SECTORS

    lead, shape = sw.lead_dims, sw.lead_shape
    coords: dict[str, Any] = dict(sw.lead_coords())
    coords.update(time=sw.time, sector=np.array(SECTORS), size_class=np.array(SIZE_CLASSES))
    used = {d for v in sw.outputs for d in VARIABLES[v][0]}
    coords = {k: v for k, v in coords.items() if k in lead or k in used}
    cds = xr.Dataset(coords={k: (k, np.asarray(v)) for k, v in coords.items()})
    for p in sw.params:
        cds.coords[p.name] = ("sample", sw.design[:, sw.params.index(p)])
        cds[p.name].attrs.update(long_name="Sampled value of " + ", ".join(".".join(k) for k in p.keys),
                                 bounds=list(map(float, p.values)))
    for a in sw.axes:
        cds[a.name].attrs.update(long_name="Swept value of " + ", ".join(".".join(k) for k in a.keys))
    if "seed" in cds:
        cds["seed"].attrs.update(long_name="Run seed")
    if "time" in cds:
        cds["time"].attrs.update(long_name="Month (start of month)")
    cds.attrs.update(
        sweep=sw.name, sweep_file=str(sw.path), sweep_toml=sw.text, sweep_fingerprint=sw.fingerprint,
        design=json.dumps(sw.design_attrs()), outputs=",".join(sw.outputs), engine_version=__version__,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        base_scenarios=json.dumps({sc.name: scenario_toml(sc) for sc in sw.bases}),
        status_values="'' not run yet, 'done', 'failed' (see error)",
    )
    if not sw.multi_scenario:
        cds.attrs["scenario"] = sw.bases[0].name
    cds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=False)

    g = zarr.open_group(tmp, mode="r+", zarr_format=2)
    one = lead_chunks(shape)
    for name in sw.outputs:
        dims = VARIABLES[name][0]
        own = tuple(len(coords[d]) for d in dims)
        g.create_array(name, shape=shape + own, chunks=one + own, dtype="f8", fill_value=np.nan,
                       attributes={"_ARRAY_DIMENSIONS": [*lead, *dims], **variable_attrs(name)})
    g.create_array("status", shape=shape, chunks=one, dtype="<U6", fill_value=None,
                   attributes={"_ARRAY_DIMENSIONS": list(lead), "long_name": "Run status: '' not run yet, "
                               "'done', 'failed'"})
    g.create_array("error", shape=shape, chunks=one, dtype=f"<U{ERROR_CHARS}", fill_value=None,
                   attributes={"_ARRAY_DIMENSIONS": list(lead), "long_name": "Error of a failed run"})
    g.create_array("run_seconds", shape=shape, chunks=one, dtype="f8", fill_value=np.nan,
                   attributes={"_ARRAY_DIMENSIONS": list(lead), "units": "s",
                               "long_name": "Time inside sim.run on the worker"})
    zarr.consolidate_metadata(str(tmp))


@contextmanager
def _removed_on_sigterm(tmp: Path) -> Iterator[None]:
    """While the block runs, a SIGTERM removes `tmp`, then acts as it would have without us."""
    if threading.current_thread() is not threading.main_thread():
        yield  # (signal handlers can only be set from the main thread)
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_IGN:
        yield
        return

    def on_term(signum, frame):
        signal.signal(signal.SIGTERM, previous)
        _remove(tmp)
        signal.raise_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def locked(out: Path, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the store's lock (`.NAME.lock` next to it) for the block; wait while another has it.

    `fcntl.flock` belongs to the open file: the kernel releases it when the holder exits, however
    it exits (SIGKILL included), so no stale lock is left. The lock file names its holder (pid and
    host) for the waiting message, and is removed on release; a waiter that then holds a lock on a
    removed file opens the path again.
    """
    path = out.with_name(f".{out.name}.lock")
    told = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not told:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                on_wait(f"{out}: waiting for the sweep running on this store ({holder})")
                told = True
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on host {socket.gethostname()}\n".encode(), 0)
        yield
    finally:
        try:
            os.unlink(path)
        finally:
            os.close(fd)


def lead_chunks(shape: tuple[int, ...], runs: int = RUNS_PER_CHUNK) -> tuple[int, ...]:
    """Chunk sizes along the leading dims: blocks of at most `runs` runs, innermost dims first."""
    out = []
    left = runs
    for n in reversed(shape):
        c = max(1, min(n, left))
        out.append(c)
        left = max(1, left // c)
    return tuple(reversed(out))


def open_for(sw: Sweep, out: Path) -> zarr.Group:
    """Open an existing store for writing after checking it was made by this sweep."""
    try:
        g = zarr.open_group(out, mode="r+", zarr_format=2)
        fp = g.attrs.get("sweep_fingerprint")
    except Exception as e:  # not a zarr store, or another format
        raise ScenarioError(out, None, f"exists and is not a sweep store ({e.__class__.__name__}); choose "
                            f"another --out, or {REPLACE}") from None
    if fp is None:
        raise ScenarioError(out, None, f"exists and is not a sweep store; choose another --out, or {REPLACE}")
    if fp != sw.fingerprint:
        raise ScenarioError(out, None, "was made by a different sweep (the scenarios, axes, seeds or "
                            f"outputs of {sw.path} changed since); choose another --out to start afresh, "
                            f"or {REPLACE}")
    return g


def open_or_create(sw: Sweep, out: Path, *, overwrite: bool = False) -> tuple[zarr.Group, bool]:
    """Open the sweep's store, or create it; with `overwrite`, a path that is not this sweep's store
    is replaced by a new one (the new store is complete before the old path is removed)."""
    if out.exists() or out.is_symlink():
        try:
            return open_for(sw, out), False
        except ScenarioError:
            if not overwrite:
                raise
        create(sw, out, replace=True)
    else:
        create(sw, out)
    return open_for(sw, out), True


def status_counts(g: zarr.Group) -> tuple[int, int, int]:
    st = np.asarray(g["status"][...])
    return int((st == STATUS_DONE).sum()), int((st == STATUS_FAILED).sum()), int(st.size)


def write_run(g: zarr.Group, sw: Sweep, idx: tuple[int, ...], result: dict[str, Any]) -> None:
    """Write one run's region: its outputs (done) or its error (failed); the status goes last."""
    with zarr.config.set({"array.write_empty_chunks": True}):  # see the module's docstring
        _write_run(g, sw, idx, result)


def _write_run(g: zarr.Group, sw: Sweep, idx: tuple[int, ...], result: dict[str, Any]) -> None:
    if result["status"] == STATUS_DONE:
        for name in sw.outputs:
            g[name][idx] = result["data"][name]
        g["error"][idx] = ""
    else:
        for name in sw.outputs:  # a run that failed after an earlier partial write leaves no stale data
            g[name][idx] = np.nan
        g["error"][idx] = str(result.get("error", ""))[:ERROR_CHARS]
    g["run_seconds"][idx] = float(result.get("seconds", np.nan))
    g["status"][idx] = result["status"]


def check(g: zarr.Group, sw: Sweep, out: Path, warn: Callable[[str], None]) -> np.ndarray:
    """The runs' status, after checking the store's chunks against it; returns the status array.

    Every chunk file is read once, chunk by chunk (a chunk covers either runs recorded done, whose
    data must be readable, or runs still to do, which zarr reads back to write them): one that
    cannot be read is removed, so the array's fill value applies, and the runs it covers are run
    again. A run recorded done must also have its chunk files and a finite `run_seconds`; runs with
    a `run_seconds` under a missing or unreadable status chunk are counted as lost too. Missing
    chunks are found from the files, not from NaN: a missing chunk reads as NaN, and an output can
    be NaN in a run that went well; every write makes its chunk's file (`write_empty_chunks`).
    `error` is exempt from the missing-file check (stores from before that setting have no file
    for a chunk of empty messages). Runs found wanting get status "" and one warning names them.
    """
    st_arr = g["status"]
    grid = list(itertools.product(*map(range, st_arr.cdata_shape)))
    blocks = {c: tuple(slice(i * n, (i + 1) * n) for i, n in zip(c, st_arr.chunks, strict=True)) for c in grid}
    status = np.full(st_arr.shape, "", dtype=st_arr.dtype)
    redo = np.zeros(st_arr.shape, dtype=bool)
    found: list[str] = []
    lost: dict[tuple[int, ...], bool] = {}  # status chunks absent (False) or unreadable (True)
    for c in grid:
        ok, block = _read_chunk(st_arr, out, c, blocks[c], found)
        if ok and block is not None:
            status[blocks[c]] = block
        else:
            lost[c] = not ok
    done = status == STATUS_DONE
    for name in (*sw.outputs, "run_seconds", "error"):
        arr = g[name]
        for c in grid:
            own = (0,) * (arr.ndim - len(c))
            ok, block = _read_chunk(arr, out, c + own, blocks[c], found, need=done[blocks[c]].any()
                                    and name != "error")
            if not ok:
                redo[blocks[c]] |= done[blocks[c]]
            elif name == "run_seconds" and block is not None:
                redo[blocks[c]] |= done[blocks[c]] & ~np.isfinite(block)
                if c in lost and np.isfinite(block).any():  # runs that ran, their status lost
                    redo[blocks[c]] |= np.isfinite(block)
                    if not lost[c]:
                        found.append(f"chunk status/{st_arr.metadata.encode_chunk_key(c)} missing")
    n = int(redo.sum())
    details = "; ".join(found[:3]) + (f"; {len(found) - 3} more" if len(found) > 3 else "")
    if n:
        warn(f"warning: {out}: {n} runs marked done have missing or unreadable data ({details}); "
             "running them again")
        status[redo] = ""
        st_arr[...] = status
    elif found:
        warn(f"warning: {out}: {details}; no run recorded done was in them")
    return status


def _read_chunk(arr: zarr.Array, out: Path, coords: tuple[int, ...], region: tuple[slice, ...],
                found: list[str], need: bool = False) -> tuple[bool, np.ndarray | None]:
    """(readable or absent and not needed, its values over `region` or None if absent).

    An unreadable chunk file is removed and noted in `found`, as is an absent one that is needed.
    """
    key = f"{arr.path}/{arr.metadata.encode_chunk_key(coords)}"
    f = out / key
    if not f.exists():
        if need:
            found.append(f"chunk {key} missing")
        return not need, None
    try:
        return True, np.asarray(arr[region])
    except Exception as e:  # noqa: BLE001 - any failure to decode is a damaged chunk
        f.unlink(missing_ok=True)
        found.append(f"chunk {key} unreadable ({e.__class__.__name__}), removed")
        return False, np.zeros(0)
