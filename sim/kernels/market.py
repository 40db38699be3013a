"""Market: shares by replicator dynamics and orders (MODEL.md steps 3-4)."""

from __future__ import annotations

import numpy as np

from .._numba import kernel


@kernel
def update_shares(alive, sector, price, unfilled, price_index, chi, w_price, w_backlog, share, share_prev):
    """f_i <- f_i (1 + chi (E_i / E_bar_s - 1)), E_i = exp(-w_p log(p_i/P_s) - w_l l_i).

    Competitiveness falls with the relative price and with last month's unfilled orders (Dosi et
    al. 2010). Shares in each sector are renormalised to sum to one.
    """
    n_s = price_index.shape[0]
    ebar = np.zeros(n_s)
    tot = np.zeros(n_s)
    n = alive.shape[0]
    for i in range(n):
        if alive[i]:
            s = sector[i]
            e = np.exp(-w_price * np.log(price[i] / price_index[s]) - w_backlog * unfilled[i])
            ebar[s] += share[i] * e
            tot[s] += share[i]
    for s in range(n_s):
        if tot[s] > 0:
            ebar[s] /= tot[s]
    new_tot = np.zeros(n_s)
    for i in range(n):
        share_prev[i] = share[i]
        if alive[i]:
            s = sector[i]
            if ebar[s] > 0:
                e = np.exp(-w_price * np.log(price[i] / price_index[s]) - w_backlog * unfilled[i])
                share[i] = share[i] * (1.0 + chi * (e / ebar[s] - 1.0))
            if share[i] < 0.0:
                share[i] = 0.0
            new_tot[s] += share[i]
        else:
            share[i] = 0.0
    for i in range(n):
        if alive[i] and new_tot[sector[i]] > 0:
            share[i] /= new_tot[sector[i]]


@kernel
def allocate_orders(alive, sector, share, demand, capacity, price, orders, output, unfilled, revenue):
    """Orders are shares of sector demand; output is the lesser of orders and capacity.

    Orders a firm cannot fill go once, pro rata, to firms of the sector with spare capacity.
    Revenue is output at the posted price.
    """
    n_s = demand.shape[0]
    short = np.zeros(n_s)
    spare = np.zeros(n_s)
    n = alive.shape[0]
    for i in range(n):
        if alive[i]:
            s = sector[i]
            orders[i] = share[i] * demand[s]
            q = orders[i] if orders[i] < capacity[i] else capacity[i]
            output[i] = q
            short[s] += orders[i] - q
            spare[s] += capacity[i] - q
        else:
            orders[i] = 0.0
            output[i] = 0.0
    for i in range(n):
        if alive[i]:
            s = sector[i]
            free = capacity[i] - output[i]
            if short[s] > 0 and spare[s] > 0 and free > 0:
                frac = short[s] / spare[s]
                if frac > 1.0:
                    frac = 1.0
                output[i] += free * frac
            unfilled[i] = 1.0 - output[i] / orders[i] if orders[i] > output[i] else 0.0
            revenue[i] = price[i] * output[i]
        else:
            unfilled[i] = 0.0
            revenue[i] = 0.0
