"""The reference's banks: one `BankAgent` per bank, exposures and the stock-flow loan check summed
firm by firm (the engine's `BankingSystem` sums them in kernels)."""

from __future__ import annotations

import numpy as np

from ..banking import BankingSystem
from .agents import BankAgent, Estate


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

    def holders(self) -> list:
        """The live firms and the estates in the court procedure (whose loans are still on the
        banks' books), in row order."""
        m = self.m
        F = m.firms
        return [f if f is not None else Estate(m, row) for row, f in enumerate(m.firm_at)
                if f is not None or F.court[row] > 0]

    def refresh_exposures(self) -> None:
        m, cfg = self.m, self.cfg
        self.bank(0)
        for bank in self.agents:
            for name in ("loans_sme", "loans_large", "guaranteed", "rwa", "deposits", "npl", "loans_special",
                         "loans_substandard", "loans_doubtful", "loans_loss"):
                setattr(bank, name, 0.0)
        for f in self.holders():
            w = m.weight[f.sector]
            if f.loans > 0:
                g = f.guaranteed / max(f.loans, 1e-300)
                gshare = g if g < 1.0 else 1.0
            else:
                gshare = 0.0
            rw = (cfg.risk_weight_sme if f.sme else cfg.risk_weight_large) * (1 - gshare) + (
                cfg.risk_weight_guaranteed * gshare
            )
            cat = category(f, cfg)
            for bank, share in self.lenders(f):
                loans = share * (w * f.loans)
                if f.sme:
                    bank.loans_sme = bank.loans_sme + loans
                else:
                    bank.loans_large = bank.loans_large + loans
                bank.guaranteed = bank.guaranteed + share * (w * f.guaranteed)
                bank.rwa = bank.rwa + rw * loans
                if cat != "normal":
                    setattr(bank, "loans_" + cat, getattr(bank, "loans_" + cat) + loans)
                if cat in ("substandard", "doubtful", "loss"):
                    bank.npl = bank.npl + loans
            if f.alive:
                lead = self.agents[f.bank]  # the firm's deposits are with its lead bank
                lead.deposits = lead.deposits + w * max(f.cash, 0.0)
        self.firm_loans = self.firm_side()
        self.firm_deposits = m._cash_total()

    def firm_side(self) -> np.ndarray:
        """The loans each bank's firms and estates owe it: each lender its share of each loan."""
        m = self.m
        firm_side = np.zeros(self.banks.n_rows)
        for f in self.holders():
            for bank, share in self.lenders(f):
                firm_side[bank.row] += share * (m.weight[f.sector] * f.loans)
        return firm_side

    def loan_gap(self) -> float:
        firm_side = self.firm_side()
        return max(abs(firm_side[b] - self.agents[b].loans) for b in range(self.banks.n_rows))


def category(f, cfg) -> str:
    """The loan's CBIRC category: a live firm's is normal, or special mention after
    `special_mention_months` loss-making months; an estate's by months past due (`court`)."""
    if f.alive:
        return "special" if f.loss_months >= cfg.special_mention_months else "normal"
    if f.court <= cfg.substandard_after_months:
        return "special"
    if f.court <= cfg.doubtful_after_months:
        return "substandard"
    if f.court <= cfg.loss_after_months:
        return "doubtful"
    return "loss"
