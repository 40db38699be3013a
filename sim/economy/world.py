"""Foreign demand for the industries' exports (the rest of the world's buying side; docs/model.md,
"The whole economy"): world import volume and the tariffs abroad relative to the calibrated path,
used by the closed economy's export demand (economy.institutions) and by the open closure's final
demand (sim.model)."""

from __future__ import annotations

import numpy as np

from ..scenario.schema import SECTORS


def export_factor(policy, export_elasticity: float) -> np.ndarray:
    """Foreign demand for each sector's exports relative to the calibrated path: world import volume
    times the foreign buyer's price effect of the tariffs abroad,
    F_s = world_demand_s (1 + tariff_abroad_s)^(-export_elasticity).

    The standard export demand function (Goldstein and Khan, Handbook of International Economics
    1985, ch. 20): exports rise with foreign demand (unit elasticity: the sectors' trend already carries
    the world's trend, so `world_demand` is the deviation from it) and fall with the buyer's relative
    price. A tariff raises the buyer's price by (1 + tariff), the Chinese price unchanged: the 2018-19 US
    tariffs passed almost fully to US buyers (Amiti, Redding and Weinstein, JEP 2019; Fajgelbaum et al.,
    QJE 2020). The elasticity is `economy.export_elasticity`, the one the domestic price meets. Exactly 1
    when neither input is set."""
    return policy.world_demand * (1.0 + policy.tariff_abroad) ** (-export_elasticity)


def export_shares(economy) -> np.ndarray:
    """The export share of each sector's final demand at the start (`economy.export_share`), by sector."""
    return np.array([economy.export_share[s] for s in SECTORS])


def open_export_factor(policy, x_share: np.ndarray, elasticity: float) -> np.ndarray:
    """The open closure's final demand has no separate export part: the factor applies to the export share
    of each sector's final demand at the start (`x_share`, `export_shares`), 1 + x_s (F_s - 1)."""
    return 1.0 + x_share * (export_factor(policy, elasticity) - 1.0)
