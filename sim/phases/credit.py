"""The credit market (MODEL.md step 7): repayments and renewals, applications, the allocation by
banks, and the books closed for the stock-flow checks."""

from __future__ import annotations

import numpy as np

from ..kernels import credit as cr
from ..kernels import credit_allocation as ca
from ..kernels import exposure as ex
from ..kernels import investment as inv
from ..state import sector_tables


class CreditMixin:
    def credit_market(self) -> float:
        """Step 7: the single place where firms ask for credit. Loans amortise; firms that need funds
        (shortfall, investment beyond internal funds, rollover) apply to their bank and a few random
        banks, best credit score first (scores were made with the income statements), and take the
        cheapest offer. Returns, for the stock-flow checks, the net cash flow to firms, their deposits
        after (economy-wide yuan) and the largest gap between bank and firm loan books."""
        F, B, S, bk = self.firms, self.banking.banks, self.scratch, self.banking
        firms, banks, scratch, sectors = F.bundle(), B.bundle(), S.bundle(), sector_tables(self)
        factor, cap_per_capacity = self._need_inputs
        prices = inv.InvestmentPrices(capital_per_capacity=cap_per_capacity, subsidy=self.policy.upgrade_subsidy)
        _, outstanding, rows, request, limit = cr.repay_and_apply(
            firms, banks, scratch, sectors, prices, factor,
            cr.repay_params(self.b, self.sc.banking, self.policy, self.t, self.leverage_review_share()))
        # every lender of a row takes its share of the repayment and renewal the lead booked
        ex.shift_repayments(bk.parts, F.alive, F.bank, F.sector, self.weight, S.repaid, S.rolled, B.loans)
        apps = ca.Applicants(rows=rows, request=request, limit=limit,
                             order=cr.score_order(rows, F.pd),  # serving order: best credit score first
                             draws=self._draws["credit"].at(rows))  # the searched banks' uniforms
        _, touched, new, app_fees = ca.allocate_credit_drawn(
            apps, firms, banks, scratch, sectors, ca.lending_terms(bk),
            ca.allocation_params(self.policy, self.sc.banking, outstanding, bk.bank_weight), bk.parts)
        bk.replace_parts(touched, new)
        firm_side = np.zeros(B.n_rows)
        flow, fees, deposits = cr.credit_close(firms, scratch, sectors, rows, app_fees, firm_side)
        ex.shift_loans(bk.parts, F.alive, F.court, F.bank, F.sector, self.weight, F.loans, np.zeros(0), firm_side)
        self._credit_month = {"fees": float(fees)}
        return float(flow), float(deposits), float(np.max(np.abs(firm_side - B.loans)))

    def leverage_review_share(self) -> float:
        """Share of the gap to its target debt a firm borrows at its yearly credit-line review: what
        closing `behaviour.leverage_adjustment` of the gap every month would close in a year."""
        return 1.0 - (1.0 - self.b.leverage_adjustment) ** 12

    def _loan_scale(self) -> float:
        return float(np.sum(np.abs(self.banking.banks.loans)))
