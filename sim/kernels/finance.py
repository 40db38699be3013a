"""Credit supply (MODEL.md step 7): the passive lender used until the banking sector exists.

Loans amortise over a fixed maturity. A firm with positive net worth borrows what it asks for
(working-capital shortfall, investment beyond internal funds, rollover of the instalment due) up to
a debt-to-assets ceiling, at the policy rate plus a spread for size and a discount for state
ownership. The credit-market issue replaces this kernel with banks that ration credit.
"""

from __future__ import annotations

from .._numba import kernel


@kernel
def passive_lender(alive, soe, sme, need, cash, capital, other_assets, loans, loan_rate, net_worth, maturity,
                   max_dta, policy_rate, spread_large, spread_sme, soe_discount, granted, repaid):
    for i in range(alive.shape[0]):
        granted[i] = 0.0
        repaid[i] = 0.0
        if not alive[i]:
            continue
        due = loans[i] / maturity
        assets = cash[i] + capital[i] + other_assets[i]
        room = max_dta * assets - (loans[i] - due)
        g = 0.0
        if net_worth[i] > 0 and room > 0:
            g = need[i] + due
            if g > room:
                g = room
        r_new = policy_rate + (spread_sme if sme[i] else spread_large) - (soe_discount if soe[i] else 0.0)
        remaining = loans[i] - due
        new_loans = remaining + g
        if new_loans > 0:
            loan_rate[i] = (loan_rate[i] * remaining + r_new * g) / new_loans
        else:
            loan_rate[i] = r_new
        loans[i] = new_loans
        cash[i] += g - due
        granted[i] = g
        repaid[i] = due
