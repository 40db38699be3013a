"""Entry (MODEL.md step 10): Poisson numbers of entrants by sector, rows for them (exited firms'
rows first; the rows grow when none is free), and their start-up state."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .._memory import release_freed_memory
from ..kernels import accounting as acc
from ..kernels import sums
from ..kernels.shocks import laplace_quantiles
from ..rng import fill_uniforms
from ..scenario.schema import SECTORS
from .setup import SHEET, leverage_ratio

N_S = len(SECTORS)


class EntryMixin:
    def free_rows(self, total: int) -> np.ndarray:
        """Up to `total` rows for entrants: rows of exited firms first, then rows never used (a row
        keeps a firm's data until an entrant takes it; `firm_id` tells firms apart in panels)."""
        F = self.firms
        out = np.empty(total, dtype=np.int64)
        k = sums.free_rows(F.alive, F.exit_reason, F.court, total, out)
        return out[:k]

    def grow_rows(self, extra: int) -> None:
        """Add `extra` empty firm rows: the firm arrays, their per-row draws and the per-row scratch
        arrays grow together (scratch keeps this month's values: the records still read them)."""
        self.firms.grow(extra)
        self.scratch.grow(extra)
        self._draw_pool.grow(self.firms.n_rows, host=self.scratch.repaid)  # the pool lives in `repaid`
        for d in self._draws.values():
            d.grow(extra)
        self.rows_added += extra
        release_freed_memory()  # the old arrays' pages

    def _entry(self, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """New firms: Poisson numbers by sector (inverse CDF of a fixed uniform, so every scenario
        consumes the same draws), private SMEs drawn behind the frontier, funded half by equity and
        half by a loan, with a cost wedge and a leverage target drawn as incumbents' are."""
        F, b, p = self.firms, self.b, self.policy
        self.entered_rows = np.zeros(0, dtype=np.int64)
        g = self.streams["entry"]
        u_n = g.random(N_S)
        m = int(self.entry_max.max())
        u = np.empty((N_S, m, 3))
        fill_uniforms(g, u)  # g.random((N_S, m, 3)), in parallel
        z = g.standard_normal((N_S, m))
        # the entrant's own cost wedge and leverage target, from the distributions incumbents' are
        # drawn from (set-up and lumpy cost shocks): entrants are not average firms
        z_lev = g.standard_normal((N_S, m))
        u_wedge = g.random((N_S, m))
        margin = self._income[:, acc.I_PROFIT] / np.maximum(self._income[:, acc.I_REVENUE], 1e-12)
        self.margin_smooth += b.signal_smoothing * (margin - self.margin_smooth)
        # the pool of would-be entrants scales with the sector's 2019 population, not with the firms
        # alive now: with exits proportional to the firms alive, the number of firms is stationary
        lam = (self.n_alloc * self.entry_rate / 12.0
               * np.exp(b.entry_profit_response * (self.margin_smooth - self.margin0))
               * (1 - p.entry_barrier) / 0.5)
        lam = np.where(p.ban_new_capacity > 0, 0.0, lam)
        counts = np.minimum(poisson_ppf(u_n, lam), self.entry_max).astype(np.int64)
        counts[lam <= 0] = 0
        entries = np.zeros(N_S)
        entry_cap = np.zeros(N_S)
        total = int(counts.sum())
        if total == 0:
            return entries, entry_cap, 0.0
        free = self.free_rows(total)
        if free.size < total:
            # more entrants than free rows: add a block of rows (at least 5% of the rows)
            self.grow_rows(max(total - free.size, int(math.ceil(0.05 * self.firms.n_rows))))
            free = self.free_rows(total)
        rows = free[:total]
        cap_now = self.sector_capacity()  # after exits: what entrants under a cap must fit beside
        pi = self.investment_price()
        bk = self.banking
        # all entrants at once, sector after sector: the j-th entrant of sector s takes row
        # free[start_s + j] and the draws u[s, j], z[s, j] (each value as a loop over sectors
        # would compute it; only the sums below go sector by sector)
        start = np.concatenate(([0], np.cumsum(counts)))
        sec = np.repeat(np.arange(N_S), counts)
        j = np.arange(total) - start[sec]
        us, zs = u[sec, j], z[sec, j]
        wedge = laplace_quantiles(u_wedge[sec, j], b.cost_wedge_scale)
        lev_target = leverage_ratio(b, 0.0, z_lev[sec, j])  # private SMEs: no shift
        cap = b.entrant_size * self.median_capacity[sec] * np.exp(0.5 * zs)
        for s in np.flatnonzero((counts > 0) & (p.capacity_cap > 0)):  # entrants, too, stay under a cap
            sl = slice(start[s], start[s + 1])
            room = max(self._cap_limit[s] - cap_now[s], 0.0) / self.weight[s]
            cap[sl] = cap[sl] * min(1.0, room / max(cap[sl].copy().sum(), 1e-12))
        gap = b.entrant_gap_min + (b.entrant_gap_max - b.entrant_gap_min) * us[:, 0]
        prod_ = self.frontier_a[sec] * np.exp(-gap)
        ei = self.frontier_ei[sec] * np.exp(gap * us[:, 1] * 2.0)
        q = cap * self.util_target[sec]
        share = q / np.maximum(demand / self.weight, 1e-12)[sec]
        base = self.price_index / self.vat_blend
        inputs = np.array([self.io[:, s] @ base for s in range(N_S)])  # input cost per unit of output
        unit_cost = ((self.labour + self.services)[sec] / prod_ + self.energy_share[sec] * ei + inputs[sec]
                     + self.materials[sec] + self.wedge_level[sec])
        sheet = {name: np.empty(total) for name in SHEET}
        self._balance_sheets(sec, 12.0 * q, sheet)
        sheet["capital"] *= pi
        sheet["loans"] = 0.5 * sheet["capital"]
        sheet["net_worth"] = sheet["cash"] + sheet["capital"] + sheet["other_assets"] - sheet["loans"] - (
            sheet["other_liab"])
        banks = np.minimum(np.searchsorted(bk.size_cdf, us[:, 2], side="right"), bk.banks.n_rows - 1)
        banks = np.where(bk.banks.alive[banks], banks, int(np.argmax(bk.banks.alive)))
        # the drawn bank lends within its large-exposure limit, the banks with most capital the rest
        banks = bk.place_entrants(rows, banks, self.weight[sec], sheet["loans"])
        # the entrants' rows, every field at once: private (not SOE) SMEs of age 0 with their own cost
        # wedge and leverage target; no pipeline,
        # upgrade, output, unfilled orders, revenue, profit, losses, exit reason or guaranteed loans
        F.set_rows(rows, dict(
            alive=True, sme=True, firm_id=np.arange(self.next_firm_id, self.next_firm_id + total), sector=sec,
            capacity=cap, productivity=prod_, energy_intensity=ei, share=share, share_prev=share, orders=q,
            expected=q, markup=self.markup0[sec], price=(1 + self.markup0)[sec] * unit_cost * self.vat_blend[sec],
            bank=banks, cost_wedge=wedge, leverage_target=lev_target,
            loan_rate=(p.policy_rate + bk.banks.margin[banks] + self.sc.banking.sme_premium
                       + 0.02 * self.sc.banking.loss_given_default), **sheet))
        self.next_firm_id += total
        entry_cash = 0.0
        for s in np.flatnonzero(counts):
            sl = slice(start[s], start[s + 1])
            entry_cash += float(self.weight[s] * sheet["cash"][sl].sum())
            entries[s] = counts[s]
            entry_cap[s] = cap[sl].copy().sum()  # a fresh array, summed as a per-sector one was
        self.invalidate_totals()
        self.entered_rows = rows
        return entries * self.weight, entry_cap * self.weight, entry_cash


def poisson_ppf(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The Poisson quantile function, as scipy.stats.poisson.ppf computes it (scipy.special's
    pdtrik and pdtr), without importing scipy.stats (a third of a second at start-up)."""
    u = np.asarray(u, dtype=float)
    lam = np.asarray(lam, dtype=float)
    with np.errstate(invalid="ignore"):
        vals = np.ceil(special.pdtrik(u, lam))
        vals1 = np.maximum(vals - 1, 0)
        q = np.where(special.pdtr(vals1, lam) >= u, vals1, vals)
    q = np.where(u == 0, -1.0, q)
    q = np.where(u == 1, np.inf, q)
    return np.where((lam >= 0) & (u >= 0) & (u <= 1), q, np.nan)
