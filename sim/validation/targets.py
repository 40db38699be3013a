"""The stylized facts and calibration targets: what is measured in a run, the empirical value, the
band a run must fall in, and the source.

Conventions (docs/validation.md):
- Time averages skip the first `BURN_IN` months (the model starts from its 2019 calibration and
  the credit counters start at zero).
- Cycles: monthly series after the burn-in, summed (flows) or averaged (stocks) to quarters, in
  logs where positive, Hodrick-Prescott filtered with lambda 1600; the cyclical parts are compared.
- Firm-level facts use the year-end snapshots of `collect.RunData`: a firm is followed from one
  year end to the next when its row is alive at both and its age grew by 12 months.
- Firm counts are weighted by the real firms each simulated firm stands for where a share of the
  population is measured; distribution shapes use the simulated firms (one weight per sector).
"""

from __future__ import annotations

from .china2019 import CHINA_2019
from .facts import FACTS
from .measures import BURN_IN, INF, Target, cycles, firm_sizes, growth_rates

__all__ = ["BURN_IN", "BY_KEY", "CHINA_2019", "FACTS", "INF", "TARGETS", "Target", "cycles", "firm_sizes",
           "growth_rates"]

TARGETS: tuple[Target, ...] = FACTS + CHINA_2019

BY_KEY = {t.key: t for t in TARGETS}
