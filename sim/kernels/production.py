"""Production, costs and prices (MODEL.md steps 4-5)."""

from __future__ import annotations

import numpy as np
from numba import prange

from .._numba import kernel


@kernel(parallel=True)
def costs_and_prices(alive, sector, productivity, energy_intensity, va_cost, energy_cost, material_cost, share,
                     share_prev, unfilled, markup_anchor, vat_factor, response, anchor_speed, backlog_response,
                     markup, price):
    """Unit cost c = (wage and services block)_s / A + energy_s x EI + (IO inputs and materials)_s
    (per yuan of output: va_cost = labour share x wage index + services share, energy_cost = energy
    share x energy price index, material_cost = sum_k a_ks P_k + other materials). Markups rise with
    market-share growth (Dosi et al. 2013; growth clipped to +-20%) and are pulled toward the sector
    norm, which rises with sector utilisation; a firm that cannot fill its orders raises its markup
    (rationing by price); price for next month = (1 + mu) c times the sector's VAT margin factor."""
    for i in prange(alive.shape[0]):
        if alive[i]:
            s = np.uint64(sector[i])
            unit_cost = (va_cost[s] / productivity[i] + energy_cost[s] * energy_intensity[i]
                         + material_cost[s])
            g = 0.0
            if share_prev[i] > 0:
                g = share[i] / share_prev[i] - 1.0
                if g > 0.2:
                    g = 0.2
                elif g < -0.2:
                    g = -0.2
            mu = markup[i] * (1.0 + response * g)
            mu = mu + anchor_speed * (markup_anchor[s] - mu) + backlog_response * unfilled[i]
            if mu < 0.0:
                mu = 0.0
            elif mu > 2.0:
                mu = 2.0
            markup[i] = mu
            price[i] = (1.0 + mu) * unit_cost * vat_factor[s]
