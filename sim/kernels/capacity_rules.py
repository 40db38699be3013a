"""The capacity rules' arithmetic by sector (phases.capacity) in compiled loops over the sectors:
each value as the numpy expressions over sector arrays computed it (np.where's chosen branch, the
NaN rules of np.minimum, np.maximum, np.clip and np.nan_to_num spelled out), in one call instead
of some twenty numpy calls on arrays of thirty sectors each (benchmarks/RESULTS.md, "The Python
between the kernels")."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._numba import kernel

_MOST_NEGATIVE = np.finfo(np.float64).min  # np.nan_to_num's stand-in for -inf


@kernel
def np_minimum(a, b):
    """np.minimum(a, b) of two floats: NaN if either is NaN, else the smaller (b on a tie: numpy 2.4
    gives minimum(0.0, -0.0) = -0.0 and minimum(-0.0, 0.0) = 0.0)."""
    if np.isnan(a):
        return a
    return a if a < b else b


@kernel
def np_maximum(a, b):
    """np.maximum(a, b) of two floats: NaN if either is NaN, else the larger (b on a tie)."""
    if np.isnan(a):
        return a
    return a if a > b else b


@kernel
def in_lag(capacity, dep_month, lag):
    """capacity_in_lag of one sector: capacity * max(1 - dep_month * lag, 0)."""
    return capacity * np_maximum(1.0 - dep_month * lag, 0.0)


@kernel
def cap_limit(capacity_cap, phys_per_yuan, share):
    """phases.capacity.cap_limit of one sector (inf: no cap)."""
    if capacity_cap > 0:
        return share * (capacity_cap / phys_per_yuan / 12.0)
    return np.inf


@kernel
def expansion_cover(requested, ratio, quota_pool, limit, in_lag_c, pipe, share):
    """phases.capacity.expansion_allowed's share of each sector's request allowed (`factor`) and
    the covered share of what is allowed (`covered`), by sector."""
    n = requested.shape[0]
    factor = np.empty(n)
    covered = np.empty(n)
    for s in range(n):
        want = share[s] * requested[s]
        allowed = quota_pool[s] / ratio[s] if ratio[s] > 0 else np.inf
        cover = np_minimum(1.0, allowed / want if want > 0 else 1.0)
        head = np_maximum(limit[s] - in_lag_c[s] - pipe[s], 0.0)
        cover = np_minimum(cover, head / want if want > 0 else 1.0)
        if np.isnan(cover):  # np.nan_to_num(nan=0.0, posinf=1.0), then np.clip(0, 1)
            cover = 0.0
        elif cover == np.inf:
            cover = 1.0
        elif cover == -np.inf:
            cover = _MOST_NEGATIVE
        # (np.clip between two scalars keeps the value on a tie: clip(-0.0, 0.0, 1.0) is -0.0)
        cover = 0.0 if cover < 0.0 else (1.0 if cover > 1.0 else cover)
        if share[s] >= 1.0:
            factor[s] = cover
            covered[s] = 1.0
        else:
            factor[s] = (1.0 - share[s]) + share[s] * cover
            covered[s] = share[s] * cover / factor[s] if factor[s] > 0 else share[s]
    return factor, covered


class RulesSectors(NamedTuple):
    """What the capacity rules know of each sector (phases.capacity)."""
    full: np.ndarray  # the rules cover the whole sector
    phys0: np.ndarray  # capacity_2019 per yuan of the sector's 2019 capacity
    share: np.ndarray  # the part the rules cover
    dep_month: np.ndarray
    lag: np.ndarray  # build lag, months


@kernel
def entrant_room(covered, pipe_c, cap, sec, capacity_cap, ratio, quota_pool):
    """phases.capacity.CapacityRules.entry_room by sector: the capacity entrants may add (inf: no
    limit) and the replacement quota used per unit of their capacity (`ratio` times the covered mix
    entrants carry). `sec`: RulesSectors."""
    full, phys0, share, dep_month, lag = sec
    n = cap.shape[0]
    room = np.empty(n)
    entrant_ratio = np.empty(n)
    for s in range(n):
        if not full[s] and cap[s] > 0:
            mix = covered[s] / cap[s]
        else:
            mix = 1.0 if full[s] else 0.0
        head = np_maximum(cap_limit(capacity_cap[s], phys0[s], share[s]) - in_lag(covered[s], dep_month[s], lag[s])
                          - pipe_c[s], 0.0)
        per_unit = in_lag(mix, dep_month[s], lag[s])
        entrant_ratio[s] = ratio[s] * mix
        r = head / per_unit if (np.isfinite(head) and per_unit > 0) else np.inf
        q = quota_pool[s] / entrant_ratio[s] if entrant_ratio[s] > 0 else np.inf
        room[s] = np_minimum(r, q)
    return room, entrant_ratio


@kernel
def carried(part, before, now):
    """CoveredCapacity's covered stock of one sector carried as the sector's stock moved (before ->
    now; 0 where the sector had none)."""
    return part * (now / before if before > 0 else 0.0)


@kernel
def synced_parts(capacity, pipeline, at_cap, at_pipe, cap, pipe, full):
    """CoveredCapacity.synced_parts by sector: the covered capacity and pipeline carried over the
    sector's changes since they were last accounted (at_cap, at_pipe -> cap, pipe), and the
    covered parts (the sector's where the rules cover all of it, np.where's choice). New arrays:
    the caller keeps the old ones."""
    n = capacity.shape[0]
    cap_out, pipe_out, covered, covered_pipe = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for s in range(n):
        cap_out[s] = carried(capacity[s], at_cap[s], cap[s])
        pipe_out[s] = carried(pipeline[s], at_pipe[s], pipe[s])
        covered[s] = cap[s] if full[s] else cap_out[s]
        covered_pipe[s] = pipe[s] if full[s] else pipe_out[s]
    return cap_out, pipe_out, covered, covered_pipe


@kernel
def retired_since(capacity, pipeline, at_cap, at_pipe, cap, pipe, dep):
    """CoveredCapacity.retired_since by sector: the covered capacity and pipeline carried (as
    `synced_parts`) and what the covered part retired, dep + (capacity before - after) + (pipeline
    before - after). New arrays."""
    n = capacity.shape[0]
    cap_out, pipe_out, gone = np.empty(n), np.empty(n), np.empty(n)
    for s in range(n):
        cap_out[s] = carried(capacity[s], at_cap[s], cap[s])
        pipe_out[s] = carried(pipeline[s], at_pipe[s], pipe[s])
        gone[s] = dep[s] + (capacity[s] - cap_out[s]) + (pipeline[s] - pipe_out[s])
    return cap_out, pipe_out, gone


@kernel
def covered_flows(capacity, pipeline, granted, granted_share, lag, cap_now, retired_dep):
    """CoveredCapacity.after_investment by sector: the covered capacity and pipeline after step 8
    and the covered part's depreciation (new arrays)."""
    n = capacity.shape[0]
    cap_out, pipe_out, dep = np.empty(n), np.empty(n), np.empty(n)
    for s in range(n):
        done = pipeline[s] * (1.0 / np_maximum(float(lag[s]), 1.0) if lag[s] > 1 else 1.0)
        new = granted[s] * granted_share[s]
        cap = capacity[s] + done + (new if lag[s] == 0 else 0.0)
        pre = cap_now[s] + retired_dep[s]
        dep[s] = retired_dep[s] * cap / pre if pre > 0 else 0.0
        cap_out[s] = cap - dep[s]
        pipe_out[s] = pipeline[s] - done + (0.0 if lag[s] == 0 else new)
    return cap_out, pipe_out, dep


@kernel
def cap_limits(capacity_cap, phys_per_yuan, share):
    """phases.capacity.cap_limit by sector (inf: no cap)."""
    out = np.empty(capacity_cap.shape[0])
    for s in range(out.shape[0]):
        out[s] = cap_limit(capacity_cap[s], phys_per_yuan[s], share[s])
    return out


@kernel
def scale_under_cap(limit, in_lag_c, pipe_covered, pipe):
    """phases.capacity.pipeline_scale_under_cap by sector."""
    out = np.empty(limit.shape[0])
    for s in range(out.shape[0]):
        over = in_lag_c[s] + pipe_covered[s] - limit[s]
        if over > 0 and pipe[s] > 0:
            out[s] = np_maximum(pipe[s] - np_minimum(over, pipe_covered[s]), 0.0) / pipe[s]
        else:
            out[s] = 1.0
    return out


@kernel
def pool_after_exits(quota_pool, keep, ratio, full, retired, gone):
    """CapacityRules.after_exits' replacement pool by sector: where a ban or a ratio holds (ratio >
    0) the pool kept (a share `keep` of it) plus the covered part's retirements, else nothing."""
    out = np.empty(quota_pool.shape[0])
    for s in range(out.shape[0]):
        out[s] = quota_pool[s] * keep + (retired[s] if full[s] else gone[s]) if ratio[s] > 0 else 0.0
    return out


@kernel
def covered_phys(phys0, capacity, share, full, cap):
    """CoveredCapacity.phys_per_yuan by sector."""
    out = np.empty(phys0.shape[0])
    for s in range(out.shape[0]):
        if not full[s] and share[s] > 0 and cap[s] > 0:
            out[s] = phys0[s] * capacity[s] / (share[s] * cap[s])
        else:
            out[s] = phys0[s]
    return out


# The hooks of phases.capacity.CapacityRules, each in one call: the pieces above composed as the
# hook composed them in Python (some sixty numpy calls and small kernels a month before: about 250 us
# at 300 firms on this host, each numpy call on thirty sectors 3-6 us).


@kernel
def in_lags(capacity, dep_month, lag):
    """Capacity still operating when today's projects come on stream, by sector (`in_lag`; new array)."""
    return np.array([in_lag(capacity[s], dep_month[s], lag[s]) for s in range(capacity.shape[0])])


@kernel
def expansion_step(sync, sec, capacity_cap, requested, ratio, quota_pool):
    """CapacityRules.expansion_factor by sector: the covered capacity and pipeline synced
    (`synced_parts`), the share of each request allowed and the covered share of it
    (`expansion_cover`, under the cap `cap_limits` beside the covered part operating when the
    projects come on stream, `in_lags`), and the quota used per unit granted (the rule's `ratio`, of
    the covered part where the rules cover a part). `sync`: the covered capacity and pipeline, the
    sector's as they were last accounted and now (`synced_parts`' first six arguments); `sec`:
    RulesSectors. Returns the covered capacity and pipeline, the factor, the covered share and the
    quota used (new arrays)."""
    capacity, pipeline, at_cap, at_pipe, cap, pipe = sync
    full, phys0, share, dep_month, lag = sec
    cap_out, pipe_out, covered, covered_pipe = synced_parts(capacity, pipeline, at_cap, at_pipe, cap, pipe, full)
    factor, granted_share = expansion_cover(requested, ratio, quota_pool, cap_limits(capacity_cap, phys0, share),
                                            in_lags(covered, dep_month, lag), covered_pipe, share)
    used = np.empty(cap.shape[0])
    for s in range(used.shape[0]):
        used[s] = ratio[s] if full[s] else ratio[s] * granted_share[s]
    return cap_out, pipe_out, factor, granted_share, used


@kernel
def cap_step(sync, sec, capacity_cap):
    """CapacityRules.enforce_caps by sector: the covered capacity and pipeline synced
    (`synced_parts`) and the share of the pipeline left under the cap (`scale_under_cap`).
    Returns the covered capacity and pipeline, the scale (new arrays) and whether any is below 1.
    `sync`, `sec`: as `expansion_step`'s."""
    capacity, pipeline, at_cap, at_pipe, cap, pipe = sync
    full, phys0, share, dep_month, lag = sec
    cap_out, pipe_out, covered, covered_pipe = synced_parts(capacity, pipeline, at_cap, at_pipe, cap, pipe, full)
    scale = scale_under_cap(cap_limits(capacity_cap, phys0, share), in_lags(covered, dep_month, lag), covered_pipe,
                            pipe)
    cut = False
    for s in range(scale.shape[0]):
        cut |= scale[s] < 1.0
    return cap_out, pipe_out, scale, cut


@kernel
def pool_used(quota_pool, ratio, amount):
    """The replacement pool after `amount` by sector used quota at `ratio`: np.maximum(quota_pool -
    ratio * amount, 0.0) (new array)."""
    out = np.empty(quota_pool.shape[0])
    for s in range(out.shape[0]):
        out[s] = np_maximum(quota_pool[s] - ratio[s] * amount[s], 0.0)
    return out


@kernel
def exit_step(sync, dep, quota_pool, keep, ratio, sec, retired):
    """CapacityRules.after_exits by sector: the covered part's retirements (`retired_since`), the
    replacement pool after them (`pool_after_exits`) and the covered part's physical capacity per
    yuan (`covered_phys`). `sync`, `sec`: as `expansion_step`'s. Returns the covered capacity and
    pipeline, the pool and phys_per_yuan (new arrays)."""
    capacity, pipeline, at_cap, at_pipe, cap, pipe = sync
    full, phys0, share, _, _ = sec
    cap_out, pipe_out, gone = retired_since(capacity, pipeline, at_cap, at_pipe, cap, pipe, dep)
    return (cap_out, pipe_out, pool_after_exits(quota_pool, keep, ratio, full, retired, gone),
            covered_phys(phys0, cap_out, share, full, cap))


@kernel
def entry_step(sync, sec, capacity_cap, ratio, quota_pool):
    """CapacityRules.entry_room by sector: the covered capacity and pipeline synced (`synced_parts`),
    then `entrant_room`. Returns the covered capacity and pipeline, the room and the entrants'
    ratio (new arrays). `sync`, `sec`: as `expansion_step`'s."""
    capacity, pipeline, at_cap, at_pipe, cap, pipe = sync
    cap_out, pipe_out, covered, covered_pipe = synced_parts(capacity, pipeline, at_cap, at_pipe, cap, pipe, sec[0])
    room, entrant_ratio = entrant_room(covered, covered_pipe, cap, sec, capacity_cap, ratio, quota_pool)
    return cap_out, pipe_out, room, entrant_ratio
