"""The reference's banks: one `BankAgent` per bank, exposures and the stock-flow loan check summed
firm by firm (the engine's `BankingSystem` sums them in kernels)."""

from __future__ import annotations

import numpy as np

from ..banking import BankingSystem
from .agents import BankAgent


class ReferenceBanking(BankingSystem):
    """Banks as `BankAgent`s: exposures are summed firm by firm, each lender of a firm its share."""

    def lenders(self, f) -> list[tuple[BankAgent, float]]:
        """The firm's lenders and the share of its loan each holds: its lead bank first (what the
        participants do not hold), then the participants in the order of the parts table."""
        self.bank(0)
        p = self.parts
        lo = int(np.searchsorted(p.row, f.row))
        out = []
        lead = 1.0
        k = lo
        while k < p.row.size and p.row[k] == f.row:
            out.append((self.agents[int(p.bank[k])], float(p.share[k])))
            lead -= float(p.share[k])
            k += 1
        return [(self.agents[f.bank], lead)] + out

    def bank(self, b: int) -> BankAgent:
        if not hasattr(self, "agents"):
            self.agents = [BankAgent(self.m, self.banks, b) for b in range(self.banks.n_rows)]
        return self.agents[b]

    def refresh_exposures(self) -> None:
        m, cfg = self.m, self.cfg
        self.bank(0)
        for bank in self.agents:
            for name in ("loans_sme", "loans_large", "guaranteed", "rwa", "deposits", "npl"):
                setattr(bank, name, 0.0)
        for f in m.live_firms():
            w = m.weight[f.sector]
            if f.loans > 0:
                g = f.guaranteed / max(f.loans, 1e-300)
                gshare = g if g < 1.0 else 1.0
            else:
                gshare = 0.0
            rw = (cfg.risk_weight_sme if f.sme else cfg.risk_weight_large) * (1 - gshare) + (
                cfg.risk_weight_guaranteed * gshare
            )
            for bank, share in self.lenders(f):
                loans = share * (w * f.loans)
                if f.sme:
                    bank.loans_sme = bank.loans_sme + loans
                else:
                    bank.loans_large = bank.loans_large + loans
                bank.guaranteed = bank.guaranteed + share * (w * f.guaranteed)
                bank.rwa = bank.rwa + rw * loans
                if f.loss_months >= cfg.npl_months:
                    bank.npl = bank.npl + loans
            lead = self.agents[f.bank]  # the firm's deposits are with its lead bank
            lead.deposits = lead.deposits + w * max(f.cash, 0.0)
        self.firm_loans = self.firm_side()
        self.firm_deposits = m._cash_total()

    def firm_side(self) -> np.ndarray:
        """The loans each bank's firms owe it: each lender its share of each firm's loan."""
        m = self.m
        firm_side = np.zeros(self.banks.n_rows)
        for f in m.live_firms():
            for bank, share in self.lenders(f):
                firm_side[bank.row] += share * (m.weight[f.sector] * f.loans)
        return firm_side

    def loan_gap(self) -> float:
        firm_side = self.firm_side()
        return max(abs(firm_side[b] - self.agents[b].loans) for b in range(self.banks.n_rows))
