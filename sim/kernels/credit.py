"""Credit market kernels (MODEL.md step 7): credit scores, repayments, and the allocation of loans
by banks that rank applicants by score and lend within their capital constraint.

Bank-level amounts (room, books) are economy-wide yuan: a simulated firm's amounts are multiplied
by its sector weight (real firms per simulated firm).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._numba import CHUNK, kernel


@kernel(parallel=True)
def credit_scores(alive, soe, sme, loans, cash, capital, other_assets, profit, revenue, loss_months, c0, c_lev,
                  c_loss, c_sme, c_margin, soe_cut, pd):
    """Annual probability of default banks assign: logistic in leverage, persistent losses (three
    months or more), size and margin;
    state-owned firms get an implicit-guarantee discount."""
    for i in prange(alive.shape[0]):
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
def allocate_credit(order, cand, sector, weight, sme, soe, pd, request, limit, bank_alive, bank_margin, bank_room,
                    pdmax_sme, pdmax_large, sme_discount, policy_rate, sme_premium, lgd, rw_large, rw_sme, rw_g,
                    fund_room, coverage, fee_small, fee_large, small_loan, switch_cost, bank, loans, loan_rate, cash,
                    guaranteed,
                    bank_loans, granted, fee_paid, new_rate):
    """Applicants in `order` (best score first) ask their candidate banks (`cand[i]`); see `_serve`."""
    for k in range(order.shape[0]):
        i = order[k]
        _serve(i, cand[i], sector, weight, sme, soe, pd, request, limit, bank_alive, bank_margin, bank_room,
               pdmax_sme, pdmax_large, sme_discount, policy_rate, sme_premium, lgd, rw_large, rw_sme, rw_g,
               fund_room, coverage, fee_small, fee_large, small_loan, switch_cost, bank, loans, loan_rate, cash,
               guaranteed, bank_loans, granted, fee_paid, new_rate)


@kernel
def allocate_credit_drawn(order, u, size_cdf, sector, weight, sme, soe, pd, request, limit, bank_alive, bank_margin,
                          bank_room, pdmax_sme, pdmax_large, sme_discount, policy_rate, sme_premium, lgd, rw_large,
                          rw_sme, rw_g, fund_room, coverage, fee_small, fee_large, small_loan, switch_cost, bank,
                          loans, loan_rate, cash, guaranteed, bank_loans, granted, fee_paid, new_rate):
    """As `allocate_credit`, with each applicant's candidates made here: its own bank and, for each
    uniform draw u[i, j], the bank whose size-CDF interval holds it (searchsorted, side right).
    Only applicants need candidates, so nothing of the size of all firms is built."""
    n_banks = size_cdf.shape[0]
    cand = np.empty(u.shape[1] + 1, dtype=np.int64)
    for k in range(order.shape[0]):
        i = order[k]
        cand[0] = bank[i]
        for j in range(u.shape[1]):
            b = np.searchsorted(size_cdf, u[i, j], side="right")
            cand[j + 1] = b if b < n_banks - 1 else n_banks - 1
        _serve(i, cand, sector, weight, sme, soe, pd, request, limit, bank_alive, bank_margin, bank_room,
               pdmax_sme, pdmax_large, sme_discount, policy_rate, sme_premium, lgd, rw_large, rw_sme, rw_g,
               fund_room, coverage, fee_small, fee_large, small_loan, switch_cost, bank, loans, loan_rate, cash,
               guaranteed, bank_loans, granted, fee_paid, new_rate)


@kernel
def _serve(i, cand, sector, weight, sme, soe, pd, request, limit, bank_alive, bank_margin, bank_room,
           pdmax_sme, pdmax_large, sme_discount, policy_rate, sme_premium, lgd, rw_large, rw_sme, rw_g,
           fund_room, coverage, fee_small, fee_large, small_loan, switch_cost, bank, loans, loan_rate, cash,
           guaranteed, bank_loans, granted, fee_paid, new_rate):
    """One applicant asks its candidate banks; each bank that accepts the applicant's default risk
    (net of guarantee cover) and has room quotes the policy rate plus its margin, an SME premium and
    the expected loss; the firm takes the cheapest quote. A firm that moves to a new bank brings its
    loan stock along. SMEs take the fund's guarantee when it lowers their cost by more than the
    fee, while the fund has room."""
    granted[i] = 0.0
    fee_paid[i] = 0.0
    new_rate[i] = 0.0
    req = request[i]
    if limit[i] < req:
        req = limit[i]
    if req <= 0:
        return
    w = weight[sector[i]]
    fee = fee_small if req <= small_loan else fee_large
    g = 0.0
    if sme[i] and not soe[i] and coverage > 0 and fund_room[0] > 0:
        if pd[i] * lgd * coverage > fee:
            g = coverage
    best = -1
    best_rate = np.inf
    for j in range(cand.shape[0]):
        b = cand[j]
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
        return
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


@kernel(parallel=True)
def repay_and_apply(alive, sector, bank, weight, sme, soe, pd, lag, factor, cap_per_capacity, subsidy, buffer_months,
                    lev_target, lev_speed, pipeline_cost, plan_expansion, plan_upgrade, revenue, maturity, pd_roll,
                    passive,
                    max_debt_to_assets, haircut_capital, pledge_haircut, receivables_pledge, ip_pledge, unsecured_sme,
                    unsecured_large, soe_unsecured, loans, guaranteed, cash, capital, other_assets, other_liab,
                    net_worth, bank_loans, repaid, rolled, request, limit, applicants):
    """Step 7 up to the allocation, firm by firm: the funds the firm needs beyond its deposits (the
    instalment on its pipeline, the first instalment of new projects within the capacity rules, its
    own share of a planned upgrade, a cash buffer of `buffer_months` of revenue, and a share
    `lev_speed` of the gap to the target debt-to-assets ratio `lev_target`); amortisation (each
    loan repays 1/maturity a month from deposits); net worth; renewal of the instalment by the own
    bank (relationship lending) unless the firm is insolvent or its default risk exceeds `pd_roll`,
    which leaves the bank's risk-weighted assets as they were; then the firm's request (need plus
    the instalment not renewed) and its borrowing limit (collateral plus unsecured credit; nothing
    without positive net worth). Each bank's book changes by the sum of its firms' repayments and renewals (summed in
    fixed chunks of rows). Applicants' rows go to `applicants` in row order; returns their number."""
    n = alive.shape[0]
    n_b = bank_loans.shape[0]
    nc = (n + CHUNK - 1) // CHUNK
    delta = np.zeros((nc, n_b))
    n_part = np.zeros((nc, 8), dtype=np.int64)
    for c in prange(nc):
        d = delta[c]
        lo = c * CHUNK
        k = 0
        for i in range(lo, min(n, lo + CHUNK)):
            repaid[i] = 0.0
            rolled[i] = 0.0
            if not alive[i]:
                net_worth[i] = cash[i] + capital[i] + other_assets[i] - loans[i] - other_liab[i]
                request[i] = 0.0
                limit[i] = 0.0
                continue
            s = sector[i]
            w = weight[s]
            lg = lag[s] if lag[s] > 1 else 1
            spend = (pipeline_cost[i] / lg + plan_expansion[i] * factor[s] * cap_per_capacity[s] / lg
                     + plan_upgrade[i] * (1 - subsidy[s]))
            need = spend + buffer_months * revenue[i] - cash[i]
            if need < 0.0:
                need = 0.0
            # firms keep their leverage: they borrow part of the gap to their target debt-to-assets
            gap = lev_target * (cash[i] + capital[i] + other_assets[i]) - loans[i] - other_liab[i]
            if gap > 0.0:
                need += lev_speed * gap
            due = 0.0
            if loans[i] > 0:
                due = loans[i] / maturity
                loans[i] -= due
                guaranteed[i] -= guaranteed[i] / maturity
                cash[i] -= due
                repaid[i] = due
                d[bank[i]] -= w * due
            net_worth[i] = cash[i] + capital[i] + other_assets[i] - loans[i] - other_liab[i]
            if due > 0 and net_worth[i] > 0 and pd[i] <= pd_roll:
                loans[i] += due
                cash[i] += due
                d[bank[i]] += w * due
                rolled[i] = due
            request[i] = need + (repaid[i] - rolled[i])
            assets = cash[i] + capital[i] + other_assets[i]
            if passive:
                lim = max_debt_to_assets * assets - loans[i]
            else:
                collateral = ((1 - haircut_capital) * capital[i]
                              + (1 - pledge_haircut) * (receivables_pledge * other_assets[i] + ip_pledge * capital[i]))
                u = unsecured_sme if (sme[i] and not soe[i]) else unsecured_large
                u = u + (soe_unsecured if soe[i] else 0.0)
                lim = collateral + u * assets - loans[i]
            if lim < 0.0 or net_worth[i] <= 0:
                lim = 0.0
            limit[i] = lim
            if request[i] > 0:
                applicants[lo + k] = i
                k += 1
        n_part[c, 0] = k
    n_app = 0
    for c in range(nc):
        bank_loans[:] += delta[c]
        for j in range(n_part[c, 0]):
            applicants[n_app] = applicants[c * CHUNK + j]
            n_app += 1
    return n_app


@kernel
def credit_close(alive, sector, weight, bank, request, granted, rolled, repaid, fees, cash, capital, other_assets,
                 loans, other_liab, net_worth, denied, firm_side):
    """After the allocation: net cash flow to firms from credit and guarantee fees (economy-wide
    yuan), applicants refused, net worth, and for the stock-flow checks the firms' deposits and
    the loans each bank's firms owe it. Returns (flow, fees, deposits)."""
    flow = 0.0
    fee_total = 0.0
    deposits = 0.0
    firm_side[:] = 0.0
    for i in range(alive.shape[0]):
        w = weight[sector[i]]
        fee_total += fees[i] * w
        flow += w * (granted[i] + rolled[i] - repaid[i] - fees[i])
        denied[i] = alive[i] and request[i] > 0 and granted[i] <= 0
        net_worth[i] = cash[i] + capital[i] + other_assets[i] - loans[i] - other_liab[i]
        if alive[i]:
            deposits += w * cash[i]
            firm_side[bank[i]] += w * loans[i]
    return flow, fee_total, deposits
