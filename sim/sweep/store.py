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
zarr directly (metadata only), so preallocating costs no chunk files.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import zarr

from ..scenario import ScenarioError, scenario_toml
from .spec import Sweep

ERROR_CHARS = 400
RUNS_PER_CHUNK = 32
STATUS_DONE, STATUS_FAILED = "done", "failed"
RUN_VARS = ("status", "error", "run_seconds")


def _var_dims() -> dict[str, tuple[str, ...]]:
    from ..records import VARIABLES

    return {k: v[0] for k, v in VARIABLES.items()}


def create(sw: Sweep, out: Path) -> None:
    """Write an empty store for the sweep under a temporary name, then rename it into place."""
    from .. import __version__
    from ..records import SIZE_CLASSES, VARIABLES
    from ..scenario.schema import SECTORS

    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
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
        dims, units, long = VARIABLES[name]
        own = tuple(len(coords[d]) for d in dims)
        g.create_array(name, shape=shape + own, chunks=one + own, dtype="f8", fill_value=np.nan,
                       attributes={"_ARRAY_DIMENSIONS": [*lead, *dims], "units": units, "long_name": long})
    g.create_array("status", shape=shape, chunks=one, dtype="<U6", fill_value=None,
                   attributes={"_ARRAY_DIMENSIONS": list(lead), "long_name": "Run status: '' not run yet, "
                               "'done', 'failed'"})
    g.create_array("error", shape=shape, chunks=one, dtype=f"<U{ERROR_CHARS}", fill_value=None,
                   attributes={"_ARRAY_DIMENSIONS": list(lead), "long_name": "Error of a failed run"})
    g.create_array("run_seconds", shape=shape, chunks=one, dtype="f8", fill_value=np.nan,
                   attributes={"_ARRAY_DIMENSIONS": list(lead), "units": "s",
                               "long_name": "Time inside sim.run on the worker"})
    zarr.consolidate_metadata(str(tmp))
    os.replace(tmp, out)


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
                            "another --out or remove it") from None
    if fp is None:
        raise ScenarioError(out, None, "exists and is not a sweep store; choose another --out or remove it")
    if fp != sw.fingerprint:
        raise ScenarioError(out, None, "was made by a different sweep (the scenarios, axes, seeds or "
                            f"outputs of {sw.path} changed since); choose another --out to start afresh, "
                            "or remove it")
    return g


def open_or_create(sw: Sweep, out: Path) -> tuple[zarr.Group, bool]:
    created = not out.exists()
    if created:
        create(sw, out)
    return open_for(sw, out), created


def done_mask(g: zarr.Group) -> np.ndarray:
    """Boolean array over the leading dims: True where the run is recorded done."""
    return np.asarray(g["status"][...]) == STATUS_DONE


def status_counts(g: zarr.Group) -> tuple[int, int, int]:
    st = np.asarray(g["status"][...])
    return int((st == STATUS_DONE).sum()), int((st == STATUS_FAILED).sum()), int(st.size)


def write_run(g: zarr.Group, sw: Sweep, idx: tuple[int, ...], result: dict[str, Any]) -> None:
    """Write one run's region: its outputs (done) or its error (failed); the status goes last."""
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
