"""Demand and its learning (MODEL.md steps 2-3 and 10), as plain functions of the sector tables:
the orders of the input-output block with the rationing of inputs, the intensity of use of inputs,
and what firms learn about the growth of their orders and about turnover."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import market as mkt
from ..kernels import sector_month


class Orders(NamedTuple):
    demand: np.ndarray  # all orders by sector, real
    intermediate: np.ndarray  # orders for inputs
    input_fill: np.ndarray  # rho: the share of its planned output each sector can make
    inputs_received: np.ndarray  # [k, s]: what s receives from k per unit of its output


def solve_orders(other, capacity, io, critical, import_share, out_prev, month: int) -> Orders:
    """Steps 2-3: each sector's orders this month, with intermediate orders placed for the output
    buyers plan this month (Leontief within the month), and the rationing of inputs. `other`:
    final and investment orders (real). A sector plans x_s = min(D_s, K_s) (the market spills
    orders over to spare capacity) and makes q_s = rho_s x_s, where rho_s is the least fill rate
    of its critical inputs; a supplier rations its buyers pro rata and buyers import the share m
    (`economy.shortage_import_share`) of what it cannot supply, so a buyer gets
    phi_k = (q_k + m max(D_k - q_k, 0)) / D_k of what it ordered from k. Orders are
    D = other + A x. Solved by fixed-point iteration from last month's output `out_prev` in a
    compiled loop (kernels.market.solve_orders; the input-output matrix's column sums are below one,
    so it contracts, in a few dozen steps to 1e-13). Inputs from the buyer's own sector are trade
    within the industry and do not bind. inputs_received[k, s] = a_ks phi_k / rho_s: what s
    receives from k per unit of its output (phi_k of what it ordered for the output it planned,
    q_s / rho_s)."""
    # (out_prev is a column of last month's income table from the second month on: made contiguous, the
    # kernel has one signature, not a second one loaded from the cache in month 2)
    demand, inter, rho, phi, its = mkt.solve_orders(other, capacity, io, critical, import_share,
                                                    np.ascontiguousarray(out_prev), 1e-13, 200)
    if its < 0:
        raise RuntimeError(f"month {month}: the orders of the input-output block did not converge")
    return Orders(demand, inter, rho, sector_month.inputs_received(io, phi, rho))


def intensity_of_use(io0, materials0, trend, t: int) -> tuple[np.ndarray, np.ndarray]:
    """The input-output coefficients of month t: buyers use a_ks = a0_ks exp(trend_k t/12) of
    sector k's goods per unit of output (`sectors.<k>.input_intensity_trend`), and buy what they
    save from the rest of the economy instead (materials), so unit costs at 2019 prices stay."""
    io = io0 * np.exp(trend * t / 12.0)[:, None]
    return io, materials0 + (io0 - io).sum(axis=0)


def learn_growth(orders, smooth, growth_expected, behaviour) -> tuple[np.ndarray, np.ndarray]:
    """Firms learn the growth of their sector's orders: orders smoothed at
    `behaviour.expectation_speed`, their monthly growth averaged at `behaviour.growth_learning`
    into the expected growth of orders (a year), which investment builds capacity for
    (kernels.investment). With the calibrated trend alone, orders growing faster than it kept
    capacity short and utilisation rising for as long as the run lasted. Returns the smoothed
    orders and the expected growth."""
    return sector_month.learned_growth(orders, smooth, growth_expected, behaviour.expectation_speed,
                                       behaviour.growth_learning)


def learn_turnover(retired, entered, capacity, turnover, behaviour) -> np.ndarray:
    """Firms learn the net share of their sector's capacity that exits leave to the survivors each
    year (capacity and pipeline of the firms that exited, less the entrants' capacity, over the
    sector's capacity), averaged at `behaviour.growth_learning`. A survivor's orders grow by that
    much beyond the sector's, and it builds for it (expected growth = orders growth + turnover):
    without it, capacity lost to defaults and exits was replaced only through the gap between
    desired and actual capacity, which then stayed open (a proportional rule's steady-state error),
    and utilisation and markups rose year after year."""
    return sector_month.learned_turnover(retired, entered, capacity, turnover, behaviour.growth_learning)
