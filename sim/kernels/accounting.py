"""Income, taxes and balance sheets (MODEL.md step 6), and sector sums for the records (step 11)."""

from __future__ import annotations

import numpy as np

from .._numba import kernel

# columns of the per-sector income table written by `income`
(I_REVENUE, I_WAGES, I_SERVICES, I_ENERGY, I_MATERIALS, I_VALUE_ADDED, I_INTEREST, I_DEPRECIATION,
 I_PRETAX, I_VAT, I_CIT, I_PROFIT, I_DIVIDENDS, I_OUTPUT, I_CAPACITY, I_DEPOSIT_INTEREST, I_CASH) = range(17)
N_INCOME = 17


@kernel
def income(alive, sector, sme, output, capacity, revenue, productivity, energy_intensity, loans, loan_rate,
           deposit_rate,
           labour_cost, services_cost, energy_cost, material_cost, dep_rate, vat_rate, vat_inputs_per_q,
           vat_rate_inputs, cit_rate, cit_rate_small, cit_rate_small_upper, small_low_month, small_profit_month,
           payout,
           cash, capital, other_assets, other_liab, profit, loss_months, net_worth, table):
    """Sales less wages, services, energy, inputs, interest and depreciation; VAT remitted on value
    added (output VAT less input VAT); corporate income tax with the small low-profit enterprise
    bands (Caishui [2019] No. 13); dividends.

    VAT is collected from buyers and remitted, so it passes through the firm's cash; the firm keeps
    sales ex-VAT. Depreciation lowers capital, not cash.
    """
    table[:, :] = 0.0
    for i in range(alive.shape[0]):
        if not alive[i]:
            continue
        s = sector[i]
        q = output[i]
        r = revenue[i]
        wages = q * labour_cost[s] / productivity[i]
        serv = q * services_cost[s] / productivity[i]
        en = q * energy_cost[s] * energy_intensity[i]
        mat = q * material_cost[s]
        interest = loans[i] * loan_rate[i] / 12.0
        dint = cash[i] * deposit_rate / 12.0 if cash[i] > 0 else 0.0
        dep = capital[i] * dep_rate[s]
        pre = r - wages - serv - en - mat - interest + dint - dep
        vat = vat_rate[s] * r - vat_rate_inputs * (serv + en) - q * vat_inputs_per_q[s]
        tax = 0.0
        if pre > 0:
            if sme[i] and pre <= small_profit_month:
                # small low-profit enterprise: one rate up to the lower band, another above it
                low = pre if pre < small_low_month else small_low_month
                tax = cit_rate_small * low + cit_rate_small_upper * (pre - low)
            else:
                tax = cit_rate * pre
        net = pre - tax
        div = payout * net if net > 0 else 0.0
        flow = r - wages - serv - en - mat - interest + dint - tax - div
        cash[i] += flow
        capital[i] -= dep
        profit[i] = net
        if net < 0:
            loss_months[i] += 1
        else:
            loss_months[i] = 0
        net_worth[i] = cash[i] + capital[i] + other_assets[i] - loans[i] - other_liab[i]
        table[s, I_REVENUE] += r
        table[s, I_WAGES] += wages
        table[s, I_SERVICES] += serv
        table[s, I_ENERGY] += en
        table[s, I_MATERIALS] += mat
        table[s, I_VALUE_ADDED] += r - serv - en - mat
        table[s, I_INTEREST] += interest
        table[s, I_DEPRECIATION] += dep
        table[s, I_PRETAX] += pre
        table[s, I_VAT] += vat
        table[s, I_CIT] += tax
        table[s, I_PROFIT] += net
        table[s, I_DIVIDENDS] += div
        table[s, I_OUTPUT] += q
        table[s, I_CAPACITY] += capacity[i]
        table[s, I_DEPOSIT_INTEREST] += dint
        table[s, I_CASH] += flow


(S_OUTPUT, S_CAPACITY, S_N_FIRMS, S_WORKERS, S_ENERGY, S_PROD_W, S_EI_W, S_LOANS, S_CASH, S_NET_WORTH,
 S_PIPELINE, S_PRICE_W, S_MARKUP_W, S_DEMAND_ORDERS, S_INVESTMENT, S_CAPITAL) = range(16)
N_STOCKS = 16


@kernel
def sector_sums(alive, sector, output, capacity, workers, energy, productivity, energy_intensity, loans, cash,
                net_worth, pipeline, price, markup, orders, investment, capital, table):
    """Per-sector sums of firm stocks and flows (unweighted: one model firm each)."""
    table[:, :] = 0.0
    for i in range(alive.shape[0]):
        if not alive[i]:
            continue
        s = sector[i]
        table[s, S_OUTPUT] += output[i]
        table[s, S_CAPACITY] += capacity[i]
        table[s, S_N_FIRMS] += 1.0
        table[s, S_WORKERS] += workers[i]
        table[s, S_ENERGY] += energy[i]
        table[s, S_PROD_W] += productivity[i] * capacity[i]
        table[s, S_EI_W] += energy_intensity[i] * output[i]
        table[s, S_LOANS] += loans[i]
        table[s, S_CASH] += cash[i]
        table[s, S_NET_WORTH] += net_worth[i]
        table[s, S_PIPELINE] += pipeline[i]
        table[s, S_PRICE_W] += price[i] * output[i]
        table[s, S_MARKUP_W] += markup[i] * output[i]
        table[s, S_DEMAND_ORDERS] += orders[i]
        table[s, S_INVESTMENT] += investment[i]
        table[s, S_CAPITAL] += capital[i]


@kernel
def size_class_sums(alive, sector, weight, sme, capacity, loans, loan_rate, threshold_month, out_loans,
                    out_interest):
    """Classify firms by size (SME when capacity is below the revenue threshold) and sum weighted
    loans and interest by class (index 0 = sme, 1 = large)."""
    out_loans[:] = 0.0
    out_interest[:] = 0.0
    for i in range(alive.shape[0]):
        if alive[i]:
            sme[i] = capacity[i] < threshold_month
            c = 0 if sme[i] else 1
            w = weight[sector[i]]
            out_loans[c] += w * loans[i]
            out_interest[c] += w * loans[i] * loan_rate[i]
