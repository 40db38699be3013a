"""The capacity rules' sector arithmetic in compiled loops (kernels.capacity_rules) gives what the
numpy expressions it replaced gave, bit for bit and sign of zero included, on sectors with and
without rules, caps, pools, requests and capacity (zeros, infinities and NaN among them)."""

import numpy as np
import pytest

from sim.kernels import capacity_rules as k


def _edgy(rng, n, scale=1.0):
    x = rng.random(n) * scale
    pick = rng.integers(0, 6, n)
    x[pick == 0] = 0.0
    x[pick == 1] = -0.0
    return x


def _np_expansion(requested, ratio, quota_pool, limit, in_lag, pipe, share):
    """phases.capacity.expansion_allowed's numpy (before kernels.capacity_rules)."""
    want = share * requested
    cover = np.ones(requested.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        allowed = np.where(ratio > 0, quota_pool / np.where(ratio > 0, ratio, 1.0), np.inf)
        cover = np.minimum(cover, np.where(want > 0, allowed / want, 1.0))
        head = np.maximum(limit - in_lag - pipe, 0.0)
        cover = np.minimum(cover, np.where(want > 0, head / want, 1.0))
    cover = np.clip(np.nan_to_num(cover, nan=0.0, posinf=1.0), 0.0, 1.0)
    full = share >= 1.0
    factor = np.where(full, cover, (1.0 - share) + share * cover)
    with np.errstate(divide="ignore", invalid="ignore"):
        covered = np.where(full, 1.0, np.where(factor > 0, share * cover / factor, share))
    return factor, covered


def _same(a, b):
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("seed", range(20))
def test_expansion_cover_as_numpy(seed):
    rng = np.random.default_rng(seed)
    n = 30
    requested, quota = _edgy(rng, n, 50.0), _edgy(rng, n, 20.0)
    ratio = np.where(rng.random(n) < 0.5, 0.0, rng.choice([1.0, 1.25, 1.5, 2.0], n))
    limit = np.where(rng.random(n) < 0.5, np.inf, rng.random(n) * 100.0)
    in_lag, pipe = _edgy(rng, n, 60.0), _edgy(rng, n, 30.0)
    share = rng.choice([0.0, 0.3, 1.0], n)
    got = k.expansion_cover(requested, ratio, quota, limit, in_lag, pipe, share)
    for a, b in zip(got, _np_expansion(requested, ratio, quota, limit, in_lag, pipe, share), strict=True):
        assert _same(a, b)


@pytest.mark.parametrize("seed", range(20))
def test_small_pieces_as_numpy(seed):
    rng = np.random.default_rng(100 + seed)
    n = 30
    part, before, now = _edgy(rng, n, 5.0), _edgy(rng, n, 9.0), _edgy(rng, n, 9.0)
    pipe_part, pipe_before, pipe_now, dep = _edgy(rng, n, 3.0), _edgy(rng, n, 4.0), _edgy(rng, n, 4.0), _edgy(rng, n)
    full = rng.random(n) < 0.3
    with np.errstate(divide="ignore", invalid="ignore"):
        carried = part * np.where(before > 0, now / np.where(before > 0, before, 1.0), 0.0)
        moved = np.where(pipe_before > 0, pipe_now / np.where(pipe_before > 0, pipe_before, 1.0), 0.0)
        pipe_carried = pipe_part * moved
    got = k.synced_parts(part, pipe_part, before, pipe_before, now, pipe_now, full)
    for a, b in zip(got, (carried, pipe_carried, np.where(full, now, carried), np.where(full, pipe_now, pipe_carried)),
                    strict=True):
        assert _same(a, b)
    got = k.retired_since(part, pipe_part, before, pipe_before, now, pipe_now, dep)
    for a, b in zip(got, (carried, pipe_carried, dep + (part - carried) + (pipe_part - pipe_carried)), strict=True):
        assert _same(a, b)
    cap_cap, phys, share = np.where(rng.random(n) < 0.5, 0.0, rng.random(n) * 40.0), rng.random(n) + 0.5, rng.random(n)
    on = cap_cap > 0
    assert _same(k.cap_limits(cap_cap, phys, share),
                 np.where(on, share * (cap_cap / np.where(on, phys, 1.0) / 12.0), np.inf))
    limit, in_lag, pipe_c, pipe = rng.random(n) * 50.0, _edgy(rng, n, 40.0), _edgy(rng, n, 20.0), _edgy(rng, n, 30.0)
    over = in_lag + pipe_c - limit
    scale = np.ones(n)
    np.divide(np.maximum(pipe - np.minimum(over, pipe_c), 0.0), pipe, out=scale, where=(over > 0) & (pipe > 0))
    assert _same(k.scale_under_cap(limit, in_lag, pipe_c, pipe), scale)
    x, y = _edgy(rng, n) - 0.5, _edgy(rng, n) - 0.5
    x[:3], y[:3] = np.nan, 0.0
    y[3:6] = np.nan
    assert _same(np.array([k.np_minimum(a, b) for a, b in zip(x, y, strict=True)]), np.minimum(x, y))
    assert _same(np.array([k.np_maximum(a, b) for a, b in zip(x, y, strict=True)]), np.maximum(x, y))


@pytest.mark.parametrize("seed", range(20))
def test_the_hooks_in_one_call_as_their_pieces(seed):
    """CapacityRules' hooks in one call each (`expansion_step`, `cap_step`, `exit_step`,
    `entry_step`, `pool_used`) give what their pieces and the numpy between them gave."""
    rng = np.random.default_rng(300 + seed)
    n = 30
    capacity, pipeline, dep, retired = _edgy(rng, n, 5.0), _edgy(rng, n, 3.0), _edgy(rng, n), _edgy(rng, n, 2.0)
    at_cap, at_pipe, cap, pipe = _edgy(rng, n, 9.0), _edgy(rng, n, 4.0), _edgy(rng, n, 9.0), _edgy(rng, n, 4.0)
    full = rng.random(n) < 0.3
    share = np.where(full, 1.0, rng.choice([0.0, 0.3], n))
    phys0, dep_month, lag = rng.random(n) + 0.5, rng.random(n) * 0.05, rng.integers(0, 40, n)
    sec = k.RulesSectors(full, phys0, share, dep_month, lag)
    cap_cap = np.where(rng.random(n) < 0.5, 0.0, rng.random(n) * 40.0)
    requested, pool, amount = _edgy(rng, n, 50.0), _edgy(rng, n, 20.0), _edgy(rng, n, 10.0)
    ratio = np.where(rng.random(n) < 0.5, 0.0, rng.choice([1.0, 1.25, 2.0], n))
    ratio[:2] = np.nan
    state = (capacity, pipeline, at_cap, at_pipe, cap, pipe)
    cap_out, pipe_out, covered, covered_pipe = k.synced_parts(*state, full)
    in_lag = covered * np.maximum(1.0 - dep_month * lag, 0.0)  # (phases.capacity.capacity_in_lag's numpy)
    assert _same(k.in_lags(covered, dep_month, lag), in_lag)
    limit = k.cap_limits(cap_cap, phys0, share)
    factor, granted_share = k.expansion_cover(requested, ratio, pool, limit, in_lag, covered_pipe, share)
    want = (cap_out, pipe_out, factor, granted_share, np.where(full, ratio, ratio * granted_share))
    for a, b in zip(k.expansion_step(state, sec, cap_cap, requested, ratio, pool), want, strict=True):
        assert _same(a, b)
    scale = k.scale_under_cap(limit, in_lag, covered_pipe, pipe)
    got = k.cap_step(state, sec, cap_cap)
    for a, b in zip(got[:3], (cap_out, pipe_out, scale), strict=True):
        assert _same(a, b)
    assert got[3] == bool(np.any(scale < 1.0))
    assert _same(k.pool_used(pool, ratio, amount), np.maximum(pool - ratio * amount, 0.0))
    c_out, p_out, gone = k.retired_since(*state, dep)
    want = (c_out, p_out, k.pool_after_exits(pool, 0.95, ratio, full, retired, gone),
            k.covered_phys(phys0, c_out, share, full, cap))
    for a, b in zip(k.exit_step(state, dep, pool, 0.95, ratio, sec, retired), want, strict=True):
        assert _same(a, b)
    want = (cap_out, pipe_out) + k.entrant_room(covered, covered_pipe, cap, sec, cap_cap, ratio, pool)
    for a, b in zip(k.entry_step(state, sec, cap_cap, ratio, pool), want, strict=True):
        assert _same(a, b)
