"""Capacity rules (MODEL.md steps 7-9): bans and replacement ratios through the replacement pool,
caps on capacity, halted projects, and the forced exit of backward capacity by quota."""

from __future__ import annotations

import numpy as np

from ..kernels import exit_entry as xe
from ..kernels import sums
from ..regulators import retired_per_unit_built
from ..scenario.schema import SECTORS

N_S = len(SECTORS)


class CapacityRulesMixin:
    def halt_projects(self, sectors: np.ndarray) -> None:
        """Stop the capacity under construction in the given sectors (nothing of it was paid yet:
        construction is paid as it is completed)."""
        self.invalidate_totals()
        F = self.firms
        sums.halt_projects(F.alive, F.sector, np.asarray(sectors, dtype=np.bool_), F.pipeline, F.pipeline_cost)

    def enforce_caps(self, cap_phys: np.ndarray) -> None:
        """Scale down capacity under construction where it would take a sector over its cap."""
        limit = np.where(cap_phys > 0, cap_phys / self.phys_per_yuan / 12.0, np.inf)
        pipe = self.sector_pipeline()
        over = self._capacity_in_lag() + pipe - limit
        scale = np.ones(N_S)
        np.divide(np.maximum(pipe - over, 0.0), pipe, out=scale, where=(over > 0) & (pipe > 0))
        if np.any(scale < 1.0):
            self.scale_pipeline(scale)

    def _capacity_in_lag(self) -> np.ndarray:
        """Capacity still operating when today's projects come on stream (net of depreciation over
        the build lag): a cap limits that plus the capacity under construction, so replacing worn-out
        capacity is not blocked by the cap."""
        return self.sector_capacity() * np.maximum(1.0 - self.dep_month * self.lag, 0.0)

    def scale_pipeline(self, scale: np.ndarray) -> None:
        """Capacity under construction (and its cost) scaled by sector."""
        self.invalidate_totals()
        F = self.firms
        sums.scale_pipeline(F.sector, scale, F.pipeline, F.pipeline_cost)

    def _capacity_rules(self, requested: np.ndarray) -> np.ndarray:
        """Share of requested expansion each sector may build: a ban or a replacement ratio needs
        retired capacity (the replacement pool) at the ratio; a cap limits capacity plus pipeline."""
        p = self.policy
        factor = np.ones(N_S)
        ratio = retired_per_unit_built(p.replacement_ratio, p.ban_new_capacity)
        with np.errstate(divide="ignore", invalid="ignore"):
            allowed = np.where(ratio > 0, self.quota_pool / np.where(ratio > 0, ratio, 1.0), np.inf)
            factor = np.minimum(factor, np.where(requested > 0, allowed / requested, 1.0))
            cap_limit = np.where(p.capacity_cap > 0, p.capacity_cap / self.phys_per_yuan / 12.0, np.inf)
            pipe = self.sector_pipeline()
            head = np.maximum(cap_limit - self._capacity_in_lag() - pipe, 0.0)
            factor = np.minimum(factor, np.where(requested > 0, head / requested, 1.0))
        factor = np.clip(np.nan_to_num(factor, nan=0.0, posinf=1.0), 0.0, 1.0)
        self._rule_ratio = ratio
        self._cap_limit = cap_limit
        return factor

    def _forced_exit(self) -> bool:
        """Forced closure of backward capacity by quota; returns whether any firm was closed."""
        F, p = self.firms, self.policy
        quota = p.forced_exit_quota
        if not np.any(quota > 0):
            return False
        ref = p.quota_reference if p.quota_reference is not None else self.sector_capacity()
        order_all, frac_all = [], []
        for s in np.flatnonzero(quota > 0):
            target = quota[s] * ref[s] / 12.0 / self.weight[s]  # model-firm units this month
            cand = self.backward_candidates(s)
            zombie = np.zeros(cand.size, dtype=np.bool_)
            if p.forced_exit_zombies_first:  # zombie firms first, backward or not (Guo Fa [2016] No. 6, 7)
                cand = np.union1d(cand, self.zombie_rows(s))
                zombie = xe.zombie_flags(F.age[cand], F.weak_months[cand])
            if cand.size == 0:
                continue
            score = np.log(F.energy_intensity[cand]) - np.log(F.productivity[cand])
            if zombie.any():
                cand = cand[np.lexsort((-score, ~zombie))]  # zombies first, then the most backward
            else:
                cand = cand[np.argsort(-score, kind="stable")]
            cum = np.cumsum(F.capacity[cand])
            k = int(np.searchsorted(cum, target, side="left"))
            full = cand[:k]
            order_all.append(full)
            frac_all.append(np.ones(full.size))
            if k < cand.size:
                rest = target - (cum[k - 1] if k > 0 else 0.0)
                if rest > 0:
                    order_all.append(cand[k:k + 1])
                    frac_all.append(np.array([rest / F.capacity[cand[k]]]))
        if not order_all:
            return False
        order = np.concatenate(order_all).astype(np.int64)
        frac = np.concatenate(frac_all)
        self.forced_closures(order, frac)
        return True

    def zombie_rows(self, s: int) -> np.ndarray:
        """Rows of live zombie firms of sector s (kernels.exit_entry.is_zombie), in row order."""
        F = self.firms
        m = F.alive & (F.sector == s)
        m &= xe.zombie_flags(F.age, F.weak_months)
        return np.flatnonzero(m)

    def backward_candidates(self, s: int) -> np.ndarray:
        """Rows of live firms of sector s that count as backward capacity, in row order."""
        F, p = self.firms, self.policy
        m = F.alive & (F.sector == s) & ((F.energy_intensity >= p.backward_energy_intensity[s])
                                        | (F.productivity <= p.backward_productivity[s] * self.frontier_a[s]))
        return np.flatnonzero(m)
