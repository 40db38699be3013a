"""The reference's banks: one `BankAgent` per bank, exposures and the stock-flow loan check summed
firm by firm (the engine's `BankingSystem` sums them in kernels)."""

from __future__ import annotations

import numpy as np

from ..banking import BankingSystem
from .agents import BankAgent


class ReferenceBanking(BankingSystem):
    """Banks as `BankAgent`s: exposures are summed firm by firm."""

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
            bank = self.agents[f.bank]
            w = m.weight[f.sector]
            loans = w * f.loans
            if f.loans > 0:
                g = f.guaranteed / max(f.loans, 1e-300)
                gshare = g if g < 1.0 else 1.0
            else:
                gshare = 0.0
            rw = (cfg.risk_weight_sme if f.sme else cfg.risk_weight_large) * (1 - gshare) + (
                cfg.risk_weight_guaranteed * gshare
            )
            if f.sme:
                bank.loans_sme = bank.loans_sme + loans
            else:
                bank.loans_large = bank.loans_large + loans
            bank.guaranteed = bank.guaranteed + w * f.guaranteed
            bank.rwa = bank.rwa + rw * loans
            bank.deposits = bank.deposits + w * max(f.cash, 0.0)
            if f.loss_months >= cfg.npl_months:
                bank.npl = bank.npl + loans
        self.firm_loans = np.zeros(self.banks.n_rows)
        for f in m.live_firms():
            self.firm_loans[f.bank] += m.weight[f.sector] * f.loans
        self.firm_deposits = m._cash_total()

    def loan_gap(self) -> float:
        m = self.m
        firm_side = [0.0] * self.banks.n_rows
        for f in m.live_firms():
            firm_side[f.bank] += m.weight[f.sector] * f.loans
        return max(abs(firm_side[b] - self.agents[b].loans) for b in range(self.banks.n_rows))
