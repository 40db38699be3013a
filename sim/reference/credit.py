"""The Mesa reference's credit market (MODEL.md step 7, `kernels/credit` and
`kernels/credit_allocation` in the engine): repayments and roll-overs, then applicants in score order
ask banks for quotes and borrow, bank by bank within the large-exposure limit, as plain Python over
`FirmAgent`s and `BankAgent`s. `ReferenceEconomy` (sim/reference/model.py) holds one and runs it in
its credit step."""

from __future__ import annotations

import bisect

import numpy as np

from ..kernels import credit_allocation as ca
from ..kernels.exposure import MAX_LENDERS, Parts
from ..phases.credit import CreditNeeds, CreditOutcome
from .agents import BankAgent, FirmAgent


class ReferenceCreditMarket:
    """The credit market of the reference economy `m` (a ReferenceEconomy): its per-row requests,
    limits and fees this month, and the participations it makes."""

    def __init__(self, m):
        self.m = m
        self.new_rate: dict[int, float] = {}  # the rate of each applicant row's new loan (this month)
        self.renewed: dict[int, float] = {}  # the instalment renewed of each row renewed (this month)

    def run(self, needs: CreditNeeds) -> CreditOutcome:
        """Firms' needs for funds (`funding_need`); loans amortise; the own bank rolls over the
        instalment of sound firms; applicants, best score first, ask their bank and a few banks drawn
        by size and take the cheapest quote."""
        m = self.m
        m.funding_need(needs)
        F, b, p, c = m.firms, m.b, m.policy, m.sc.banking
        bk, W = m.banking, m.weight
        banks = [bk.bank(j) for j in range(bk.banks.n_rows)]
        m._scores()
        # each row's request, limit and guarantee fee (the engine keeps them for its applicants only)
        self._request, self._limit, self._fees = (np.zeros(F.n_rows) for _ in range(3))
        self.new_rate, self.renewed = {}, {}
        m.scratch.repaid[:] = 0.0
        m.scratch.granted[:] = 0.0
        m.scratch.rolled[:] = False
        rolled_of = np.zeros(F.n_rows)  # the instalments renewed (the scratch keeps a flag)
        firms = m.live_firms()
        change = [0.0] * len(banks)  # each bank's book changes by its firms' repayments and renewals
        due_of = np.zeros(F.n_rows)  # the instalments (`repaid` adds what is paid down at a review)
        worth_of = np.zeros(F.n_rows)  # net worth after the instalment, before any renewal
        for f in firms:
            due = f.repay(float(b.loan_maturity))
            m.scratch.repaid[f.row] = due
            due_of[f.row] = due
            lenders = bk.lenders(f)  # each lender is repaid, and renews, its share of the instalment
            for bank, share in lenders:
                change[bank.row] -= share * (W[f.sector] * due)
            worth_of[f.row] = nw = f.equity()
            # relationship lending: the own banks renew the instalment of sound firms; a firm so renewed
            # whose debt is above its target at its review pays part of the excess down (`funding_need`)
            if due <= 0 or nw <= 0 or f.pd > c.pd_rollover_max:
                continue
            f.loans = f.loans + due
            f.cash = f.cash + due
            for bank, share in lenders:
                change[bank.row] += share * (W[f.sector] * due)
            m.scratch.rolled[f.row] = True
            rolled_of[f.row] = self.renewed[f.row] = due
            if f.pay_down > 0.0:
                down = min(f.pay_down, f.loans)
                f.guaranteed = f.guaranteed - f.guaranteed * (down / f.loans)
                f.loans = f.loans - down
                f.cash = f.cash - down
                for bank, share in lenders:
                    change[bank.row] -= share * (W[f.sector] * down)
                m.scratch.repaid[f.row] = due + down
        for bank in banks:
            bank.lend(change[bank.row])
        applicants = []
        for f in firms:
            request = f.need + (due_of[f.row] - rolled_of[f.row])
            self._request[f.row] = request
            assets = f.cash + f.capital + f.other_assets
            if c.market == "passive":
                limit = b.max_debt_to_assets * assets - f.loans
            else:
                collateral = (1 - c.collateral_haircut_capital) * f.capital + (1 - p.pledge_haircut) * (
                    p.receivables_pledge * f.other_assets + p.ip_pledge * f.capital
                )
                unsecured = (
                    (c.unsecured_sme if f.sme and not f.soe else c.unsecured_large)
                    + (c.soe_unsecured * p.soe_implicit_guarantee if f.soe else 0.0)
                ) * assets
                limit = collateral + unsecured - f.loans
            self._limit[f.row] = 0.0 if worth_of[f.row] <= 0 else max(limit, 0.0)
            if request > 0:
                applicants.append(f)
        applicants.sort(key=lambda f: f.pd)  # stable: ties stay in row order
        u = m._draws["credit"].draw()  # the same uniforms as the engine's (stream "credit")
        n_search = u.shape[1]
        cdf = list(bk.size_cdf)
        outstanding = 0.0
        for f in firms:
            outstanding += W[f.sector] * f.guaranteed
        terms = ca.lending_terms(bk)  # the engine's names: per-bank terms (room used up) and parameters
        params = ca.allocation_params(p, c, outstanding, bk.bank_weight)
        fund_room = params.fund_room
        self._new_parts = ([], [], [], [])  # rows lent to; their participations now (row, bank, share)
        for f in applicants:
            cands = [f.bank] + [
                min(bisect.bisect_right(cdf, u[f.row, j]), len(banks) - 1) for j in range(n_search)
            ]
            fund_room = self._serve(f, cands, banks, terms, params, fund_room)
        touched, prow, pbank, pshare = self._new_parts
        bk.replace_parts(np.array(touched, dtype=np.int64),
                         Parts(np.array(prow, dtype=np.int64), np.array(pbank, dtype=np.int64), np.array(pshare)))
        fees = flow = 0.0
        S = m.scratch
        for row in range(F.n_rows):
            w = W[F.sector[row]]
            fees += self._fees[row] * w
            flow += w * (S.granted[row] + rolled_of[row] - S.repaid[row] - self._fees[row])
        np.logical_and(F.alive & (self._request > 0), m.scratch.granted <= 0, out=m.scratch.denied)
        return CreditOutcome(flow, m._cash_total(), bk.loan_gap(), fees)

    def _serve(self, f: FirmAgent, cands: list[int], banks: list[BankAgent], terms, params,
               fund_room: float) -> float:
        """One applicant: quotes from the candidate banks that accept its risk and have room; it
        borrows from the cheapest as much as that bank's room and large-exposure limit allow, the rest
        from the next cheapest (at most MAX_LENDERS lenders); a new cheapest bank takes over the loan
        if the firm has no other lender and the bank's room and limit hold its stock. `terms` and
        `params` are the engine's (credit_allocation.LendingTerms, AllocationParams); `terms.room` is
        used up. Returns the fund's remaining room."""
        m = self.m
        req = self._request[f.row]
        if self._limit[f.row] < req:
            req = self._limit[f.row]
        assets = f.cash + f.capital + f.other_assets
        # a bank short of its inclusive-lending target lends a private SME beyond its limit
        beyond = 0.0
        if f.sme and not f.soe and (terms.sme_extension > 0).any() and assets - f.loans - f.other_liab > 0:
            beyond = self._request[f.row] - req
        if req <= 0 and beyond <= 0:
            return fund_room
        w = m.weight[f.sector]
        lgd = params.loss_given_default
        rw_own = params.risk_weight_sme if f.sme else params.risk_weight_large
        fee = params.fee_small if req <= params.small_loan else params.fee_large
        g = 0.0
        if f.sme and not f.soe and params.coverage > 0 and fund_room > 0:
            if f.pd * lgd * params.coverage > fee:
                g = params.coverage
        pd_net = f.pd * (1.0 - g)
        quotes = []  # (rate, bank), in candidate order
        for b in cands:
            if b < 0 or not banks[b].alive or terms.room[b] <= 0 or b in [q[1] for q in quotes]:
                continue
            if pd_net > (terms.pdmax_sme[b] if f.sme else terms.pdmax_large[b]):
                continue
            rate = params.policy_rate + terms.margin[b] + pd_net * lgd
            if f.sme:
                rate += params.sme_premium * (1.0 - terms.discount[b]) - terms.sme_rate_cut[b]
            if b != f.bank:
                rate += params.switching_cost
            quotes.append((rate, b))
        if not quotes:
            return fund_room
        mine = f.bank
        stock = f.loans
        # the firm's lenders and what each holds per real firm (the lead first)
        held = [[bank.row, share * stock] for bank, share in m.banking.lenders(f)]
        rw = rw_own * (1.0 - g) + params.risk_weight_guaranteed * g
        spread = max(w, params.bank_weight)
        rem, amt, paid, moved = req, 0.0, 0.0, False
        for step, (rate, b) in enumerate(sorted(quotes, key=lambda q: q[0])):  # stable: ties keep candidate order
            if rem <= 0.0 and beyond <= 0.0:
                break
            if rem <= 0.0 and terms.sme_extension[b] <= 0.0:
                continue
            at = next((j for j, h in enumerate(held) if h[0] == b), -1)
            cap = terms.exposure_unit[b] * spread / w  # one real firm's loan this bank may hold
            if at < 0:
                moved_stock = rw_own * w * stock
                if step == 0 and len(held) == 1 and stock < cap and moved_stock < terms.room[b]:
                    terms.room[b] -= moved_stock  # a move: the new bank takes over the loan
                    terms.room[held[0][0]] += moved_stock
                    banks[held[0][0]].lend(-(w * stock))
                    banks[b].lend(w * stock)
                    held[0][0] = b
                    at, moved = 0, True
                elif len(held) < MAX_LENDERS:
                    held.append([b, 0.0])
                    at = len(held) - 1
                else:
                    continue
            # within the firm's limit; then beyond it, at a bank short of its target
            for part in (0, 1):
                if part == 1 and not (beyond > 0.0 and terms.sme_extension[b] > 0.0):
                    break
                most = rem if part == 0 else min(terms.sme_extension[b] * assets, beyond)
                x = min(cap - held[at][1], most)
                if rw > 0 and x * rw * w > terms.room[b]:
                    x = terms.room[b] / (rw * w)
                if x <= 0.0:
                    continue
                banks[b].lend(w * x)
                terms.room[b] -= rw * w * x
                held[at][1] += x
                if part == 0:
                    rem -= x
                else:
                    beyond -= x
                amt += x
                paid += (rate - (params.switching_cost if b != mine else 0.0)) * x
        if amt <= 0.0 and not moved:
            return fund_room
        main = max(range(len(held)), key=lambda j: (held[j][1], -j))  # the largest lender leads (first among equals)
        held[0], held[main] = held[main], held[0]
        cover = amt * g
        if cover * w > fund_room:
            cover = fund_room / w
        fund_room -= cover * w
        new_rate = paid / amt if amt > 0.0 else 0.0
        f.bank = held[0][0]
        total = f.loans + amt
        if amt > 0.0:
            f.loan_rate = (f.loan_rate * f.loans + new_rate * amt) / total
        f.loans = total
        f.guaranteed = f.guaranteed + cover
        fee_paid = fee * cover
        f.cash = f.cash + (amt - fee_paid)
        m.scratch.granted[f.row] = amt
        self._fees[f.row] = fee_paid
        self.new_rate[f.row] = new_rate
        touched, prow, pbank, pshare = self._new_parts
        touched.append(f.row)
        for b, h in held[1:]:
            if h > 0.0:
                prow.append(f.row)
                pbank.append(b)
                pshare.append(h / (stock + amt))
        return fund_room
