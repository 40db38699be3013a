"""The banks' side of the whole economy (docs/model.md, "The whole economy"): each bank's required
and excess reserves, government bonds, central-bank advances and re-lending, and households'
deposits spread over the banks by size; the interest they earn and pay on them. Monthly,
economy-wide yuan.

`BankPositions` is the part of `institutions.Institutions` that keeps these positions: it reads
the host's model (`m`), economy settings (`e`), households' deposits (`dh`) and bonds outstanding
(`debt`), and holds `dh_bank`, `reserves`, `excess`, `bonds`, `advances`, `relend` by bank,
`bonds_cb` and `fa` (the central bank's bonds and foreign assets).
"""

from __future__ import annotations

import numpy as np

from ..kernels import flows as fl


class BankPositions:
    """Banks' positions with the central bank and in bonds (a part of `Institutions`)."""

    def start_banks(self) -> None:
        """Households' deposits spread over banks by size; each bank's reserves, bonds and advances
        from its balance sheet; the central bank's foreign assets are the counterpart of the reserves
        it does not back with bonds or advances (its net worth starts at zero)."""
        bk = self.m.banking
        n = bk.banks.n_rows
        self.dh_bank = np.zeros(n)
        self.reserves = np.zeros(n)
        self.excess = np.zeros(n)
        self.bonds = np.zeros(n)
        self.advances = np.zeros(n)
        self.relend = np.zeros(n)
        self.bonds_cb = 0.0
        self._allocate()
        self.fa = float(self.reserves.sum() + self.excess.sum() - self.bonds_cb - self.advances.sum()
                        - self.relend.sum())
        if self.fa < 0:
            raise ValueError("economy: the central bank starts with negative foreign assets; raise "
                             "deposits_to_income or lower debt_to_gdp")
        self.firm_deposits_prev = float(bk.firm_deposits)
        self.loans_prev = float(bk.banks.loans.sum())

    def _allocate(self) -> tuple[tuple, tuple]:
        """Households' deposits spread over the banks by size, then required reserves on deposits;
        what is left buys bonds (pro rata when banks want more than the bonds outstanding, the rest
        held as excess reserves); a bank short of funds borrows from the central bank; the central
        bank holds the bonds banks do not (kernels.flows.allocate). Returns the positions summed over
        banks (reserves, bonds, the central bank's bonds, advances, re-lending) before and after."""
        bk = self.m.banking
        B = bk.banks
        before, after = fl.allocate(B.alive, bk.size_share, self.dh, self.debt, self.bonds_cb,
                                    self._central_bank_channels(), (B.deposits, B.equity, B.loans, B.provisions),
                                    (self.dh_bank, self.reserves, self.excess, self.bonds, self.advances, self.relend))
        self.bonds_cb = after[2]
        return before, after

    def _central_bank_channels(self) -> tuple[np.ndarray, np.ndarray]:
        """The central bank's inclusive-finance channels this month: the required reserve ratio each
        bank faces after the targeted cut (BankingSystem.rrr_cut) and re-lending for each bank's
        small and micro loans (a central-bank asset, a bank liability; BankingSystem.relending_stock)."""
        bk = self.m.banking
        return self.e.required_reserve_ratio - bk.rrr_cut(), bk.relending_stock()

    def bank_income(self) -> np.ndarray:
        """This month's interest each bank earns on bonds and reserves, less what it pays on
        households' deposits and central-bank advances (on the stocks at the start of the month;
        kernels.flows.bank_interest keeps each part by bank for the accounts)."""
        e, p = self.e, self.m.policy
        rates = (e.bond_rate / 12.0, float(e.reserve_rate), float(e.excess_reserve_rate),
                 (p.policy_rate + e.advance_spread) / 12.0, p.relending_rate / 12.0,
                 self.m.sc.banking.deposit_rate / 12.0)
        self._bank_parts, income = fl.bank_interest(rates, self.bonds, self.reserves, self.excess, self.advances,
                                                    self.relend, self.dh_bank)
        self._cb_bonds_interest = e.bond_rate / 12.0 * self.bonds_cb
        return income
