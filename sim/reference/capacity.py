"""The Mesa reference's capacity rules (MODEL.md steps 1 and 7-10): the engine's
`phases.capacity.CapacityRules` (its state and sector-level rules are shared), acting on the firms
as `FirmAgent`s: the projects halted or scaled under construction and the backward candidates for
forced closure. `ReferenceEconomy` (sim/reference/model.py) holds one."""

from __future__ import annotations

import numpy as np

from ..phases.capacity import CapacityRules


class ReferenceCapacityRules(CapacityRules):
    def halt_projects(self, sectors: np.ndarray) -> None:
        for f in self.model.live_firms():
            if sectors[f.sector]:
                f.pipeline = 0.0
                f.pipeline_cost = 0.0

    def scale_pipeline(self, scale: np.ndarray) -> None:
        for f in self.model.live_firms():
            f.pipeline = f.pipeline * scale[f.sector]
            f.pipeline_cost = f.pipeline_cost * scale[f.sector]

    def backward_candidates(self, s: int) -> np.ndarray:
        m = self.model
        p = m.policy
        return np.array(
            [
                f.row
                for f in m.live_firms()
                if f.sector == s
                and (
                    f.energy_intensity >= p.backward_energy_intensity[s]
                    or f.productivity <= p.backward_productivity[s] * m.frontier_a[s]
                )
            ],
            dtype=np.int64,
        )
