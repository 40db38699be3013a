"""Setting up the economy (IndustrialEconomy's set-up): sectors from the scenario's sector table,
firms drawn by sector with correlated size, productivity and energy intensity, balance sheets from
NBS ratios, loan rates as banks would quote them, and the draws fixed by the run size."""

from __future__ import annotations

import math

import numpy as np

from ..kernels import credit as cr
from ..kernels.shocks import laplace_quantiles
from ..regulators import PolicySchedule, retired_per_unit_built
from ..scenario.schema import SECTORS, interest_share, materials_share
from ..state import Firms

N_S = len(SECTORS)
CASH_TO_REVENUE = 0.12  # deposits over annual revenue at start (inferred from NBS current assets)
OTHER_ASSETS_TO_REVENUE = 0.55  # receivables and inventories over annual revenue (inferred, NBS 2019)


# the balance-sheet fields `_balance_sheets` writes
SHEET = ("capital", "cash", "other_assets", "loans", "other_liab", "net_worth")


class SetupMixin:
    def _setup_sectors(self) -> None:
        sc, b = self.sc, self.b
        ps = [sc.sectors[s] for s in SECTORS]
        f = lambda name: np.array([getattr(p, name) for p in ps], dtype=float)  # noqa: E731
        self.io = np.zeros((N_S, N_S))  # io[k, s]: yuan bought from k per yuan of s's output
        for s, p in enumerate(ps):
            for k, a in p.inputs.items():
                self.io[SECTORS.index(k), s] = a
        self.labour = f("labour_share")
        self.services = f("services_share")
        self.energy_share = f("energy_share")
        self.materials = np.array([materials_share(p, b) for p in ps])
        self.elec_share = f("electricity_share")
        self.large_share = f("large_tariff_share")
        self.util_target = f("utilisation_2019")
        self.util_normal = np.full(N_S, float(self.b.normal_utilisation))
        # critical[k, s]: a shortage of k's output limits s's production (not s's own sector's)
        self.critical = (self.io >= b.critical_input_threshold) & ~np.eye(N_S, dtype=bool)
        self.input_fill = np.ones(N_S)
        self.shortage_import_share = np.array([sc.economy.shortage_import_share[s] for s in SECTORS])
        self.inputs_received = self.io.copy()
        self.growth = f("demand_growth")
        # the growth of its orders a sector's firms expect (learn_growth): the trend at the start
        self.orders_growth_expected = self.growth.copy()
        # the capacity rivals' exits leave to the survivors, net of entrants' (learn_turnover), 1/yr
        self.turnover_expected = np.zeros(N_S)
        self.growth_expected = self.orders_growth_expected + self.turnover_expected
        self.orders_smooth = None
        # intensity of use: the input-output rows drift (IndustrialEconomy.use_intensity)
        self.intensity_trend = f("input_intensity_trend")
        self.io0, self.materials0 = self.io.copy(), self.materials.copy()
        self.lag = np.array([p.build_lag for p in ps], dtype=np.int64)
        self.dep_month = f("depreciation") / 12.0
        self.cap_output = f("capital_output")
        self.elasticity = f("price_elasticity")
        self.income_el = f("income_elasticity")
        self.inv_share = f("investment_share")
        self.pass_through = f("vat_pass_through")
        self.frontier_growth = f("frontier_growth")
        self.ei_decline = f("energy_frontier_decline")
        self.entry_rate = f("entry_rate")
        self.rev_month = f("revenue_2019") * 1e12 / 12.0  # yuan/month at 2019 prices
        self.cap0 = self.rev_month / self.util_target
        self.phys_per_yuan = f("capacity_2019") / (self.cap0 * 12.0)  # physical units/yr per yuan/month
        unit = 1.0 - f("profit_margin") - self.cap_output * f("depreciation") - np.array(
            [interest_share(p, b) for p in ps])
        self.markup0 = 1.0 / unit - 1.0
        self.margin0 = f("profit_margin")
        self.population = np.array([p.firms_2019 for p in ps], dtype=float)
        self.workers_per_yuan = self.labour / (b.labour_cost_per_worker / 12.0)
        self.mwh_per_yuan = self.energy_share / b.energy_price_2019
        # demand at start: final = output - intermediate - investment demand
        q0 = self.rev_month
        self.invest0 = float(np.sum((f("depreciation") + self.growth) * self.cap_output * q0))
        z0 = self.io @ q0
        f0 = q0 - z0 - self.inv_share * self.invest0
        bad = [SECTORS[s] for s in range(N_S) if f0[s] < 0.02 * q0[s]]
        if bad:
            raise ValueError(
                f"sectors {bad}: intermediate and investment demand exceed output at start; lower their "
                "inputs (input-output coefficients of buyers) or investment_share"
            )
        self.final0 = f0

    def _allocate_rows(self) -> np.ndarray:
        n = self.sc.run.firms
        pop = self.population
        if n >= pop.sum():
            alloc = np.floor(pop * n / pop.sum()).astype(np.int64)
        else:
            alloc = np.maximum(np.round(pop * n / pop.sum()).astype(np.int64), min(50, n // (2 * N_S)))
        alloc[np.argmax(alloc)] += n - alloc.sum()
        return alloc

    def _setup_firms(self) -> None:
        sc, b = self.sc, self.b
        alloc = self._allocate_rows()
        self.n_alloc = alloc
        self.weight = self.population / alloc  # real firms per model firm, by sector
        n = int(alloc.sum())
        rows = n + max(int(math.ceil(n * sc.run.headroom)), 10)
        self.firms = F = Firms(rows)
        g = self.streams["init"]
        z = g.standard_normal((3, n))
        u = g.random((2, n))  # numpy's own fill: with rng.fill_uniforms 5M-firm runs kept 33 MB more resident
        sector = np.repeat(np.arange(N_S), alloc)
        F.alive[:n] = True
        F.firm_id[:n] = np.arange(n)
        self.next_firm_id = n  # firms get ids in order of entry
        self.rows_added = 0  # rows added when entrants found none free (grow_rows)
        F.sector[:n] = sector
        F.soe[:n] = u[0] < np.array([sc.sectors[s].soe_share for s in SECTORS])[sector]
        F.age[:n] = (u[1] * 240).astype(np.int64)
        rho_sa, rho_ae = b.size_productivity_corr, b.productivity_energy_corr
        sig_size = np.array([sc.sectors[s].size_dispersion for s in SECTORS])[sector]
        sig_a = np.array([sc.sectors[s].productivity_dispersion for s in SECTORS])[sector]
        sig_e = np.array([sc.sectors[s].energy_intensity_dispersion for s in SECTORS])[sector]
        za = rho_sa * z[0] + math.sqrt(1 - rho_sa**2) * z[1]
        ze = rho_ae * za + math.sqrt(1 - rho_ae**2) * z[2]
        size = np.exp(sig_size * z[0]) * np.where(F.soe[:n], b.soe_size_ratio, 1.0)
        prod_ = np.exp(sig_a * za)
        ei = np.exp(sig_e * ze)
        self.frontier_a = np.ones(N_S)
        self.frontier_ei = np.ones(N_S)
        self.median_capacity = np.ones(N_S)
        ends = np.cumsum(alloc)
        for s in range(N_S):
            m = slice(int(ends[s] - alloc[s]), int(ends[s]))  # the sector's rows (firms are sorted by sector)
            # above-size firms have a floor (20 m yuan of revenue): no firm starts so small that the
            # small-share exit rule (behaviour.min_relative_share) would close it in its first month
            size[m] = np.maximum(size[m], 2.0 * b.min_relative_share * size[m].mean())
            cap = size[m] / size[m].sum() * self.cap0[s] / self.weight[s]
            a = prod_[m] * np.sum(cap / prod_[m]) / cap.sum()  # capacity-weighted mean of 1/A is 1
            e = ei[m] / (np.sum(cap * ei[m]) / cap.sum())  # capacity-weighted mean of EI is 1
            F.capacity[m] = cap
            F.productivity[m] = a
            F.energy_intensity[m] = e
            F.share[m] = cap / cap.sum()
            self.frontier_a[s] = np.quantile(a, 0.98)
            self.frontier_ei[s] = np.quantile(e, 0.02)
            self.median_capacity[s] = np.median(cap)
        self.frontier_a0 = self.frontier_a.copy()
        sl = slice(0, n)
        F.share_prev[sl] = F.share[sl]
        F.output[sl] = F.capacity[sl] * self.util_target[sector]
        F.orders[sl] = F.output[sl]
        F.expected[sl] = F.output[sl]
        F.markup[sl] = self.markup0[sector]
        va = self.labour + self.services
        unit_cost = va[sector] / F.productivity[sl] + self.energy_share[sector] * F.energy_intensity[sl] + (
            self.io.sum(axis=0) + self.materials)[sector]
        F.price[sl] = (1 + F.markup[sl]) * unit_cost
        F.revenue[sl] = F.price[sl] * F.output[sl]
        self._balance_sheets(F.sector[sl], 12.0 * F.output[sl], {name: getattr(F, name)[sl] for name in SHEET})
        self._disperse_sheets(alloc)
        # capacity under construction at start: the steady state of the time-to-build rule; where the
        # status quo ([policy]) bans new capacity or asks for a replacement ratio, the projects in
        # the pipeline are the compliant ones, capacity retired over the ratio (they go on: only a
        # rule that starts during the run halts projects, regulators.IndustryRegulator)
        lag = self.lag[sector]
        ratio = self.status_quo_replacement_ratio()
        flow = np.where(ratio > 0, self.dep_month / np.where(ratio > 0, ratio, 1.0),
                        np.maximum(self.dep_month + self.growth / 12.0, 0.0))[sector]
        F.pipeline[sl] = np.where(lag > 0, F.capacity[sl] * flow * lag, 0.0)
        F.pipeline_cost[sl] = F.pipeline[sl] * (self.cap_output * 12.0 * self.util_target)[sector]
        self.sme_threshold = b.sme_revenue_threshold / 12.0
        F.sme[sl] = F.capacity[sl] < self.sme_threshold
        # banks and loan rates are set by the banking system (BankingSystem, _init_loan_rates)
        # sector state
        self.price_index = np.ones(N_S)
        self.out_prev = self.rev_month.copy()  # economy-wide real output last month
        self.vat_factor = np.ones(N_S)
        self.vat_blend = np.ones(N_S)
        self.final_share = self.final0 / self.rev_month
        self.util_smooth = self.util_target.copy()
        self.invest_prev = self.invest0
        self.cycle = np.zeros(N_S)
        self.support = np.ones(N_S)
        self.quota_pool = np.zeros(N_S)
        self._harmonic0 = None
        self.income_smooth = None
        self.income0 = None
        self.tax_smooth = None
        self.tax0 = None
        self.margin_smooth = self.margin0.copy()
        self.wedge_level = np.zeros(N_S)  # the sectors' average cost wedge, which prices pass on
        self.ptax0 = None
        self.entry_max = np.maximum(4, np.ceil(0.02 * alloc)).astype(np.int64)
        self._totals = np.zeros((N_S, 3))
        self._totals_ok = False

    def status_quo_replacement_ratio(self) -> np.ndarray:
        """Retired capacity needed per unit built, by sector, under [policy] (0: no rule; a ban
        without a ratio needs one for one)."""
        quo = PolicySchedule(self.sc).values  # [policy], expanded by sector as the regulators read it
        return retired_per_unit_built(quo["replacement_ratio"], quo["ban_new_capacity"])

    def _init_loan_rates(self) -> None:
        """Loans at start carry the rate a bank would quote today (policy rate, margin, SME premium,
        expected loss)."""
        F, c, p = self.firms, self.sc.banking, self.policy
        a = F.alive
        F.profit[a] = (self.margin0 * self.rev_month / np.maximum(self.rev_month, 1))[F.sector[a]] * F.revenue[a] - (
            F.cost_wedge[a] * F.output[a])
        self._scores()
        rate = p.policy_rate + self.banking.banks.margin[F.bank] + np.where(F.sme, c.sme_premium, 0.0) + (
            F.pd * c.loss_given_default)
        F.loan_rate[a] = rate[a]
        # the last year's profit as the opening sheets imply it (before tax): the sector's margin, less the
        # firm's cost wedge and its interest beyond the sector's average share of revenue
        ps = [self.sc.sectors[s] for s in SECTORS]
        interest0 = np.array([interest_share(q, self.b) for q in ps])[F.sector[a]] * F.revenue[a]
        F.profit_year[a] = 12.0 * (F.profit[a] + interest0 - F.loans[a] * F.loan_rate[a] / 12.0)

    def _scores(self) -> None:
        cr.credit_scores(self.firms.bundle(), cr.score_params(self.sc.banking, self.policy))

    def _balance_sheets(self, s: np.ndarray, revenue_year: np.ndarray, out: dict[str, np.ndarray]) -> None:
        """Opening balance sheets of firms in sectors `s` with yearly revenue `revenue_year`, written
        into out[name] for the names in SHEET (views of the firm arrays at set-up, so that no
        temporaries the size of the economy pile up; fresh arrays for entrants)."""
        b = self.b
        out["capital"][:] = self.cap_output[s] * revenue_year
        out["cash"][:] = CASH_TO_REVENUE * revenue_year
        out["other_assets"][:] = OTHER_ASSETS_TO_REVENUE * revenue_year
        assets = out["capital"] + out["cash"] + out["other_assets"]
        out["loans"][:] = b.debt_to_assets * b.interest_bearing_share * assets
        out["other_liab"][:] = b.debt_to_assets * (1 - b.interest_bearing_share) * assets
        out["net_worth"][:] = assets - out["loans"] - out["other_liab"]

    def _disperse_sheets(self, alloc: np.ndarray) -> None:
        """Issue 20, part 1: opening balance sheets spread around the sector's (MODEL.md, Distress).

        Each firm's liabilities-to-assets ratio is logit-normal around its sector's, shifted up for
        state-owned and (optionally) large firms; its deposits carry a log-normal multiplier. Both are
        then scaled within the sector so that the sector's totals of deposits, loans, other
        liabilities and hence equity are those of `_balance_sheets` (the closed economy's opening
        balance sheet and the calibrated aggregates do not move; only the spread does). Loans and
        other liabilities keep the sector's split. The firm's opening ratio is also its own target
        (`leverage_target`), which it borrows back towards at its credit reviews: its financial
        structure persists, as firm leverage does in the data (Lemmon, Roberts and Zender, JF 2008).
        The firm's own cost wedge (profitability, part of the same issue) is drawn here too: Laplace
        with scale `cost_wedge_scale`, thinned to the survivors' distribution (`_survivors_history`),
        capacity-weighted mean zero in each sector, so sector costs at start are unchanged.
        Draws: the "sheets" stream, three numbers a firm, whatever the settings (common random
        numbers); the survivors' history draws from its own stream."""
        F, b = self.firms, self.b
        n = int(alloc.sum())
        sl = slice(0, n)
        g = self.streams["sheets"]
        z = g.standard_normal((2, n))
        u = g.random(n)
        large = F.capacity[sl] >= b.sme_revenue_threshold / 12.0
        shift = np.where(F.soe[sl], b.soe_leverage_shift, 0.0) + np.where(large, b.large_leverage_shift, 0.0)
        ratio = leverage_ratio(b, shift, z[0])
        cash_mult = np.exp(b.liquidity_dispersion * z[1])
        wedge = laplace_quantiles(u, b.cost_wedge_scale)
        loss_months = self._survivors_history(wedge, n)
        ends = np.cumsum(alloc)
        for s in range(N_S):  # sector by sector (ten slices, not a loop over firms)
            m = slice(int(ends[s] - alloc[s]), int(ends[s]))
            cash = F.cash[m]
            cash[:] = cash * cash_mult[m] * (cash.sum() / np.dot(cash, cash_mult[m]))
            assets = F.capital[m] + cash + F.other_assets[m]
            owed = assets * ratio[m]
            for name in ("loans", "other_liab"):
                x = getattr(F, name)[m]
                x[:] = owed * (x.sum() / owed.sum())
            F.net_worth[m] = assets - F.loans[m] - F.other_liab[m]
            F.leverage_target[m] = (F.loans[m] + F.other_liab[m]) / assets
            cap = F.capacity[m]
            F.cost_wedge[m] = wedge[m] - np.dot(cap, wedge[m]) / cap.sum()
        F.loss_months[sl] = loss_months

    def _survivors_history(self, wedge: np.ndarray, n: int) -> np.ndarray:
        """The opening firms are the survivors of a process that has run for years, not firms just
        drawn: a firm whose cost wedge makes it lose money has been losing since its last cost shock,
        a time tau ~ Exponential(`cost_shock_prob`), and is still here only if tau is below
        `loss_months_exit` (else it would have left). So a loss-making wedge is kept with the
        probability that its tau falls below the exit threshold, and redrawn otherwise (rejection
        sampling of the stationary distribution of wedges among incumbents, in which loss-making
        wedges are 1 - exp(-h T) as frequent as among draws: 0.63 at the defaults); the survivor
        starts with tau months of losses behind it, so the opening loss-makers' exits are spread out
        instead of all falling in month `loss_months_exit`. Loss-making: the wedge per unit of output
        exceeds the sector's margin at the opening price. `wedge` is redrawn in place (firm i's
        candidates come from the "sheets_history" stream, two uniforms a round). Returns the opening
        loss months."""
        F, b = self.firms, self.b
        h, T = b.cost_shock_prob, b.loss_months_exit
        months = np.zeros(n, dtype=np.int32)
        if b.cost_wedge_scale <= 0 or h <= 0:
            return months
        g = self.streams["sheets_history"]
        edge = self.margin0[F.sector[:n]] * F.price[:n]
        todo = np.flatnonzero(wedge > edge)
        for _ in range(64):  # a round keeps about 0.63 of the loss-makers and redraws the rest
            if todo.size == 0:
                break
            v = g.random((2, todo.size))
            tau = -np.log1p(-v[0]) / h
            keep = tau < T
            months[todo[keep]] = tau[keep].astype(np.int32)
            todo = todo[~keep]
            wedge[todo] = laplace_quantiles(v[1][~keep], b.cost_wedge_scale)
            todo = todo[wedge[todo] > edge[todo]]
        return months

    def _predraw(self) -> None:
        """Draws whose shape depends only on the run size: made once, shared across scenarios."""
        g = self.streams["demand"]
        self.shocks = g.standard_normal((self.months, N_S + 1))
        g = self.streams["innovation"]
        self.frontier_shocks = g.standard_normal((self.months, 2, N_S))


def leverage_ratio(b, shift, z):
    """A firm's liabilities-to-assets ratio: logit-normal around `debt_to_assets`, logit sd
    `leverage_dispersion` (standard normal z), shifted by `shift` (state-owned, large firms): the
    opening spread (`_disperse_sheets`) and entrants' targets (`_entry`)."""
    d0 = b.debt_to_assets
    return 1.0 / (1.0 + np.exp(-(math.log(d0 / (1.0 - d0)) + shift + b.leverage_dispersion * z)))
