"""Sums over the month's small tables (sectors by column, entrants by sector) in one call each,
as numpy summed them value by value (`sums.pairwise_sum`, numpy's pairwise order): the step, the
records and the closed economy's accounts summed thirty-odd columns of the income, investment and
exit tables with a numpy call each, and entry summed its entrants sector by sector in a Python
loop (a few microseconds a call: a tenth of a millisecond a month, the fixed cost of a small
economy; benchmarks/RESULTS.md, "The Python between the kernels")."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .._numba import kernel
from . import accounting as acc
from . import exit_entry as xe
from . import investment as inv
from .capacity_rules import np_maximum
from .sums import pairwise_sum


@kernel
def scaled_with_totals(table, weight):
    """(table * weight[:, None], the column sums of that product): each column summed as numpy's
    `x[:, k].sum()` sums it. `table`: by sector (rows) and item (columns), one model firm each;
    `weight`: real firms per model firm, by sector."""
    n, k = table.shape
    out = np.empty((n, k))
    for s in range(n):
        for j in range(k):
            out[s, j] = table[s, j] * weight[s]
    tot = np.empty(k)
    for j in range(k):
        tot[j] = pairwise_sum(out[:, j])
    return out, tot


@kernel
def entrant_positions(counts, most):
    """The month's entrants in sector order: the first entrant of each sector (`start`, one more
    than the sectors: the end), each entrant's sector and the position of its draws in a (sectors,
    most) array (the j-th entrant of sector s: s * most + j)."""
    n_s = counts.shape[0]
    start = np.zeros(n_s + 1, dtype=np.int64)
    for s in range(n_s):
        start[s + 1] = start[s] + counts[s]
    total = start[n_s]
    s_of = np.empty(total, dtype=np.int64)
    pos = np.empty(total, dtype=np.int64)
    for s in range(n_s):
        for j in range(counts[s]):
            s_of[start[s] + j] = s
            pos[start[s] + j] = s * most + j
    return start, s_of, pos


@kernel
def fit_to_room(cap, start, room):
    """Entrants of a sector with finite room (capacity left under a cap and within the replacement
    quota) scaled down together to fit it: cap[a:b] *= min(1, room / max(their sum, 1e-12)), as the
    Python expression computes it (its min and max keep the first argument on ties and NaNs)."""
    for s in range(room.shape[0]):
        a, b = start[s], start[s + 1]
        if b > a and np.isfinite(room[s]):
            tot = pairwise_sum(cap[a:b])
            d = 1e-12 if 1e-12 > tot else tot
            x = room[s] / d
            f = x if x < 1.0 else 1.0
            for i in range(a, b):
                cap[i] = cap[i] * f


@kernel
def entrant_totals(cap, cash, start, weight):
    """Entrants' capacity by sector (model-firm units: each sector's slice of `cap` summed as numpy
    sums it) and their deposits, economy-wide (each sector's sum times its weight, added in sector
    order)."""
    n_s = weight.shape[0]
    cap_s = np.zeros(n_s)
    total_cash = 0.0
    for s in range(n_s):
        a, b = start[s], start[s + 1]
        if b > a:
            total_cash += weight[s] * pairwise_sum(cash[a:b])
            cap_s[s] = pairwise_sum(cap[a:b])
    return cap_s, total_cash


@kernel
def masked_sums(mask, columns):
    """The sum of each array in `columns` (a tuple of float arrays of mask's length) over the rows
    where `mask`, as numpy sums the gathered values (`x[mask].sum()`)."""
    n = mask.shape[0]
    buf = np.empty(n)
    out = np.empty(len(columns))
    for j in range(len(columns)):
        x = columns[j]
        k = 0
        for i in range(n):
            if mask[i]:
                buf[k] = x[i]
                k += 1
        out[j] = pairwise_sum(buf[:k])
    return out


# the records by sector `sector_records` makes, in its order (the order of sim.records.VARIABLES, so
# that they go into the records in one slice: records.Recorder.put)
SECTOR_RECORDS = (
    "output", "capacity", "capacity_physical", "utilization", "price_index", "price_index_tax_inclusive", "demand",
    "final_demand", "unfilled_orders", "input_fill", "value_added", "revenue", "profit", "profit_margin",
    "employment", "wages", "energy_use", "energy_cost", "unit_energy_cost", "vat_revenue", "cit_revenue", "n_firms",
    "entries", "exits_bankruptcy", "exits_forced", "exits_voluntary", "capacity_added", "capacity_retired",
    "capacity_pipeline", "productivity_mean", "productivity_frontier", "energy_intensity_mean", "markup_mean",
    "upgrades", "upgrades_completed", "investment", "loans", "net_worth", "loss_making_share", "zombie_share")


@kernel
def sector_records(inc, ivt, ext, st, weight, by_sector):
    """The month's records by sector (rows in SECTOR_RECORDS' order), each as the numpy expression
    of phases.accounts.record_sectors computed it from the income, investment and exit tables
    (economy-wide), the stocks (one model firm each), the weights (real firms per model firm) and
    `by_sector`: orders, final demand, input fill, the price indexes ex-VAT and as final buyers pay,
    the productivity frontier, entrants, entrants' capacity, capacity retired and physical units per
    yuan of capacity. (Output and utilisation at production time: firms that exit later this month
    included.)"""
    demand, final, fill, price, ptax, frontier, entries, entry_cap, retired, phys = by_sector
    n_s = weight.shape[0]
    out = np.empty((len(SECTOR_RECORDS), n_s))
    for s in range(n_s):
        w = weight[s]
        output, revenue, energy = inc[s, acc.I_OUTPUT], inc[s, acc.I_REVENUE], inc[s, acc.I_ENERGY]
        cap_w = st[s, acc.S_CAPACITY] * w
        short = demand[s] - output  # (output sums firm by firm: a filled sector's gap is rounding)
        # (two tuples: Python builds a tuple of more than 30 values through a list, which numba refuses)
        first = (
            output, cap_w, cap_w * 12.0 * phys[s], output / np_maximum(inc[s, acc.I_CAPACITY], 1e-300), price[s],
            ptax[s], demand[s], final[s], short if short > 1e-9 * demand[s] else 0.0, fill[s],
            inc[s, acc.I_VALUE_ADDED], revenue, inc[s, acc.I_PROFIT],
            inc[s, acc.I_PROFIT] / np_maximum(revenue, 1e-12), inc[s, acc.I_WORKERS], inc[s, acc.I_WAGES],
            inc[s, acc.I_ENERGY_USE], energy, energy / np_maximum(output, 1e-12), inc[s, acc.I_VAT])
        second = (
            inc[s, acc.I_CIT], st[s, acc.S_N_FIRMS] * w, float(entries[s]), ext[s, xe.X_BANKRUPT],
            ext[s, xe.X_FORCED], ext[s, xe.X_VOLUNTARY], ivt[s, inv.V_ADDED] + entry_cap[s], retired[s],
            st[s, acc.S_PIPELINE] * w, st[s, acc.S_PROD_W] / np_maximum(st[s, acc.S_CAPACITY], 1e-300), frontier[s],
            st[s, acc.S_EI_W] / np_maximum(st[s, acc.S_OUTPUT], 1e-300),
            st[s, acc.S_MARKUP_W] / np_maximum(st[s, acc.S_OUTPUT], 1e-300), ivt[s, inv.V_UPGRADES],
            ivt[s, inv.V_UPGRADES_DONE], ivt[s, inv.V_INVESTMENT], st[s, acc.S_LOANS] * w,
            st[s, acc.S_NET_WORTH] * w, st[s, acc.S_LOSS_MAKING] / np_maximum(st[s, acc.S_N_FIRMS], 1.0),
            ext[s, xe.X_ZOMBIES] / np_maximum(st[s, acc.S_N_FIRMS] * w, 1e-300))
        for k in range(len(first)):
            out[k, s] = first[k]
        for k in range(len(second)):
            out[len(first) + k, s] = second[k]
    return out


@kernel
def class_records(cls_loans, cls_interest, ext_total, live_sme, live_all):
    """The month's records by size class (SME, large): credit, its loan-weighted rate,
    bankruptcies, defaults and the default rate (over the live firms of the class, `live_sme` and
    `live_all` less it, plus the defaults), each as the numpy expression of
    phases.accounts.record_distress computed it; rows in that order (sim.records.VARIABLES')."""
    out = np.empty((5, 2))
    live = (live_sme, live_all - live_sme)
    bankrupt = (ext_total[xe.X_BANKRUPT_SME], ext_total[xe.X_BANKRUPT_LARGE])
    defaults = (ext_total[xe.X_DEFAULT_SME], ext_total[xe.X_DEFAULT_LARGE])
    for c in range(2):
        out[0, c] = cls_loans[c]
        out[1, c] = cls_interest[c] / np_maximum(cls_loans[c], 1e-300)
        out[2, c] = bankrupt[c]
        out[3, c] = defaults[c]
        out[4, c] = defaults[c] / np_maximum(live[c] + defaults[c], 1e-300)
    return out


@kernel
def bank_records(alive, books):
    """The live banks' records (phases.accounts.record_banks), from their books summed as numpy sums
    x[alive] (`masked_sums`; `books`: NPLs, loans, loans special-mention, substandard, doubtful and
    loss, equity, risk-weighted assets, profit): loans by category (normal first: loans less the
    other four), and (the NPL ratio, the capital ratio, equity, profit, the live banks)."""
    npl, loans, special, substandard, doubtful, loss, equity, rwa, profit = masked_sums(alive, books)
    cats = np.array((special, substandard, doubtful, loss))
    by_cat = np.empty(5)
    by_cat[0] = loans - pairwise_sum(cats)
    by_cat[1:] = cats
    live = 0
    for i in range(alive.shape[0]):
        live += alive[i]
    return by_cat, (npl / np_maximum(loans, 1e-300), equity / np_maximum(rwa, 1e-300), equity, profit, float(live))


# the entrants' values of the fields `write_entrants` does not set to a constant, one array each
# (entrant k's at k), named as the firm fields they go into
EntrantValues = namedtuple("EntrantValues", (
    "sector", "bank", "capacity", "productivity", "energy_intensity", "share", "orders", "price", "markup",
    "loan_rate", "cost_wedge", "leverage_target", "cash", "capital", "other_assets", "other_liab", "loans",
    "net_worth"))


@kernel
def write_entrants(f, rows, first_id, e):
    """Every field of the entrants' rows (`f`: state.FirmState; `e`: EntrantValues) in one call, as
    `SoA.set_rows` writes them (the values cast as `astype` casts them, firm ids from `first_id` on,
    zero in every other field): numpy's indexed assignment, one a field, took 0.66 ms a month at
    1:1 (~3,000 entrants into 45 arrays). Every field of FirmState is named here but the two kept in
    another's array (`state.SHARED_ARRAYS`: an entrant's `share_prev` and `net_worth` are written,
    not the plans' and `pd`'s zero) and `orders`, whose array keeps the credit scratch's `granted`
    for the records until the market step writes it (`state.SCRATCH_IN_FIRM_ARRAYS`):
    tests/test_tables.py checks this against `set_rows`."""
    for k in range(rows.shape[0]):
        r = rows[k]
        f.alive[r] = f.sme[r] = True
        f.soe[r] = False
        f.firm_id[r], f.sector[r], f.bank[r] = first_id + k, e.sector[k], e.bank[k]
        f.age[r] = f.upgrade_left[r] = f.loss_months[r] = f.weak_months[r] = f.court[r] = 0
        f.exit_reason[r] = 0
        f.capacity[r], f.productivity[r] = e.capacity[k], e.productivity[k]
        f.energy_intensity[r] = e.energy_intensity[k]
        f.share[r] = f.share_prev[r] = e.share[k]
        f.expected[r] = e.orders[k]
        f.price[r], f.markup[r], f.loan_rate[r] = e.price[k], e.markup[k], e.loan_rate[k]
        f.cost_wedge[r], f.leverage_target[r] = e.cost_wedge[k], e.leverage_target[k]
        f.cash[r], f.capital[r], f.other_assets[r] = e.cash[k], e.capital[k], e.other_assets[k]
        f.other_liab[r], f.loans[r], f.net_worth[r] = e.other_liab[k], e.loans[k], e.net_worth[k]
        f.pipeline[r] = f.pipeline_cost[r] = f.upgrade_productivity[r] = f.upgrade_energy[r] = 0.0
        f.output[r] = f.unfilled[r] = f.revenue[r] = f.guaranteed[r] = f.profit[r] = 0.0
        f.profit_year[r] = f.order_shock[r] = f.customer_base[r] = f.plan_upgrade[r] = 0.0
