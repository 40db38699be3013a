"""Banks as arrays: set-up, lending conditions, month-end accounting, failures and resolution,
and the stock-flow checks of the credit system (MODEL.md steps 7, 9 and 11).

Bank stocks are economy-wide yuan. `loans` on the bank's books is changed only by flows (new loans,
repayments, refinancing, exits, resolution), never recomputed from the firms, so comparing it with
the firms' own books is a real check.
"""

from __future__ import annotations

import numpy as np

from .kernels import credit, sums
from .state import Banks


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.inf)
    np.divide(num, den, out=out, where=den > 0)
    return out


class SFCError(RuntimeError):
    """A stock-flow identity failed: the books do not add up after the named step."""


class BankingSystem:
    def __init__(self, model, n_banks: int):
        self.m = model
        cfg = model.sc.banking
        self.cfg = cfg
        F, W = model.firms, model.weight
        g = model.streams["init"]
        self.banks = B = Banks(n_banks)
        size = np.exp(cfg.size_dispersion * g.standard_normal(n_banks))
        self.size_share = size / size.sum()
        self.size_cdf = np.cumsum(self.size_share)
        self.size_cdf[-1] = 1.0
        # firms bank where a bank's size says: big banks have more clients
        a = F.alive
        u = g.random(F.n_rows)
        credit.banks_by_size(u, self.size_cdf, F.bank)  # searchsorted (side right), clipped to the last bank
        B.alive[:] = True
        B.margin[:] = cfg.margin + cfg.margin_dispersion * g.standard_normal(n_banks)
        w = W[F.sector[a]]
        B.loans[:] = np.bincount(F.bank[a], weights=w * F.loans[a], minlength=n_banks)
        # monthly flows (economy-wide yuan); the first three are accounting.BankFlows, made before
        # refresh_exposures, whose kernel writes firm_loans (loans each bank's firms owe it)
        self.interest_income = np.zeros(n_banks)
        self.deposit_interest = np.zeros(n_banks)
        self.firm_loans = np.zeros(n_banks)
        self.writeoff = np.zeros(n_banks)
        self.refresh_exposures()
        B.equity[:] = cfg.capital_ratio_2019 * B.rwa
        B.capital_ratio[:] = _ratio(B.equity, B.rwa)
        B.loans_sme_year_ago[:] = B.loans_sme
        B.provisions[:] = self._provisions()
        self.history_sme: list[np.ndarray] = []
        self.failures_this_month = 0
        self.recap_cost = 0.0
        self.gov_cover = 0.0

    # ------------------------------------------------------------------------------------------
    def refresh_exposures(self) -> None:
        """Derived bank aggregates from the firms' books: loans by size class, guaranteed exposure,
        risk-weighted assets, deposits, non-performing loans; and for the stock-flow checks the loans
        each bank's firms owe it (`firm_loans`) and all firm deposits (`firm_deposits`)."""
        m = self.m
        self.firm_deposits = float(m.month_sums(records=False, bk=self)[0])

    def lending_conditions(self):
        """Room under the capital constraint, the default risk each bank accepts (tightening as its
        capital ratio nears the minimum), SME concessions for banks short of their target, and each
        bank's lending margin (higher when its capital is scarce)."""
        B, p, cfg = self.banks, self.m.policy, self.cfg
        min_car = p.min_capital_ratio
        if self.cfg.market == "passive":
            room = np.full(B.n_rows, np.inf)
            pdmax = np.ones(B.n_rows)
            return room, pdmax, pdmax, np.zeros(B.n_rows), B.margin.copy()
        room = np.where(B.alive, B.equity / max(min_car, 1e-9) - B.rwa, 0.0)
        car = _ratio(B.equity, B.rwa)
        tight = np.clip((car - min_car) / cfg.capital_buffer, 0.0, 1.0)
        pdmax = cfg.pd_max * tight
        target = p.inclusive_sme_target
        if target > 0:
            growth = np.full(B.n_rows, target)
            np.divide(B.loans_sme, B.loans_sme_year_ago, out=growth, where=B.loans_sme_year_ago > 0)
            growth = np.where(B.loans_sme_year_ago > 0, growth - 1, target)
            gap = np.clip((target - growth) / target, 0.0, 1.0) * p.inclusive_concession
        else:
            gap = np.zeros(B.n_rows)
        # a bank near its capital minimum prices its scarce capital: the margin rises as it tightens
        margin = B.margin + cfg.capital_charge * (1.0 - tight)
        return room, pdmax * (1 + gap), pdmax, gap, margin

    def _provisions(self) -> np.ndarray:
        B, cfg = self.banks, self.cfg
        return cfg.general_provision * (B.loans - B.npl) + cfg.specific_provision * B.npl

    # ------------------------------------------------------------------------------------------
    def month_end(self, refreshed: bool = False, other_income: np.ndarray | None = None) -> None:
        """Interest, provisions, write-offs, taxes and dividends; capital ratios; failures.
        `refreshed`: exposures were just refreshed from the firms' books (no change since).
        `other_income`: in the closed economy, each bank's interest on bonds and reserves less what it
        pays on households' deposits and central-bank advances (sim.economy); without it, funds beyond
        deposits and equity cost `funding_rate` (an open economy's shortcut)."""
        B, cfg = self.banks, self.cfg
        if not refreshed:
            self.refresh_exposures()
        prov_new = self._provisions()
        d_prov = prov_new - B.provisions
        B.provisions[:] = prov_new
        opex = cfg.operating_cost / 12.0 * B.loans
        if other_income is None:
            other_funding = np.maximum(B.loans - B.equity - B.deposits, 0.0)
            funding = cfg.funding_rate / 12.0 * other_funding
        else:
            funding = -other_income
        self.opex_total = float(opex[B.alive].sum())
        pre = self.interest_income - self.deposit_interest - funding - opex - d_prov - self.writeoff
        tax = np.where(pre > 0, cfg.tax_rate * pre, 0.0)
        net = pre - tax
        # dividends: a share of profit while the bank is at or above its target capital ratio, and
        # all of it once capital exceeds the target by the buffer (that capital would back lending
        # outside the modelled industry); nothing below the target. Capital is never paid out.
        target = cfg.capital_ratio_2019 * B.rwa
        pos = np.maximum(net, 0.0)
        div = np.where(B.equity + net >= target, cfg.dividend_payout * pos, 0.0)
        excess = B.equity + net - div - (cfg.capital_ratio_2019 + cfg.capital_buffer) * B.rwa
        div = div + np.clip(excess, 0.0, pos - div)
        B.profit[:] = np.where(B.alive, net, 0.0)
        B.equity[:] += np.where(B.alive, net - div, 0.0)
        self.tax = float(tax[B.alive].sum())
        self.dividends = float(div[B.alive].sum())
        B.capital_ratio[:] = _ratio(B.equity, B.rwa)
        self._resolve_failures()
        # SME lending a year ago, for inclusive-finance targets
        self.history_sme.append(B.loans_sme.copy())
        if len(self.history_sme) > 12:
            B.loans_sme_year_ago[:] = self.history_sme.pop(0)

    def _resolve_failures(self) -> None:
        m, B, p, cfg = self.m, self.banks, self.m.policy, self.cfg
        self.failures_this_month = 0
        self.recap_cost = 0.0
        self.gov_cover = 0.0
        # critically undercapitalised: below half the minimum ratio, or equity gone while it still lends
        failed = B.alive & (B.rwa > 0) & ((B.equity <= 0) | (B.capital_ratio < 0.5 * p.min_capital_ratio))
        merged = False
        for b in np.flatnonzero(failed):
            self.failures_this_month += 1
            B.failures[b] += 1
            if p.bank_resolution == "recapitalise" or B.alive.sum() <= 1:
                target = (p.min_capital_ratio + cfg.recapitalisation_target) * B.rwa[b]
                inject = max(target - B.equity[b], 0.0)
                B.equity[b] += inject
                self.recap_cost += inject
            else:
                ok = B.alive.copy()
                ok[b] = False
                car = np.where(ok, B.capital_ratio, -np.inf)
                acq = int(np.argmax(car))
                if B.equity[b] < 0:  # the government covers the hole before the merger
                    self.gov_cover += -B.equity[b]
                    B.equity[b] = 0.0
                F = m.firms
                F.bank[F.bank == b] = acq
                B.loans[acq] += B.loans[b]
                B.equity[acq] += B.equity[b]
                B.provisions[acq] += B.provisions[b]
                B.loans[b] = 0.0
                B.equity[b] = 0.0
                B.provisions[b] = 0.0
                B.alive[b] = False
                merged = True
            B.capital_ratio[:] = _ratio(B.equity, B.rwa)
        if merged:  # the acquirers' books now hold the failed banks' firms (a recapitalisation moves none)
            self.refresh_exposures()
            B.capital_ratio[:] = _ratio(B.equity, B.rwa)

    # ------------------------------------------------------------------------------------------
    def loan_gap(self) -> float:
        """Largest difference between loans on a bank's books and the loans its firms owe it."""
        m, B = self.m, self.banks
        F = m.firms
        return float(sums.loan_gap(F.alive, F.sector, m.weight, F.bank, F.loans, B.loans, np.zeros(B.n_rows)))

    def check(self, step: str, scale: float, rtol: float = 1e-9, gap: float | None = None) -> float:
        """Loans on the banks' books must equal the loans firms owe them (`gap` may come from the
        step's own kernel; else it is computed here)."""
        gap = self.loan_gap() if gap is None else gap
        if gap > rtol * max(scale, 1.0):
            raise SFCError(f"after step '{step}': loans on bank books differ from loans on firm books by "
                           f"{gap:.6g} yuan")
        return gap
