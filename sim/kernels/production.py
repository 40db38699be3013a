"""Production, costs and prices (MODEL.md steps 4-5)."""

from __future__ import annotations

from .._numba import kernel


@kernel
def unit_costs(alive, sector, productivity, energy_intensity, va_cost, energy_cost, material_cost, unit_cost):
    """c_i = (wage and services block)_s / A_i + energy_s * EI_i + (IO inputs and materials)_s.

    va_cost[s] = (labour share x wage index + services share), energy_cost[s] = energy share x
    energy price index, material_cost[s] = sum_k a_ks P_k + other materials: all per yuan of output.
    """
    for i in range(alive.shape[0]):
        if alive[i]:
            s = sector[i]
            unit_cost[i] = (va_cost[s] / productivity[i] + energy_cost[s] * energy_intensity[i]
                            + material_cost[s])


@kernel
def labour_and_energy(alive, sector, output, productivity, energy_intensity, workers_per_yuan,
                      mwh_per_yuan, workers, energy):
    """Employment and energy use follow output, productivity and energy intensity."""
    for i in range(alive.shape[0]):
        if alive[i]:
            s = sector[i]
            workers[i] = output[i] * workers_per_yuan[s] / productivity[i]
            energy[i] = output[i] * mwh_per_yuan[s] * energy_intensity[i]
        else:
            workers[i] = 0.0
            energy[i] = 0.0


@kernel
def set_prices(alive, sector, share, share_prev, unfilled, unit_cost, markup_anchor, vat_factor, response,
               anchor_speed, backlog_response, markup, price):
    """Markups rise with market-share growth (Dosi et al. 2013) and are pulled toward the sector
    norm, which rises with sector utilisation; a firm that cannot fill its orders raises its markup
    (rationing by price); price = (1 + mu) c times the sector's VAT margin factor.
    """
    for i in range(alive.shape[0]):
        if alive[i]:
            s = sector[i]
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
            price[i] = (1.0 + mu) * unit_cost[i] * vat_factor[s]
