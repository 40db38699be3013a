"""Batch sweeps: many runs (scenarios x parameters x seeds) on Dask into one resumable Zarr store.

```python
import sim.sweep
sw = sim.sweep.load_sweep("scenarios/sweeps/quick.toml")
sim.sweep.run_sweep(sw, "quick.zarr", workers=2)      # as `sim sweep ... --out quick.zarr`
ds = xarray.open_zarr("quick.zarr")
idx = sim.sweep.analyze("sobol.zarr")                 # Sobol / Morris indices per output
```
See docs/sweeps.md.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

__all__ = ["Sweep", "analyze", "load_sweep", "run_sweep", "sweep"]


def sweep(spec: str | Path | dict[str, Any], out: str | Path, *, workers: int | None = None,
          scheduler: str | None = None, client: Any = None, overwrite: bool = False, progress: Any = None,
          cluster: str | None = None, cluster_config: str | Path | dict[str, Any] | None = None):
    """Run a sweep and return its store as a Dataset: `sim.sweep("quick.toml", "quick.zarr", workers=2)`.

    `spec` is a sweep file or a dict with a sweep file's contents; runs already done in `out` are
    skipped (resume). The keywords are those of `sim sweep` (`cluster="slurm"`, `cluster_config=` a
    cluster file or a dict of its keys: `--cluster slurm --cluster-config FILE`); `progress(done,
    failed, todo)` is called after each run. Raises ScenarioError on a bad specification, cluster
    configuration or output path, sim.sweep.cluster.ClusterError if the batch jobs give no workers."""
    import xarray as xr

    from .runner import run_sweep
    from .spec import load_sweep

    run_sweep(load_sweep(spec), out, workers=workers, scheduler=scheduler, client=client, overwrite=overwrite,
              progress=progress, cluster=cluster, cluster_config=cluster_config)
    return xr.open_zarr(out)


class _CallableModule(types.ModuleType):
    """`sim.sweep(...)` runs a sweep; `sim.sweep.load_sweep` and the rest stay reachable."""

    def __call__(self, *args: Any, **kwargs: Any):
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


def __getattr__(name: str) -> Any:  # lazy: `import sim` does not pull in dask or SALib
    if name in ("Sweep", "load_sweep"):
        from . import spec

        return getattr(spec, name)
    if name == "run_sweep":
        from .runner import run_sweep

        return run_sweep
    if name == "analyze":
        from .sensitivity import analyze

        return analyze
    raise AttributeError(f"module 'sim.sweep' has no attribute {name!r}")
