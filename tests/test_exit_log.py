"""The exit step's leaving rows (kernels.exit_entry.exit_books, kernels.exit_log): their own work runs in
parallel and their additions to the shared sums are made afterwards in row order, so the results are
the same bits on one thread and on two, and every leaving row is booked once, by its kind."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from sim.kernels import exit_entry as xe
from sim.kernels import exposure as ex
from sim.state import EXIT_BANKRUPTCY, SECTOR_FIELDS, Banks, Firms, SectorTables

N_S, N_B, N = 4, 5, 4000
PARAMS = xe.ExitParams(loss_months_exit=12, recovery_rate=0.15, other_assets_recovery=0.3, court_months=20,
                       court_cost=0.22, book_overdrafts=True, evergreening=True, evergreen_prob=0.5,
                       evergreen_soe_factor=1.5, evergreen_thin_capital=0.5, min_capital_ratio=0.105,
                       capital_buffer=0.02, soft_budget=True, soft_budget_limit=0.05)


def _state(seed=0):
    """N rows of every kind: live firms that stay, insolvent ones (state-owned or not, some kept by a
    soft budget or a rollover), loss-makers that close solvently or default, estates in court that are
    liquidated this month and estates that stay; a third of the loans shared with a second bank."""
    rng = np.random.default_rng(seed)
    F, B = Firms(N), Banks(N_B)
    kind = rng.integers(0, 5, N)  # 0 stays, 1 insolvent, 2 loss-maker, 3 estate liquidated, 4 estate stays
    F.alive[:] = kind < 3
    F.court[:] = np.where(kind == 3, 20, np.where(kind == 4, 5, 0))
    F.sector[:] = rng.integers(0, N_S, N)
    F.bank[:] = rng.integers(0, N_B, N)
    F.soe[:] = rng.random(N) < 0.3
    F.sme[:] = rng.random(N) < 0.6
    F.share[:] = 0.01
    F.loans[:] = rng.uniform(0, 100, N) * (rng.random(N) < 0.9)
    F.capital[:] = rng.uniform(10, 100, N)
    F.other_assets[:] = rng.uniform(0, 50, N)
    F.other_liab[:] = rng.uniform(0, 20, N)
    F.revenue[:] = rng.uniform(1, 100, N)
    F.capacity[:] = rng.uniform(1, 10, N)
    F.pipeline[:] = rng.uniform(0, 2, N)
    F.guaranteed[:] = F.loans * rng.uniform(0, 0.5, N)
    F.age[:] = rng.integers(0, 300, N)
    F.weak_months[:] = rng.integers(0, 40, N)
    F.profit_year[:] = rng.normal(0, 10, N)
    F.cash[:] = np.where(kind == 1, rng.uniform(-20, 5, N), rng.uniform(0, 30, N))
    F.net_worth[:] = np.where(kind == 1, rng.uniform(-30, 10, N), rng.uniform(1, 50, N))
    F.loss_months[:] = np.where(kind == 2, 12, 0)
    F.cash[(kind == 1) & (F.net_worth >= 0)] = -1.0  # insolvent: negative deposits or equity
    B.alive[:] = True
    B.capital_ratio[:] = rng.uniform(0.1, 0.15, N_B)
    B.loans[:] = np.bincount(F.bank, weights=F.loans, minlength=N_B)
    rows = np.arange(0, N, 3)
    parts = ex.Parts(rows.astype(np.int64), ((F.bank[rows] + 1) % N_B).astype(np.int64), np.full(rows.size, 0.3))
    sectors = SectorTables(*(np.zeros(N_S) for _ in SECTOR_FIELDS))._replace(weight=np.linspace(1.0, 2.0, N_S))
    return F, B, parts, sectors, rng.random(N)


def _books(threads):
    """The exit step on a fresh copy of the state with this many threads: every array it writes."""
    F, B, parts, sectors, u = _state()
    books = xe.ExitBooks(np.zeros(N_B), np.zeros((N_S, xe.N_EXIT)), np.zeros((N_S, 3)), parts)
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        decided = xe.exit_decisions(F.bundle(), B.bundle(), sectors, PARAMS, np.zeros(N_S), N_S)
        deposits, gap = xe.exit_books(decided, u[:decided[0].shape[0]], F.bundle(), B.bundle(), sectors, PARAMS, books)
    finally:
        numba.set_num_threads(before)
    out = {f"firms.{k}": v for k, v in zip(F.bundle()._fields, F.bundle(), strict=True) if isinstance(v, np.ndarray)}
    out.update({"bank_loans": B.loans, "writeoff": books.writeoff, "table": books.table, "totals": books.totals,
                "deposits": np.array(deposits), "gap": np.array(gap), "leaving": decided[0]})
    return out


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two threads")
def test_exit_books_gives_the_same_bits_on_one_thread_and_two():
    one, two = _books(1), _books(2)
    assert one["leaving"].size > 1000
    for name in one:
        assert one[name].tobytes() == two[name].tobytes(), name


def test_every_leaving_row_is_booked_once_by_its_kind():
    F, B, parts, sectors, u = _state()
    alive0, court0 = F.alive.copy(), F.court.copy()
    out = _books(1)
    t = out["table"].sum(axis=0)
    settled = (~alive0) & (court0 == 20)
    assert t[xe.X_SETTLED] == settled.sum() > 0
    rescued = t[xe.X_SUPPORTED] + t[xe.X_EVERGREENED]
    assert t[xe.X_SUPPORTED] > 0 and t[xe.X_EVERGREENED] > 0 and t[xe.X_BANKRUPT] > 0 and t[xe.X_VOLUNTARY] > 0
    assert t[xe.X_BANKRUPT] + t[xe.X_VOLUNTARY] + rescued + t[xe.X_SETTLED] == out["leaving"].size
    assert t[xe.X_BANKRUPT_SME] + t[xe.X_BANKRUPT_LARGE] == t[xe.X_BANKRUPT]
    assert t[xe.X_DEFAULT_SME] + t[xe.X_DEFAULT_LARGE] == t[xe.X_BANKRUPT]  # (the loss-makers that default too)
    left = alive0 & ~out["firms.alive"]
    assert np.isclose(t[xe.X_RETIRED], (F.capacity + F.pipeline)[left].sum())
    kept = alive0 & out["firms.alive"] & (out["firms.exit_reason"] == 0)
    assert np.array_equal(out["totals"][:, 0], np.bincount(F.sector[kept], minlength=N_S).astype(float))
    assert (out["firms.exit_reason"][left] > 0).all()
    assert (out["firms.court"][left & (out["firms.exit_reason"] == EXIT_BANKRUPTCY)] == 1).all()
