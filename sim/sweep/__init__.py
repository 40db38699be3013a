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

from typing import Any

__all__ = ["Sweep", "analyze", "load_sweep", "run_sweep"]


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
