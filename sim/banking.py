"""Banks as arrays: set-up, lending conditions, month-end accounting, failures and resolution,
and the stock-flow checks of the credit system (MODEL.md steps 7, 9 and 11).

Bank stocks are economy-wide yuan. `loans` on the bank's books is changed only by flows (new loans,
repayments, refinancing, exits, resolution), never recomputed from the firms, so comparing it with
the firms' own books is a real check.
"""

from __future__ import annotations

import numpy as np

from .kernels import accounting as acc
from .kernels import bank_books, credit, exposure, sums
from .kernels.exposure import Parts
from .state import Banks

MIN_BANKS = 10  # banks at the scale of a small run's firms are never fewer
_NO_ROWS = np.zeros(0, dtype=np.int64)


def bank_count(sc) -> int:
    """Modelled banks: `run.banks`, or with 0 as many as keep the 1:1 ratio of real firms to real
    banks (banking.banks_total banks for the sectors' 1:1 population), at least MIN_BANKS."""
    if sc.run.banks > 0:
        return int(sc.run.banks)
    population = sum(sc.sectors[s].firms_2019 for s in sc.sectors)
    return max(int(round(sc.banking.banks_total * sc.run.firms / population)), MIN_BANKS)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.inf)
    np.divide(num, den, out=out, where=den > 0)
    return out


def descending_order(x: np.ndarray) -> np.ndarray:
    """np.argsort(-x, kind="stable"), the same permutation: numpy's default sort (5x quicker than the
    stable merge sort on the 378,000 rows at 1:1) gives it when no two keys are equal (the order of
    distinct keys is unique); with ties or NaN (which may come in another order) the stable sort."""
    keys = -x
    order = np.argsort(keys)
    ranked = keys[order]
    if ranked.size and (np.isnan(ranked[-1]) or np.any(ranked[1:] == ranked[:-1])):
        return np.argsort(keys, kind="stable")
    return order


def provisions(B, cfg) -> np.ndarray:
    """Each bank's provisions by loan category (PBOC 2002 Guidance on Provisioning for Loan Losses):
    the general provision on normal loans, the specific rates on special-mention, substandard,
    doubtful and loss loans. A defaulted loan ages through the categories while its estate is in the
    court procedure, so its provision builds month by month until the estate is liquidated.
    B: Banks; cfg: the scenario's banking settings."""
    normal = B.loans - B.loans_special - B.npl
    return (cfg.general_provision * normal + cfg.provision_special_mention * B.loans_special
            + cfg.provision_substandard * B.loans_substandard + cfg.provision_doubtful * B.loans_doubtful
            + cfg.provision_loss * B.loans_loss)


class SFCError(RuntimeError):
    """A stock-flow identity failed: the books do not add up after the named step."""


class BankingSystem:
    def __init__(self, model, n_banks: int):
        self.m = model
        cfg = model.sc.banking
        self.cfg = cfg
        F = model.firms
        g = model.streams["init"]
        self.banks = B = Banks(n_banks)
        size = np.exp(cfg.size_dispersion * g.standard_normal(n_banks))
        self.size_share = size / size.sum()
        self.size_cdf = np.cumsum(self.size_share)
        self.size_cdf[-1] = 1.0
        # each firm's first bank is drawn by size: big banks have more clients
        u = g.random(F.n_rows)
        credit.banks_by_size(u, self.size_cdf, F.bank)  # searchsorted (side right), clipped to the last bank
        B.alive[:] = True
        B.margin[:] = cfg.margin + cfg.margin_dispersion * g.standard_normal(n_banks)
        # a modelled bank stands for bank_weight real banks of equal size (banking.banks_total at 1:1)
        self.bank_weight = cfg.banks_total / n_banks
        # monthly flows (economy-wide yuan); the first three are accounting.BankFlows, made before
        # refresh_exposures, whose kernel writes firm_loans (loans each bank's firms owe it)
        self.interest_income = np.zeros(n_banks)
        self.deposit_interest = np.zeros(n_banks)
        self.firm_loans = np.zeros(n_banks)
        self.writeoff = np.zeros(n_banks)
        self.parts = exposure.no_parts()
        self._sums_key, self._sums_params = None, None  # accounting.sums_params, made once (shift_exposures)
        self.over_limit = np.zeros(0, dtype=np.int64)  # rows whose loans no bank could take within the limit
        self.breaches = self._place_opening_loans()
        B.capital_ratio[:] = _ratio(B.equity, B.rwa)
        B.loans_sme_year_ago[:] = B.loans_sme
        B.provisions[:] = self._provisions()
        self.history_sme: list[np.ndarray] = []
        self.failures_this_month = 0
        self.recap_cost = 0.0
        self.gov_cover = 0.0
        self.insurance_cost = 0.0

    def _place_opening_loans(self) -> int:
        """The loans firms owe at the start, placed with banks within the large-exposure limit
        (kernels.exposure): each bank's risk-weighted assets are its size's share of all, and its
        capital the target ratio of them; rows largest first go to their drawn bank up to its limit,
        the rest to the banks with the most capital and assets left. Returns the rows whose loans no
        bank could take within the limit (`over_limit`: a giant firm in a small run)."""
        m, cfg, B = self.m, self.cfg, self.banks
        F, W = m.firms, m.weight
        rows = np.flatnonzero(F.alive)
        w = W[F.sector[rows]]
        book = w * F.loans[rows]
        rw = np.where(F.sme[rows], cfg.risk_weight_sme, cfg.risk_weight_large)
        # the modelled banks hold only the industries' loans: a bank's net capital (for the limit) also
        # backs its other lending, at the same ratio (banking.loans_all_2019)
        self.capital_factor = max(cfg.loans_all_2019 * 1e12 / max(float(book.sum()), 1.0), 1.0)
        target = self.size_share * float(np.dot(rw, book))  # risk-weighted assets
        planned = cfg.capital_ratio_2019 * target
        unit = exposure.units(planned * self.capital_factor, B.alive, cfg.large_exposure_limit, self.bank_weight)
        order = descending_order(book)
        by_capital = np.argsort(-unit, kind="stable")
        lead = np.empty(rows.size, dtype=np.int64)
        _, breaches = self._place(order, book, w, rw, F.bank[rows].astype(np.int64), unit, target, by_capital,
                                  lead, rows)
        F.bank[rows] = lead
        B.loans[:] = np.bincount(lead, weights=book, minlength=B.n_rows)
        exposure.shift_loans(self.parts, F.bundle(), W, np.zeros(0), B.loans)
        self.refresh_exposures()
        B.equity[:] = cfg.capital_ratio_2019 * B.rwa
        return breaches

    def _place(self, order, book, w, rw, first, unit, free, by_capital, lead, rows) -> tuple[Parts, int]:
        """exposure.place_loans into a buffer of participations (twice the rows; the largest it can need
        if that is too small); the new entries (for rows[r], r the index place_loans uses) join the
        parts table, `free` is used up and the rows placed beyond the limit join `over_limit`. Returns
        the new entries by index r and the number of rows beyond the limit."""
        size = 2 * book.size + 64
        over = np.zeros(book.size, dtype=np.bool_)
        while True:
            prow = np.empty(size, dtype=np.int64)
            pbank = np.empty(size, dtype=np.int64)
            pshare = np.empty(size)
            f = free.copy()
            n, breaches, _ = exposure.place_loans(exposure.Borrowers(order, book, w, rw, first),
                                                  exposure.Lenders(unit, f, by_capital), self.bank_weight,
                                                  exposure.Placement(lead, over, prow, pbank, pshare))
            if n >= 0:
                break
            size = book.size * (exposure.MAX_LENDERS - 1)
        free[:] = f
        new = Parts(prow[:n], pbank[:n], pshare[:n])
        self.add_parts(Parts(rows[new.row], new.bank, new.share))
        if over.any():  # (over_limit is kept sorted and without repeats: np.union1d's)
            self.over_limit = np.union1d(self.over_limit, rows[over])
        return new, int(breaches)

    def place_entrants(self, rows: np.ndarray, first: np.ndarray, w: np.ndarray, loans: np.ndarray) -> np.ndarray:
        """Entrants' loans (per real firm; rows `rows`, drawn banks `first`, weights `w`) booked with
        banks within the large-exposure limit: the drawn bank up to its limit, the rest with the banks
        with the most capital. Returns each entrant's lead bank."""
        B = self.banks
        book = w * loans
        unit = self.exposure_units()
        lead = np.empty(rows.size, dtype=np.int64)
        rw = np.full(rows.size, self.cfg.risk_weight_sme)  # entrants are SMEs
        new, breaches = self._place(np.arange(rows.size), book, w, rw, first.astype(np.int64), unit,
                                    np.full(B.n_rows, np.inf), np.argsort(-unit, kind="stable"), lead, rows)
        self.breaches += breaches
        # on the lead's books in row order, then the participants' shares moved from the lead's books
        bank_books.book_entrants(B.loans, lead, book, new.row, new.bank, new.share)
        return lead

    def add_parts(self, new: Parts) -> None:
        """Participations join the table, which stays sorted by row (stable: a row's lenders keep
        their order)."""
        if new.row.size:
            self.parts = exposure.merge_parts(self.parts, _NO_ROWS, 0, new)

    def replace_parts(self, rows: np.ndarray, new: Parts) -> None:
        """The rows `rows` (whose lenders changed) now have the participations `new`."""
        if rows.size:
            self.parts = exposure.merge_parts(self.parts, rows, self.m.firms.n_rows, new)

    def drop_parts(self, keep: np.ndarray) -> None:
        self.parts = Parts(*(a[keep] for a in self.parts))

    def _merge_parts(self) -> None:
        """After a merger: a participation held by the row's lead becomes the lead's, and two held by
        one bank become one."""
        p, F, nb = self.parts, self.m.firms, self.banks.n_rows
        keep = p.bank != F.bank[p.row]
        key = p.row[keep] * nb + p.bank[keep]
        uniq, inv = np.unique(key, return_inverse=True)
        self.parts = Parts(uniq // nb, uniq % nb, np.bincount(inv, weights=p.share[keep], minlength=uniq.size))

    def drop_dead_parts(self) -> None:
        """Participations of rows that have left (their loans left every lender's books); an estate
        in the court procedure keeps its lenders until it is liquidated."""
        F = self.m.firms
        if self.parts.row.size:
            r = self.parts.row
            self.drop_parts(F.alive[r] | (F.court[r] > 0))
        self.over_limit = self.over_limit[F.alive[self.over_limit]]

    def lead_share(self, rows: np.ndarray) -> np.ndarray:
        """Share of each row's loan its lead bank holds."""
        held = np.bincount(self.parts.row, weights=self.parts.share, minlength=self.m.firms.n_rows)
        return 1.0 - held[rows]

    def exposure_units(self) -> np.ndarray:
        """Largest loan to one real firm at one real bank of each modelled bank (yuan), this month."""
        B = self.banks
        return exposure.units(B.equity * self.capital_factor, B.alive, self.cfg.large_exposure_limit,
                              self.bank_weight)

    def exposures(self):
        """Every (row, bank) loan of live rows: the row, the bank, one real firm's loan at one real bank
        of it (book / max(weight, bank_weight), yuan) and the row's book there (economy-wide yuan)."""
        m = self.m
        F = m.firms
        rows = np.flatnonzero(F.alive)
        w = m.weight[F.sector[rows]]
        lead_book = self.lead_share(rows) * w * F.loans[rows]
        p = self.parts
        keep = F.alive[p.row]
        pw = m.weight[F.sector[p.row[keep]]]
        part_book = p.share[keep] * pw * F.loans[p.row[keep]]
        row = np.concatenate((rows, p.row[keep]))
        bank = np.concatenate((F.bank[rows].astype(np.int64), p.bank[keep]))
        book = np.concatenate((lead_book, part_book))
        spread = np.maximum(np.concatenate((w, pw)), self.bank_weight)
        return row, bank, book / spread, book

    def largest_exposure(self, units: np.ndarray | None = None, skip_over_limit: bool = True) -> float:
        """Largest loan to one real borrower over the large-exposure limit of its bank (1: at the
        limit; `units`: the banks' limits, this month's if not given), leaving out the rows no bank
        could take within the limit at placement (`over_limit`) unless `skip_over_limit` is False."""
        row, bank, real, _ = self.exposures()
        units = self.exposure_units() if units is None else units
        keep = ~np.isin(row, self.over_limit) if skip_over_limit else np.ones(row.size, dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(keep & (real > 0), real / units[bank], 0.0)
        return float(r.max()) if r.size else 0.0

    # ------------------------------------------------------------------------------------------
    def refresh_exposures(self) -> None:
        """Derived bank aggregates from the firms' books: loans by size class, guaranteed exposure,
        risk-weighted assets, deposits, non-performing loans; and for the stock-flow checks the loans
        each bank's firms owe it (`firm_loans`) and all firm deposits (`firm_deposits`)."""
        m = self.m
        self.firm_deposits = float(m.month_sums(records=False, bk=self)[0])

    def lending_conditions(self) -> tuple[np.ndarray, ...]:
        """This month's terms of each bank (kernels.bank_books.lending_terms, fresh arrays): room under
        the capital constraint, the default risk it accepts from SMEs (more for banks short of their
        inclusive target) and large firms (tightening as its capital ratio nears the minimum), the SME
        premium it waives, its lending margin (higher when its capital is scarce), its large-exposure
        unit (`exposure_units`; inf unless banking.market is "banks"), and the inclusive terms:
        how far beyond an SME's borrowing limit it lends (share of the firm's assets:
        `policy.inclusive_unsecured` times its shortfall against the target) and the cut in its SME
        rate that re-lending pays for (1/yr: the share of SME loans re-lent times the gap between the
        marginal value of liquidity, the bond yield `economy.bond_rate`, and the re-lending rate; the
        average cost of funds, `banking.funding_rate` 2.5%, is below the 2019 re-lending rate, so
        re-lending is cheap only at the margin)."""
        B, p, cfg = self.banks, self.m.policy, self.cfg
        min_car = float(p.min_capital_ratio)
        rates = bank_books.TermsRates(
            passive=cfg.market == "passive", banks=cfg.market == "banks", min_capital_ratio=min_car,
            min_car_floor=float(max(min_car, 1e-9)), capital_buffer=float(cfg.capital_buffer),
            pd_max=float(cfg.pd_max), capital_charge=float(cfg.capital_charge),
            sme_target=float(p.inclusive_sme_target), concession=float(p.inclusive_concession),
            unsecured=float(p.inclusive_unsecured),
            rate_cut=float(p.relending_share * max(self.m.sc.economy.bond_rate - p.relending_rate, 0.0)),
            capital_factor=float(self.capital_factor), exposure_limit=float(cfg.large_exposure_limit),
            bank_weight=float(self.bank_weight))
        return bank_books.lending_terms(B.alive, B.equity, B.rwa, B.margin, B.loans_sme, B.loans_sme_year_ago, rates)

    # ------------------------------------------------------------------------------------------
    # inclusive finance: the supervisor's target and the central bank's channels (docs/credit.md)
    def inclusive_shortfall(self) -> np.ndarray:
        """The supervisor's assessment of each bank against the inclusive-lending target
        (`policy.inclusive_sme_target`): the share of the target its SME lending growth over the last
        twelve months misses, 0 (met) to 1 (no growth or less); 0 for every bank without a target."""
        B, target = self.banks, self.m.policy.inclusive_sme_target
        if target <= 0:
            return np.zeros(B.n_rows)
        growth = np.full(B.n_rows, target)
        np.divide(B.loans_sme, B.loans_sme_year_ago, out=growth, where=B.loans_sme_year_ago > 0)
        growth = np.where(B.loans_sme_year_ago > 0, growth - 1, target)
        with np.errstate(over="ignore"):  # a tiny target: the shortfall is +-inf before the clip, which is right
            return np.clip((target - growth) / target, 0.0, 1.0)

    def relending_stock(self) -> np.ndarray:
        """Central-bank re-lending each bank holds for its small and micro loans (economy-wide yuan):
        `policy.relending_share` of its SME loans."""
        B = self.banks
        return np.where(B.alive, self.m.policy.relending_share * B.loans_sme, 0.0)

    def rrr_cut(self) -> np.ndarray:
        """The targeted cut of the required reserve ratio each bank receives: `policy.targeted_rrr_cut`
        for banks whose SME loans are at least `policy.targeted_rrr_threshold` of their loans."""
        B, p = self.banks, self.m.policy
        if p.targeted_rrr_cut <= 0:
            return np.zeros(B.n_rows)
        share = np.zeros(B.n_rows)
        np.divide(B.loans_sme, B.loans, out=share, where=B.loans > 0)
        return np.where(B.alive & (share >= p.targeted_rrr_threshold), p.targeted_rrr_cut, 0.0)

    def open_funding_saving(self) -> np.ndarray:
        """Open economy (no central-bank books): each bank's monthly gain from re-lending at
        `policy.relending_rate` and from reserves freed by the targeted RRR cut (which earned
        `economy.reserve_rate`), the funds placed at the marginal yield on liquidity, the bond yield
        `economy.bond_rate` (as the closed economy's banks place them)."""
        B, p, e = self.banks, self.m.policy, self.m.sc.economy
        relend = self.relending_stock()
        freed = self.rrr_cut() * np.maximum(B.deposits, 0.0)
        return ((e.bond_rate - p.relending_rate) * relend + (e.bond_rate - e.reserve_rate) * freed) / 12.0

    def _provisions(self) -> np.ndarray:
        return provisions(self.banks, self.cfg)

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
        if other_income is None:
            other_funding = np.maximum(B.loans - B.equity - B.deposits, 0.0)
            funding = cfg.funding_rate / 12.0 * other_funding
            if self.m.policy.relending_share > 0 or self.m.policy.targeted_rrr_cut > 0:
                funding = funding - self.open_funding_saving()
        else:
            funding = -other_income
        # provisions (`provisions`), operating costs, profit and its tax, dividends: a share of profit
        # while the bank is at or above its target capital ratio, and all of it once capital exceeds
        # the target by the buffer (that capital would back lending outside the modelled industry),
        # nothing below the target; capital is never paid out. Then equity and capital ratios: one
        # compiled pass over the banks (kernels.bank_books)
        books = bank_books.MonthEndBooks(*(getattr(B, name) for name in bank_books.MonthEndBooks._fields))
        flows = bank_books.MonthEndFlows(self.interest_income, self.deposit_interest, funding, self.writeoff)
        opex, tax, dividends, failing = bank_books.bank_month_end(
            B.alive, books, flows, bank_books.month_end_rates(cfg), 0.5 * self.m.policy.min_capital_ratio)
        self.opex_total, self.tax, self.dividends = float(opex), float(tax), float(dividends)
        self._resolve_failures(failing)
        # SME lending a year ago, for inclusive-finance targets
        self.history_sme.append(B.loans_sme.copy())
        if len(self.history_sme) > 12:
            B.loans_sme_year_ago[:] = self.history_sme.pop(0)

    def resolution_cost(self) -> float:
        """Public money spent on failed banks this month: recapitalisations, holes covered before a
        merger, and the deposit insurance fund's payments to acquirers (yuan)."""
        return self.recap_cost + self.gov_cover + self.insurance_cost

    def _resolve_failures(self, failing: int) -> None:
        """Resolve the critically undercapitalised banks (`failing` of them: bank_books.bank_month_end
        counts them) as the policy says."""
        self.failures_this_month = 0
        self.recap_cost = 0.0
        self.gov_cover = 0.0
        self.insurance_cost = 0.0
        if not failing:
            return
        m, B, p, cfg = self.m, self.banks, self.m.policy, self.cfg
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
                # the soundest bank; ratios within rounding of the highest count as equal (the first wins)
                top = car.max()
                acq = int(np.argmax(car >= top - 1e-9 * abs(top) if np.isfinite(top) else car))
                if p.bank_resolution == "deposit_insurance":
                    # purchase and assumption: the fund pays the acquirer to take the book over with
                    # capital at the minimum ratio plus the recapitalisation margin (Baoshang 2019)
                    target = (p.min_capital_ratio + cfg.recapitalisation_target) * B.rwa[b]
                    inject = max(target - B.equity[b], 0.0)
                    B.equity[b] += inject
                    self.insurance_cost += inject
                elif B.equity[b] < 0:  # the government covers the hole before the merger
                    self.gov_cover += -B.equity[b]
                    B.equity[b] = 0.0
                F = m.firms
                F.bank[F.bank == b] = acq
                self.parts = Parts(self.parts.row, np.where(self.parts.bank == b, acq, self.parts.bank),
                                   self.parts.share)
                self._merge_parts()
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
        firm_side = np.zeros(B.n_rows)
        sums.loan_gap(F.alive, F.court, F.sector, m.weight, F.bank, F.loans, B.loans, firm_side)
        exposure.shift_loans(self.parts, credit.view(exposure.LoanRows, F.bundle()), m.weight, np.zeros(0), firm_side)
        return float(np.max(np.abs(firm_side - B.loans)))

    def shift_exposures(self) -> None:
        """After accounting.month_sums (which books a row's exposures at its lead bank): each
        participating bank takes its share."""
        m = self.m
        if self._sums_key != m.sme_threshold:  # (the banking settings stay as they are through a run)
            self._sums_key, self._sums_params = m.sme_threshold, acc.sums_params(self.cfg, m.sme_threshold)
        exposure.shift_exposures(self.parts, credit.view(exposure.ExposureRows, m.firms.bundle()),
                                 credit.Weights(m.weight), self._sums_params,
                                 credit.view(exposure.ExposureBooks, self.banks.bundle()), self.firm_loans)

    def shift_interest(self) -> None:
        """After accounting.income (which books a row's interest at its lead bank): each participating
        bank takes its share."""
        F = self.m.firms
        exposure.shift_loans(self.parts, credit.view(exposure.LoanRows, F.bundle()), self.m.weight, F.loan_rate,
                             self.interest_income)

    def check(self, step: str, scale: float, rtol: float = 1e-9, gap: float | None = None) -> float:
        """Loans on the banks' books must equal the loans firms owe them (`gap` may come from the
        step's own kernel; else it is computed here)."""
        gap = self.loan_gap() if gap is None else gap
        if gap > rtol * max(scale, 1.0):
            raise SFCError(f"after step '{step}': loans on bank books differ from loans on firm books by "
                           f"{gap:.6g} yuan")
        return gap
