"""Validation: does the model look like an economy? Stylized facts of the agent-based macro
literature and calibration targets for China around 2019, scored over several seeds.

```python
from sim.validation import check
ds = check("scenarios/baseline.toml", seeds=4)     # as `sim check-facts scenarios/baseline.toml`
ds[["mean", "band_lo", "band_hi", "passed"]].to_dataframe()
```
The targets, their sources and pass bands are in `sim/validation/facts.py` (stylized facts) and
`china2019.py` (China around 2019), collected in `targets.py`; docs/validation.md
shows the table, the figures and the misses; `python -m sim.validation.calibrate` re-fits a few
free parameters by the method of simulated moments.
"""

from __future__ import annotations

from .check import check, evaluate, markdown, run_seeds, table, to_dataset
from .collect import RunData, simulate, with_params
from .targets import BY_KEY, TARGETS, Target

__all__ = [
    "BY_KEY",
    "TARGETS",
    "RunData",
    "Target",
    "check",
    "evaluate",
    "markdown",
    "run_seeds",
    "simulate",
    "table",
    "to_dataset",
    "with_params",
]
