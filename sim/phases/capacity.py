"""Capacity rules (MODEL.md steps 1 and 7-10): bans and replacement ratios through the replacement
pool, caps on capacity, halted projects, and the choice of backward capacity to close by quota.
`CapacityRules` holds their state and the hooks the step calls; the rest are plain functions of the
sector sums and the policy in force."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..kernels import capacity_rules as rules_k
from ..kernels import exit_entry as xe
from ..kernels import sums
from ..regulators import retired_per_unit_built


class Allowed(NamedTuple):
    factor: np.ndarray  # share of requested expansion each sector may build
    ratio: np.ndarray  # retired capacity needed per unit built (0: no rule)
    cap_limit: np.ndarray  # the covered part's cap, yuan/month at 2019 prices (inf: none)
    covered: np.ndarray  # share of the expansion each sector may build that the rules cover


class CoveredCapacity:
    """The part of each sector's capacity and of its capacity under construction that the sector's
    capacity rules cover (`sectors.<s>.rules_share`: the aluminium of non-ferrous metals), by sector,
    economy-wide yuan a month. It starts as rules_share of each; it grows by the covered part of the
    projects granted and loses its share of depreciation (`after_investment`); any other change of a
    sector's capacity or pipeline since it was last accounted (exits, forced closures, entrants,
    halted projects) carries the sector's mix (`synced_parts`; kernels.capacity_rules' `retired_since`). Where the rules
    cover the whole sector the covered part is the sector's."""

    def __init__(self, share: np.ndarray, pipe_share: np.ndarray, phys_per_yuan: np.ndarray, cap: np.ndarray,
                 pipe: np.ndarray):
        self.share = share
        self.full = share >= 1.0
        self.phys0 = phys_per_yuan  # capacity_2019 per yuan of the sector's 2019 capacity
        # the covered part holds `share` of the capacity and `pipe_share` of the projects under way
        self.capacity, self.pipeline = share * cap, pipe_share * pipe
        self.at = (cap, pipe)  # the sector's capacity and pipeline when last accounted
        self.granted_share = share  # the covered share of what the rules grant (set by the model's rules)
        self.dep = np.zeros_like(share)  # the covered part's depreciation in the last investment step

    def parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The covered capacity and pipeline (the sector's where the rules cover all of it), and the
        sector's, as last accounted."""
        cap, pipe = self.at
        return np.where(self.full, cap, self.capacity), np.where(self.full, pipe, self.pipeline), cap, pipe

    def synced_parts(self, cap: np.ndarray, pipe: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`parts` after carrying the sector's mix over the changes since the covered part was last
        accounted, the sector now at `cap` and `pipe` (one compiled loop: kernels.capacity_rules)."""
        cap0, pipe0 = self.at
        self.capacity, self.pipeline, covered, covered_pipe = rules_k.synced_parts(self.capacity, self.pipeline, cap0,
                                                                                   pipe0, cap, pipe, self.full)
        self.at = (cap, pipe)
        return covered, covered_pipe, cap, pipe

    def cut_pipeline(self, cut: np.ndarray, pipe_after: np.ndarray) -> None:
        """A cap cut the capacity under construction by `cut` (all of it from the covered part)."""
        self.pipeline = np.maximum(self.pipeline - cut, 0.0)
        self.at = (self.at[0], pipe_after)

    def after_investment(self, granted: np.ndarray, lag: np.ndarray, cap_now: np.ndarray, pipe_now: np.ndarray,
                         retired_dep: np.ndarray) -> None:
        """Step 8's flows of the covered part, sector by sector as the investment kernel moves each
        firm's: a share 1/lag of the pipeline comes on stream, the covered part of the projects
        granted starts, capacity depreciates (`retired_dep`, the sector's)."""
        # (by sector in one compiled loop: kernels.capacity_rules.covered_flows; the depreciation is
        # shared out over the sector's capacity before it, cap_now + retired_dep)
        self.capacity, self.pipeline, self.dep = rules_k.covered_flows(self.capacity, self.pipeline, granted,
                                                                       self.granted_share, lag, cap_now, retired_dep)
        self.at = (cap_now, pipe_now)


class FirmHooks(NamedTuple):
    """What the capacity rules read of the firms and do to them: the model's methods of the same
    names, which the Mesa reference overrides over its agents."""

    sector_capacity: Callable[[], np.ndarray]  # capacity by sector, economy-wide yuan a month
    sector_pipeline: Callable[[], np.ndarray]  # capacity under construction by sector, the same
    halt_projects: Callable[[np.ndarray], None]  # stop the projects of the sectors flagged
    scale_pipeline: Callable[[np.ndarray], None]  # scale capacity under construction by sector
    backward_candidates: Callable[[int], np.ndarray]  # rows of a sector that count as backward
    forced_closures: Callable[[np.ndarray, np.ndarray], None]  # close rows (the fraction of each)


class CapacityRules:
    """The capacity rules' state and the hooks the step calls (docs/model.md, "Capacity rules"); the
    model holds one, `IndustrialEconomy.capacity_rules`. The state: the replacement quota pool, the
    covered part of each sector (`CoveredCapacity`, made at first use, once the firms exist), the
    quota used per unit granted this month and by entrants, and `phys_per_yuan`
    (the covered part's physical capacity a year per yuan a month of the sector's capacity, which the
    records' capacity_physical use). The hooks, in step order:

    - `halt_projects(sectors)`, `enforce_caps(cap_phys)`: step 1, the industry regulator, when a ban or
      replacement ratio starts and every month while a cap is in force;
    - `expansion_factor(requested, policy)`: step 7, the share of the requested expansion each sector
      may build;
    - `after_investment(granted, retired_dep)`: step 8, projects started use up quota;
    - `forced_exit(firms, policy, weight)`: step 9, forced closure of backward capacity by quota;
    - `after_exits(retired, policy, quota_life)`: step 9, the pool gains the covered part's retirements;
    - `entry_room(cap_now, policy)`: step 10, the capacity entrants may add under a cap and within the
      replacement quota; `after_entry(entered)`: their capacity uses the quota.

    `share` is `sectors.<s>.rules_share`, `pipe_share` the covered part's share of the capacity under
    construction at the start (`setup.opening_build_rates`: the free part of a sector builds for
    growth), `lag` and `dep_month` the sectors' build lag (months) and monthly depreciation; the firms
    are read and acted on through `hooks` (`FirmHooks`)."""

    def __init__(self, share: np.ndarray, pipe_share: np.ndarray, quota_pool: np.ndarray,
                 phys_per_yuan: np.ndarray, lag: np.ndarray, dep_month: np.ndarray, hooks: FirmHooks):
        self.share, self.pipe_share, self.lag, self.dep_month, self.hooks = share, pipe_share, lag, dep_month, hooks
        self.quota_pool = quota_pool  # retired capacity that allows building under a ban or ratio, by sector
        self.phys_per_yuan = phys_per_yuan  # 2019's (phases.setup) until the first month's exits
        self.covered: CoveredCapacity | None = None  # the part the rules cover (first use)
        self.ratio = np.zeros_like(quota_pool)  # quota used per unit granted this month (expansion_factor)
        self.entrant_ratio = np.zeros_like(quota_pool)  # quota used per unit of entrants' capacity (entry_room)
        self._sec: rules_k.RulesSectors | None = None  # what the kernels know of the sectors (with `covered`)
        self._rule: tuple | None = None  # the rules' ratio and the instruments it was made of (`rule_ratio`)
        self._quota: tuple | None = None  # the forced-exit quota and whether any is set (`forced_exit`)

    def _covered_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The capacity and pipeline the rules cover and the sector's (`CoveredCapacity`), accounted
        now. Made at the first call, once the firms (the Mesa reference's agents too) exist."""
        cap, pipe = self.hooks.sector_capacity(), self.hooks.sector_pipeline()
        if self.covered is None:
            self._start_covered(cap, pipe)
            return self.covered.parts()
        return self.covered.synced_parts(cap, pipe)

    def _start_covered(self, cap: np.ndarray, pipe: np.ndarray) -> None:
        c = self.covered = CoveredCapacity(self.share, self.pipe_share, self.phys_per_yuan, cap, pipe)
        self._sec = rules_k.RulesSectors(c.full, c.phys0, c.share, self.dep_month, self.lag)

    def _sector_now(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The sectors' capacity and pipeline now (the hooks) and as the covered part was last
        accounted (that made now, at the first call: its kernels then carry it over no change)."""
        cap, pipe = self.hooks.sector_capacity(), self.hooks.sector_pipeline()
        if self.covered is None:
            self._start_covered(cap, pipe)
        cap0, pipe0 = self.covered.at
        self.covered.at = (cap, pipe)
        return cap, pipe, cap0, pipe0

    def rule_ratio(self, policy) -> np.ndarray:
        """`retired_per_unit_built` under the policy in force, made again only when its instruments
        are other objects than last time (a change in the schedule makes a new one; nothing writes
        into them)."""
        ratio, ban = policy.replacement_ratio, policy.ban_new_capacity
        made = self._rule
        if made is None or made[0] is not ratio or made[1] is not ban:
            made = self._rule = (ratio, ban, retired_per_unit_built(ratio, ban))
        return made[2]

    # the hooks, in step order
    def halt_projects(self, sectors: np.ndarray) -> None:
        """Stop the capacity under construction that a ban or replacement ratio starting during the run
        covers in `sectors` (Guo Fa [2013] No. 41): the whole sector's where the rules cover all of it;
        where they cover a part (aluminium of non-ferrous metals), that part's, every firm's pipeline
        scaled by the share that is not covered."""
        sectors = np.asarray(sectors, dtype=np.bool_)
        whole = sectors & (self.share >= 1.0)
        if whole.any():
            self.hooks.halt_projects(whole)
        part = sectors & ~whole
        if part.any():
            _, pipe_c, _, pipe = self._covered_parts()
            scale = 1.0 - np.divide(pipe_c, pipe, out=np.zeros_like(pipe), where=part & (pipe > 0))
            self.hooks.scale_pipeline(scale)
            self.covered.cut_pipeline(np.where(part, pipe_c, 0.0), pipe * scale)

    def enforce_caps(self, cap_phys: np.ndarray) -> None:
        """Scale down capacity under construction where the part the rules cover would go over its cap
        (the rest of the pipeline is not cut)."""
        cap, pipe, cap0, pipe0 = self._sector_now()
        c = self.covered  # (the covered part synced, the scale under the cap: kernels.capacity_rules.cap_step)
        c.capacity, c.pipeline, scale, cut = rules_k.cap_step((c.capacity, c.pipeline, cap0, pipe0, cap, pipe),
                                                              self._sec, cap_phys)
        if cut:
            self.hooks.scale_pipeline(scale)
            c.cut_pipeline(np.where(scale < 1.0, pipe - pipe * scale, 0.0), pipe * scale)

    def expansion_factor(self, requested: np.ndarray, policy) -> np.ndarray:
        """Share of requested expansion (economy-wide) each sector may build (`expansion_allowed`): the
        rules hold the part `sectors.<s>.rules_share` of the request, the rest is free."""
        cap, pipe, cap0, pipe0 = self._sector_now()
        c = self.covered
        # (`expansion_allowed` after the covered part is synced, in one call: capacity_rules.expansion_step);
        # replacement quota is used by the covered part of what is granted
        c.capacity, c.pipeline, factor, c.granted_share, self.ratio = rules_k.expansion_step(
            (c.capacity, c.pipeline, cap0, pipe0, cap, pipe), self._sec, policy.capacity_cap, requested,
            self.rule_ratio(policy), self.quota_pool)
        return factor

    def after_investment(self, granted: np.ndarray, retired_dep: np.ndarray) -> None:
        """Step 8's flows of the covered part (`CoveredCapacity.after_investment`; `granted` and
        `retired_dep`, the sectors' projects started and capacity depreciated, economy-wide); projects
        started use up replacement quota at the rule's ratio."""
        self.quota_pool = rules_k.pool_used(self.quota_pool, self.ratio, granted)
        self.covered.after_investment(granted, self.lag, self.hooks.sector_capacity(), self.hooks.sector_pipeline(),
                                      retired_dep)

    def forced_exit(self, firms, policy, weight: np.ndarray) -> bool:
        """Forced closure of backward capacity by quota (`closure_order`, then the hooks'
        `forced_closures`); returns whether any firm was closed."""
        p = policy
        quota = self._quota
        if quota is None or quota[0] is not p.forced_exit_quota:  # (worked out again for a new array only)
            quota = self._quota = (p.forced_exit_quota, bool((p.forced_exit_quota > 0).any()))
        if not quota[1]:
            return False
        ref = p.quota_reference if p.quota_reference is not None else self.hooks.sector_capacity()
        chosen = closure_order(firms, p, ref, weight, self.hooks.backward_candidates)
        if chosen is None:
            return False
        self.hooks.forced_closures(*chosen)
        return True

    def after_exits(self, retired: np.ndarray, policy, quota_life: float) -> None:
        """The replacement pool after step 9 (`retired`: the sectors' capacity retired by depreciation
        and exits): under a ban or a replacement ratio it gains the covered part's retirements and its
        quota lapses over `quota_life` months (behaviour.replacement_quota_life). Also sets
        phys_per_yuan."""
        cap, pipe, cap0, pipe0 = self._sector_now()
        c = self.covered  # (exits carry the sector's mix: capacity_rules.retired_since, in capacity_rules.exit_step)
        c.capacity, c.pipeline, self.quota_pool, self.phys_per_yuan = rules_k.exit_step(
            (c.capacity, c.pipeline, cap0, pipe0, cap, pipe), c.dep, self.quota_pool, 1 - 1 / quota_life,
            self.rule_ratio(policy), self._sec, retired)

    def entry_room(self, policy) -> np.ndarray:
        """The capacity (economy-wide) entrants may add: under the cap in force (the room incumbents'
        projects leave, `expansion_allowed`) and,
        where a ban or a replacement ratio holds, within the replacement quota the covered part of
        their capacity uses (entrants carry the sector's mix; inf: no limit). New capacity is new
        capacity whoever builds it: an entrant, too, must find retired capacity to replace (MIIT 2017,
        2018 replacement rules)."""
        # under a cap, as for incumbents' projects (`expansion_allowed`): the covered part operating when
        # today's projects come on stream and those projects leave the head room; entrants' capacity,
        # installed now, wears out over the build lag like the rest (`capacity_rules.in_lags`: capacity x
        # max(1 - dep_month x lag, 0), so that replacing worn-out capacity is not blocked by the cap)
        cap, pipe, cap0, pipe0 = self._sector_now()
        c = self.covered  # (the covered part synced, then capacity_rules.entrant_room: capacity_rules.entry_step)
        c.capacity, c.pipeline, room, self.entrant_ratio = rules_k.entry_step(
            (c.capacity, c.pipeline, cap0, pipe0, cap, pipe), self._sec, policy.capacity_cap, self.rule_ratio(policy),
            self.quota_pool)
        return room

    def after_entry(self, entered: np.ndarray) -> None:
        """Entrants' capacity (`entered`, economy-wide) uses replacement quota at this month's ratio
        (`entry_room`)."""
        self.quota_pool = rules_k.pool_used(self.quota_pool, self.entrant_ratio, entered)


def halt_projects(firms, sectors: np.ndarray) -> None:
    """Stop the capacity under construction in the given sectors (nothing of it was paid yet:
    construction is paid as it is completed). Writes firms.pipeline and pipeline_cost."""
    sums.halt_projects(firms.alive, firms.sector, np.asarray(sectors, dtype=np.bool_), firms.pipeline,
                       firms.pipeline_cost)


def scale_pipeline(firms, scale: np.ndarray) -> None:
    """Capacity under construction (and its cost) scaled by sector. Writes firms.pipeline and
    pipeline_cost."""
    sums.scale_pipeline(firms.sector, scale, firms.pipeline, firms.pipeline_cost)


def cap_limit(capacity_cap: np.ndarray, phys_per_yuan: np.ndarray, share: np.ndarray) -> np.ndarray:
    """A cap in physical units a year as capacity in yuan a month at 2019 prices (inf: no cap) of the
    part `share` of a sector the rules cover: `phys_per_yuan` maps the sector's 2019 capacity in yuan
    to capacity_2019, the physical capacity of that part, so a yuan of the part is phys_per_yuan /
    share physical units."""
    return rules_k.cap_limits(capacity_cap, phys_per_yuan, share)


def pipeline_scale_under_cap(limit: np.ndarray, in_lag: np.ndarray, pipe_covered: np.ndarray,
                             pipe: np.ndarray) -> np.ndarray:
    """The share of each sector's capacity under construction (`pipe`) left when the part the rules
    cover (`pipe_covered` of it, beside `in_lag` of the part operating then, `capacity_rules.in_lags`) is cut
    to fit under its cap `limit`; the rest of the pipeline is not cut."""
    return rules_k.scale_under_cap(limit, in_lag, pipe_covered, pipe)


def expansion_allowed(requested: np.ndarray, policy, quota_pool: np.ndarray, limit: np.ndarray,
                      in_lag: np.ndarray, pipe: np.ndarray, share: np.ndarray) -> Allowed:
    """Share of requested expansion each sector may build. The rules cover the part `share` of
    it: that part needs retired capacity (the replacement pool) at the ratio where a ban or a
    replacement ratio holds, and must fit under the cap `limit` (yuan a month) beside `in_lag` and
    `pipe`, the covered part's capacity operating when it comes on stream and under construction;
    the rest (1 - share) is always allowed. With share 1 the rules hold the whole request."""
    ratio = retired_per_unit_built(policy.replacement_ratio, policy.ban_new_capacity)
    # the covered part of the request (share x requested) needs quota_pool / ratio and head room under
    # the cap (limit - in_lag - pipe); the share of it allowed, in [0, 1], by sector in one compiled
    # loop (kernels.capacity_rules.expansion_cover, numpy's expressions value by value)
    factor, covered = rules_k.expansion_cover(requested, ratio, quota_pool, limit, in_lag, pipe, share)
    return Allowed(factor, ratio, limit, covered)


def backward_rows(firms, s: int, policy, frontier_a: np.ndarray) -> np.ndarray:
    """Rows of live firms of sector s that count as backward capacity, in row order."""
    F = firms
    m = F.alive & (F.sector == s) & ((F.energy_intensity >= policy.backward_energy_intensity[s])
                                    | (F.productivity <= policy.backward_productivity[s] * frontier_a[s]))
    return np.flatnonzero(m)


def zombie_rows(firms, s: int) -> np.ndarray:
    """Rows of live zombie firms of sector s (kernels.exit_entry.is_zombie), in row order."""
    F = firms
    m = F.alive & (F.sector == s)
    m &= xe.zombie_flags(F.age, F.weak_months)
    return np.flatnonzero(m)


def closure_order(firms, policy, reference: np.ndarray, weight: np.ndarray, candidates
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """Forced closure of backward capacity by quota (policy.forced_exit_quota of `reference`, the
    sector's capacity a year, economy-wide): the rows to close, most backward first (zombies first
    if the policy says so), and the fraction of each to close (1, or a part of the marginal firm).
    `candidates(s)`: the rows of sector s that count as backward. None when no firm is to close."""
    F, p = firms, policy
    quota = p.forced_exit_quota
    if not np.any(quota > 0):
        return None
    order_all, frac_all = [], []
    for s in np.flatnonzero(quota > 0):
        target = quota[s] * reference[s] / 12.0 / weight[s]  # model-firm units this month
        cand = candidates(s)
        zombie = np.zeros(cand.size, dtype=np.bool_)
        if p.forced_exit_zombies_first:  # zombie firms first, backward or not (Guo Fa [2016] No. 6, 7)
            cand = np.union1d(cand, zombie_rows(F, s))
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
        return None
    return np.concatenate(order_all).astype(np.int64), np.concatenate(frac_all)
