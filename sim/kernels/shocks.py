"""Lumpy firm-level shocks (MODEL.md, Distress; issue 20 part 2): large orders won and lost, and
cost shocks, drawn as one uniform a firm a month (the "firm_shocks" stream) before the market step.

Order shock: x_i, the log deviation of a firm's orders from what its competitiveness alone gives,
decays at rate 1 - rho a month and jumps with probability p_o by a Laplace(0, b_o) amount:
x' = rho x + J, J = 0 with probability 1 - p_o. The firm's market share is multiplied by
exp(x' - x); the market step divides the shares of each sector by their sum, so they add up to one
again and the firm's orders move by about the jump. Growth driven by a few large jumps is what makes
firm growth rates Laplace-shaped rather than normal (Arata, JEDC 2019; Bottazzi and Secchi, RAND
2006).

Cost shock: with probability p_c (exclusive of an order jump in the same month) the firm's cost
wedge w_i, its cost per yuan of output beyond its sector's unit cost that its price does not pass on,
is redrawn from Laplace(0, b_c), the distribution it starts from.

One uniform u serves both: u < p_o is an order jump of size F^-1(u / p_o), p_o <= u < p_o + p_c a
cost shock F^-1((u - p_o) / p_c), F^-1 the Laplace quantile function (u / p_o is uniform given
u < p_o). A firm that draws nothing keeps its share bit for bit when its order shock is zero.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._numba import chunks, kernel, rows_of
from .elementary import add_chunks

# the scalar parameters of the shocks (the behaviour settings of the same names)
SHOCK_FIELDS = {
    "order_jump_prob": (float, "monthly probability of an order jump"),
    "order_jump_scale": (float, "Laplace scale of an order jump, log points"),
    "order_shock_persistence": (float, "monthly persistence rho of the order shock"),
    "cost_shock_prob": (float, "monthly probability that the cost wedge is redrawn"),
    "cost_wedge_scale": (float, "Laplace scale of the cost wedge, yuan per yuan of output"),
}
ShockParams = namedtuple("ShockParams", tuple(SHOCK_FIELDS))


def shock_params(behaviour) -> ShockParams:
    return ShockParams(*(kind(getattr(behaviour, name)) for name, (kind, _) in SHOCK_FIELDS.items()))


def laplace_quantiles(u: np.ndarray, scale: float) -> np.ndarray:
    """The Laplace(0, scale) quantiles of uniforms u (numpy, for the set-up's draws)."""
    u = np.clip(np.asarray(u, dtype=float), 1e-16, 1.0 - 1e-16)
    return np.where(u < 0.5, scale * np.log(2.0 * u), -scale * np.log(2.0 * (1.0 - u)))


@njit(cache=True, inline="always")
def laplace_quantile(v, scale):
    """The Laplace(0, scale) quantile of one uniform v (as `laplace_quantiles`)."""
    if v < 1e-16:
        v = 1e-16
    elif v > 1.0 - 1e-16:
        v = 1.0 - 1e-16
    if v < 0.5:
        return scale * np.log(2.0 * v)
    return -scale * np.log(2.0 * (1.0 - v))


@kernel(parallel=True)
def firm_shocks(firms, u, params, wedge_level):
    """This month's order and cost shocks of every live row (module docstring), and in the same pass
    the sectors' average cost wedge the prices pass on: the live rows' wedges weighted by last
    month's output, summed in fixed chunks of rows as `sums.sector_weighted_mean` sums them (the same
    numbers; one pass over the rows instead of two).

    firms: FirmState (reads alive, sector, output; writes share, order_shock, cost_wedge of live
    rows); u: one uniform per row; params: ShockParams; wedge_level: by sector (written; 0 where the
    sector had no output)."""
    alive = firms.alive
    sector = firms.sector
    output = firms.output
    share = firms.share
    order_shock = firms.order_shock
    cost_wedge = firms.cost_wedge
    p_o = params.order_jump_prob
    b_o = params.order_jump_scale
    rho = params.order_shock_persistence
    p_c = params.cost_shock_prob
    b_c = params.cost_wedge_scale
    n = alive.shape[0]
    n_s = wedge_level.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, n_s, 2))
    for c in prange(nc):
        t = part[c]
        for i in rows_of(c, cs, n):
            if not alive[i]:
                continue
            x = order_shock[i]
            x_new = rho * x
            ui = u[i]
            wedge = cost_wedge[i]
            if ui < p_o:
                x_new += laplace_quantile(ui / p_o, b_o)
            elif ui < p_o + p_c:
                wedge = laplace_quantile((ui - p_o) / p_c, b_c)
                cost_wedge[i] = wedge
            if x_new != x:
                share[i] = share[i] * np.exp(x_new - x)
                order_shock[i] = x_new
            s = np.uint64(sector[i])
            q = output[i]
            t[s, 0] += q * wedge
            t[s, 1] += q
    tot = np.zeros((n_s, 2))
    add_chunks(tot, part)
    for s in range(n_s):
        wedge_level[s] = tot[s, 0] / tot[s, 1] if tot[s, 1] > 0 else 0.0
