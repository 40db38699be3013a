"""The credit market (MODEL.md step 7): repayments and renewals, applications, the allocation by
banks, and the books closed for the stock-flow checks."""

from __future__ import annotations

import numpy as np

from ..kernels import credit as cr


class CreditMixin:
    def credit_market(self) -> float:
        """Step 7: the single place where firms ask for credit. Loans amortise; firms that need funds
        (shortfall, investment beyond internal funds, rollover) apply to their bank and a few random
        banks, best credit score first (scores were made with the income statements), and take the
        cheapest offer. Returns, for the stock-flow checks, the net cash flow to firms, their deposits
        after (economy-wide yuan) and the largest gap between bank and firm loan books."""
        F, b, p, c = self.firms, self.b, self.policy, self.sc.banking
        bk = self.banking
        B = bk.banks
        W = self.weight
        S = self.scratch
        factor, cap_per_capacity = self._need_inputs
        n_app, outstanding = cr.repay_and_apply(
            F.alive, F.sector, F.bank, W, F.sme, F.soe, F.pd, self.lag, factor, cap_per_capacity, p.upgrade_subsidy,
            b.cash_buffer_months, b.debt_to_assets, self.leverage_review_share(), self.t % 12, F.firm_id,
            F.pipeline_cost, F.plan_expansion,
            F.plan_upgrade, F.revenue,
            float(b.loan_maturity), c.pd_rollover_max,
            c.market == "passive", b.max_debt_to_assets, c.collateral_haircut_capital, p.pledge_haircut,
            p.receivables_pledge, p.ip_pledge, c.unsecured_sme, c.unsecured_large,
            c.soe_unsecured * p.soe_implicit_guarantee, F.loans, F.guaranteed, F.cash, F.capital, F.other_assets,
            F.other_liab, B.loans, S.repaid, S.rolled, S.request, S.limit, S.applicants,
            S.granted, S.fees, S.new_rate)
        apps = S.applicants[:n_app]
        pos = cr.score_order(apps, F.pd)  # serving order: best credit score first
        u = self._draws["credit"].at(apps)  # the searched banks' uniforms, applicants' rows only
        room, pdmax_sme, pdmax_large, discount, margin = bk.lending_conditions()
        fund_cap = p.guarantee_fund_capital * 1e9
        fund_room = np.array([max(p.guarantee_leverage * fund_cap - outstanding, 0.0)])
        coverage = (1 - p.risk_share_bank) if fund_cap > 0 else 0.0
        cr.allocate_credit_drawn(apps, pos, u, bk.size_cdf[:B.n_rows], F.sector, W, F.sme, F.soe, F.pd,
                                 S.request, S.limit, B.alive, margin, room, pdmax_sme, pdmax_large, discount,
                                 p.policy_rate, c.sme_premium, c.loss_given_default, c.risk_weight_large,
                                 c.risk_weight_sme, c.risk_weight_guaranteed, fund_room, coverage,
                                 p.guarantee_fee_small, p.guarantee_fee, 5e6, c.switching_cost, F.bank, F.loans,
                                 F.loan_rate, F.cash, F.guaranteed, B.loans, S.granted, S.fees,
                                 S.new_rate)
        firm_side = np.zeros(B.n_rows)
        flow, fees, deposits = cr.credit_close(F.alive, F.sector, W, F.bank, S.request, S.granted,
                                               S.rolled, S.repaid, S.fees, F.cash, F.loans,
                                               S.denied, firm_side)
        self._credit_month = {"fees": float(fees)}
        return float(flow), float(deposits), float(np.max(np.abs(firm_side - B.loans)))

    def leverage_review_share(self) -> float:
        """Share of the gap to its target debt a firm borrows at its yearly credit-line review: what
        closing `behaviour.leverage_adjustment` of the gap every month would close in a year."""
        return 1.0 - (1.0 - self.b.leverage_adjustment) ** 12

    def _loan_scale(self) -> float:
        return float(np.sum(np.abs(self.banking.banks.loans)))
