"""Credit market kernels (MODEL.md step 7): credit scores, repayments, and the allocation of loans
by banks that rank applicants by score and lend within their capital constraint.

Bank-level amounts (room, books) are economy-wide yuan: a simulated firm's amounts are multiplied
by its sector weight (real firms per simulated firm).
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel


@kernel
def credit_scores(alive, soe, sme, loans, cash, capital, other_assets, profit, revenue, loss_months, c0, c_lev,
                  c_loss, c_sme, c_margin, soe_cut, pd):
    """Annual probability of default banks assign: logistic in leverage, persistent losses (three
    months or more), size and margin;
    state-owned firms get an implicit-guarantee discount."""
    for i in range(alive.shape[0]):
        if not alive[i]:
            pd[i] = 0.0
            continue
        assets = cash[i] + capital[i] + other_assets[i]
        lev = loans[i] / assets if assets > 0 else 1.0
        m = profit[i] / revenue[i] if revenue[i] > 0 else -0.1
        x = c0 + c_lev * lev + (c_loss if loss_months[i] >= 3 else 0.0) + (c_sme if sme[i] else 0.0) - c_margin * m
        p = 1.0 / (1.0 + np.exp(-x))
        if soe[i]:
            p *= 1.0 - soe_cut
        pd[i] = p


@kernel
def repay(alive, sector, bank, weight, maturity, loans, guaranteed, cash, bank_loans, repaid):
    """Amortisation: each loan repays 1/maturity a month from the firm's deposits."""
    for i in range(alive.shape[0]):
        repaid[i] = 0.0
        if not alive[i] or loans[i] <= 0:
            continue
        due = loans[i] / maturity
        loans[i] -= due
        guaranteed[i] -= guaranteed[i] / maturity
        cash[i] -= due
        repaid[i] = due
        bank_loans[bank[i]] -= weight[sector[i]] * due


@kernel
def rollover(alive, sector, bank, weight, pd, net_worth, pd_roll, due, loans, cash, bank_loans, rolled):
    """Relationship lending: a firm's own bank renews the instalment just repaid unless the firm is
    insolvent or its default risk exceeds `pd_roll`. Renewal leaves the bank's risk-weighted assets
    as they were before the repayment, so it needs no new capital."""
    for i in range(alive.shape[0]):
        rolled[i] = 0.0
        if not alive[i] or due[i] <= 0 or net_worth[i] <= 0 or pd[i] > pd_roll:
            continue
        loans[i] += due[i]
        cash[i] += due[i]
        bank_loans[bank[i]] += weight[sector[i]] * due[i]
        rolled[i] = due[i]


@kernel
def allocate_credit(order, cand, sector, weight, sme, soe, pd, request, limit, bank_alive, bank_margin, bank_room,
                    pdmax_sme, pdmax_large, sme_discount, policy_rate, sme_premium, lgd, rw_large, rw_sme, rw_g,
                    fund_room, coverage, fee_small, fee_large, small_loan, switch_cost, bank, loans, loan_rate, cash,
                    guaranteed,
                    bank_loans, granted, fee_paid, new_rate):
    """Applicants in `order` (best score first) ask their candidate banks; each bank that accepts the
    applicant's default risk (net of guarantee cover) and has room quotes the policy rate plus its
    margin, an SME premium and the expected loss; the firm takes the cheapest quote. A firm that
    moves to a new bank brings its loan stock along. SMEs take the fund's guarantee when it lowers
    their cost by more than the fee, while the fund has room."""
    for k in range(order.shape[0]):
        i = order[k]
        granted[i] = 0.0
        fee_paid[i] = 0.0
        new_rate[i] = 0.0
        req = request[i]
        if limit[i] < req:
            req = limit[i]
        if req <= 0:
            continue
        w = weight[sector[i]]
        fee = fee_small if req <= small_loan else fee_large
        g = 0.0
        if sme[i] and not soe[i] and coverage > 0 and fund_room[0] > 0:
            if pd[i] * lgd * coverage > fee:
                g = coverage
        best = -1
        best_rate = np.inf
        for j in range(cand.shape[1]):
            b = cand[i, j]
            if b < 0 or not bank_alive[b] or bank_room[b] <= 0:
                continue
            # a new lender takes over the existing stock too: it must fit in its room
            if b != bank[i] and (rw_sme if sme[i] else rw_large) * w * loans[i] >= bank_room[b]:
                continue
            pd_net = pd[i] * (1.0 - g)
            if pd_net > (pdmax_sme[b] if sme[i] else pdmax_large[b]):
                continue
            rate = policy_rate + bank_margin[b] + pd_net * lgd
            if sme[i]:
                rate += sme_premium * (1.0 - sme_discount[b])
            if b != bank[i]:
                rate += switch_cost  # relationship lending: moving to a new bank has a cost
            if rate < best_rate:
                best_rate = rate
                best = b
        if best < 0:
            continue
        rw = (rw_sme if sme[i] else rw_large) * (1.0 - g) + rw_g * g
        if best != bank[i]:
            best_rate -= switch_cost
            moved = (rw_sme if sme[i] else rw_large) * w * loans[i]
            bank_room[best] -= moved
            bank_room[bank[i]] += moved
        amt = req
        if rw > 0 and amt * rw * w > bank_room[best]:
            amt = bank_room[best] / (rw * w)
        cover = amt * g
        if cover * w > fund_room[0]:
            cover = fund_room[0] / w
        fund_room[0] -= cover * w
        if bank[i] != best:  # refinance: the stock moves to the new lender
            bank_loans[bank[i]] -= w * loans[i]
            bank_loans[best] += w * loans[i]
            bank[i] = best
        total = loans[i] + amt
        loan_rate[i] = (loan_rate[i] * loans[i] + best_rate * amt) / total
        loans[i] = total
        guaranteed[i] += cover
        f = fee * cover  # one year's fee, paid up front
        cash[i] += amt - f
        bank_loans[best] += w * amt
        bank_room[best] -= rw * w * amt
        granted[i] = amt
        fee_paid[i] = f
        new_rate[i] = best_rate
