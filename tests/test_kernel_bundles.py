"""Kernels that take the state as bundles (issue 18): every write of a parallel kernel lands in the
model's arrays, over several chunks of rows, and a bundle follows the arrays when the rows grow.

numba 0.68 silently drops a write through a named tuple's attribute inside a `prange` loop
(`firms.cash[i] = x`); a kernel binds the arrays it writes to locals before the loop. Each test
here runs a parallel kernel on more than 2^16 rows (several chunks, so several threads' share of
the loop) and compares every array it writes with the kernel's own Python code (`py_func`: the
same statements, the chunks in turn, no numba) on a copy of the same state: a lost write leaves
the old value (or the NaN put there first) and fails.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim._numba import chunks
from sim.api import make_model
from sim.kernels import exit_entry as xe
from sim.kernels import exposure as ex
from sim.kernels import investment as inv
from sim.state import (
    BANK_FIELDS,
    FIRM_FIELDS,
    SECTOR_FIELDS,
    Banks,
    Firms,
    FirmState,
    SectorTables,
    TypedBundle,
    sector_tables,
)

from .conftest import ROOT, SCENARIOS

N_ROWS = (1 << 16) + 4_321  # above 2^16 rows: 8 chunks
N_S = 10


def _random_firms(seed: int) -> Firms:
    """Firm rows that take every branch of the investment kernels."""
    g = np.random.default_rng(seed)
    n = N_ROWS
    F = Firms(n)
    F.alive[:] = g.random(n) < 0.9
    F.sector[:] = g.integers(0, N_S, n)
    for name in ("orders", "expected", "capacity", "productivity", "energy_intensity", "capital", "other_assets",
                 "loans", "other_liab", "pipeline_cost", "upgrade_productivity", "upgrade_energy"):
        getattr(F, name)[:] = g.random(n) + 0.5
    F.pipeline[:] = np.where(g.random(n) < 0.5, g.random(n) * 0.2, 0.0)
    F.cash[:] = g.normal(0.3, 0.5, n)  # some short of funds, some broke
    F.upgrade_left[:] = np.where(g.random(n) < 0.3, g.integers(1, 4, n), 0)
    F.plan_expansion[:] = g.random(n) * 0.2
    F.plan_upgrade[:] = np.where(g.random(n) < 0.3, g.random(n) * 0.5, 0.0)
    F.age[:] = g.integers(0, 100, n)
    for name in ("net_worth", "plan_expansion", "plan_upgrade"):  # written by a kernel: a lost write stays NaN
        getattr(F, name)[~F.alive] = np.nan
    F.net_worth[:] = np.nan
    return F


def _copy(F: Firms) -> Firms:
    G = Firms(F.n_rows)
    for name in FIRM_FIELDS:
        getattr(G, name)[:] = getattr(F, name)
    return G


def _sectors() -> SectorTables:
    return SectorTables(util_target=np.linspace(0.7, 0.85, N_S), util_normal=np.full(N_S, 0.766),
                        growth=np.linspace(-0.02, 0.1, N_S), growth_expected=np.linspace(0.0, 0.08, N_S),
                        dep_month=np.linspace(0.004, 0.01, N_S), lag=np.array([0, 1, 2, 6, 12] * 2, dtype=np.int64),
                        frontier_a=np.linspace(0.9, 1.4, N_S), frontier_ei=np.linspace(0.7, 1.1, N_S),
                        weight=np.linspace(1.0, 3.0, N_S))


def _prices() -> inv.InvestmentPrices:
    return inv.InvestmentPrices(capital_per_capacity=np.linspace(2.0, 6.0, N_S), subsidy=np.linspace(0.0, 0.3, N_S))


def _python_chunks(monkeypatch) -> None:
    """For the kernels' own Python code (`kernel.py_func`), after the compiled kernel ran: the row
    helpers in plain Python too (a compiled `rows_of` returns a range numba cannot hand to Python)."""
    from sim import _numba

    for module in (inv, xe):
        monkeypatch.setattr(module, "chunks", _numba.chunks.py_func)
        monkeypatch.setattr(module, "rows_of", _numba.rows_of.py_func)


def _assert_same(got: Firms, want: Firms, names) -> None:
    """Same values (to rounding: numba's and numpy's log and exp may differ in the last bit)."""
    for name in names:
        a, b = getattr(got, name), getattr(want, name)
        assert not np.isnan(a).any(), name
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=0, err_msg=name)


def test_plan_investment_writes_every_row_in_every_chunk(monkeypatch):
    assert chunks(N_ROWS)[0] == 8
    F = _random_firms(1)
    G = _copy(F)
    u = np.random.default_rng(2).random(N_ROWS)
    va_cost, energy_cost = np.linspace(0.3, 0.6, N_S), np.linspace(0.05, 0.2, N_S)
    params = inv.PlanParams(expectation_speed=0.15, investment_adjustment=0.05, max_expansion=0.1,
                            upgrade_review_prob=0.5, upgrade_cost_fixed=0.01, upgrade_cost_per_gap=0.2, annuity=80.0)
    got, want = np.full(N_S, np.nan), np.full(N_S, np.nan)
    inv.plan_investment(F.bundle(), _sectors(), _prices(), params, va_cost, energy_cost, u, got)
    _python_chunks(monkeypatch)
    inv.plan_investment.py_func(G.bundle(), _sectors(), _prices(), params, va_cost, energy_cost, u, want)
    assert (G.plan_upgrade > 0).sum() > 1000 and (G.plan_expansion > 0).sum() > 1000  # the branches are taken
    _assert_same(F, G, ("expected", "plan_expansion", "plan_upgrade"))
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("upgrade_lag", [0, 3])
def test_execute_investment_writes_every_row_in_every_chunk(monkeypatch, upgrade_lag):
    F = _random_firms(3)
    G = _copy(F)
    u = np.random.default_rng(4).random(N_ROWS)
    factor = np.linspace(0.0, 1.0, N_S)
    params = inv.ExecuteParams(upgrade_lag=upgrade_lag, imitation_prob=0.5, imitation_speed=0.05)
    got, want = np.full((N_S, inv.N_INVEST), np.nan), np.full((N_S, inv.N_INVEST), np.nan)
    d_got = inv.execute_investment(F.bundle(), _sectors(), _prices(), params, factor, u, got)
    _python_chunks(monkeypatch)
    d_want = inv.execute_investment.py_func(G.bundle(), _sectors(), _prices(), params, factor, u, want)
    assert want[:, inv.V_UPGRADES].sum() > 1000 and want[:, inv.V_GRANTED].sum() > 0
    _assert_same(F, G, ("cash", "capital", "capacity", "pipeline", "pipeline_cost", "upgrade_left",
                        "upgrade_productivity", "upgrade_energy", "productivity", "energy_intensity", "age",
                        "net_worth"))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert d_got == pytest.approx(d_want, rel=1e-12)


def test_exits_write_every_row_in_every_chunk(monkeypatch):
    """The decisions in parallel, the closures after in row order: every array either writes is the
    same as in the kernel's Python code, to the bit (no log or exp here)."""
    F = _random_firms(5)
    g = np.random.default_rng(6)
    F.net_worth[:] = g.normal(10.0, 4.0, N_ROWS)
    F.loss_months[:] = g.integers(0, 14, N_ROWS)
    F.share[:] = g.random(N_ROWS) * 1e-4
    F.bank[:] = g.integers(0, 50, N_ROWS)
    F.guaranteed[:] = F.loans * g.random(N_ROWS)
    F.court[:] = np.where(F.alive, 0, g.integers(0, 5, N_ROWS))  # estates in court, some liquidated now
    B = Banks(50)
    B.loans[:] = 1e6
    G, C = _copy(F), Banks(50)
    for name in BANK_FIELDS:
        getattr(C, name)[:] = getattr(B, name)
    params = xe.ExitParams(loss_months_exit=12, recovery_rate=0.5, other_assets_recovery=0.6, court_months=3,
                           court_cost=0.22, book_overdrafts=False)
    min_share = np.full(N_S, 2e-6)
    out = [(np.zeros(50), np.full((N_S, xe.N_EXIT), np.nan), np.full((N_S, 3), np.nan)) for _ in range(2)]
    parts = _parts(F, g)  # some rows borrow from several banks
    got = xe.exits(F.bundle(), B.bundle(), _sectors(), params, min_share, xe.ExitBooks(*out[0], parts))
    _python_chunks(monkeypatch)
    want = xe.exits.py_func(G.bundle(), C.bundle(), _sectors(), params, min_share, xe.ExitBooks(*out[1], parts))
    assert want[0] == got[0] and want[1] == got[1]
    assert (G.exit_reason == 1).sum() > 1000 and (G.exit_reason == 3).sum() > 1000
    assert (G.court == 1).sum() > 1000 and out[1][1][:, xe.X_SETTLED].sum() > 100
    for name in ("alive", "exit_reason", "cash", "capital", "loans", "guaranteed", "capacity", "pipeline",
                 "pipeline_cost", "share", "court", "other_assets", "other_liab"):
        np.testing.assert_array_equal(getattr(F, name), getattr(G, name), err_msg=name)
    np.testing.assert_array_equal(B.loans, C.loans)
    for a, b in zip(out[0], out[1], strict=True):
        np.testing.assert_array_equal(a, b)


def _parts(F: Firms, g) -> ex.Parts:
    """Every tenth row borrows a third of its loan from a second bank and a tenth from a third."""
    rows = np.repeat(np.arange(0, F.n_rows, 10), 2)
    n_b = int(F.bank.max()) + 1
    bank = (F.bank[rows] + np.tile([1, 2], rows.size // 2)) % n_b
    return ex.Parts(rows.astype(np.int64), bank.astype(np.int64), np.tile([1 / 3, 0.1], rows.size // 2))


def test_bundle_holds_the_arrays_and_follows_them_when_rows_grow():
    F = Firms(10)
    b = F.bundle()
    assert isinstance(b, TypedBundle) and b._named is FirmState and b._fields == tuple(FIRM_FIELDS) and F.bundle() is b
    assert all(getattr(b, name) is getattr(F, name) for name in FIRM_FIELDS)
    F.grow(5)
    c = F.bundle()
    assert c is not b and c.cash.shape == (15,)
    assert all(getattr(c, name) is getattr(F, name) for name in FIRM_FIELDS)
    assert tuple(SectorTables._fields) == tuple(SECTOR_FIELDS)


def test_a_typed_bundle_calls_the_kernels_compiled_for_its_named_tuple():
    """A bundle carries the numba type of the named tuple of its arrays (`state.TypedBundle`): a
    kernel compiled for it has the named tuple's signature and reads its fields by name, and
    pickling or copying it gives a bundle of the copied arrays with the same type."""
    import copy
    import pickle

    import numba

    F = Firms(12)
    F.cash[:] = np.arange(12.0)
    b = F.bundle()
    assert b._numba_type_ == numba.typeof(FirmState(*b))

    @numba.njit
    def cash_total(firms):
        return firms.cash.sum()

    assert cash_total(b) == 66.0 and cash_total(FirmState(*b)) == 66.0
    assert len(cash_total.signatures) == 1  # the bundle and the named tuple: one signature
    for c in (copy.deepcopy(b), pickle.loads(pickle.dumps(b))):
        assert type(c) is type(b) and c._numba_type_ == b._numba_type_ and c.cash is not b.cash
        assert np.array_equal(c.cash, b.cash) and cash_total(c) == 66.0


def test_kernels_write_the_grown_arrays_after_the_rows_grow():
    """A stale bundle would write into the arrays the rows had before they grew."""
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=600, months=3)
    model = make_model(sc, "numba")
    model.step()
    before = model.firms.bundle()
    model.grow_rows(200)
    F = model.firms
    assert F.bundle() is not before and F.bundle().net_worth is F.net_worth
    F.net_worth[:] = np.nan
    prices = inv.InvestmentPrices(capital_per_capacity=np.ones(N_S), subsidy=np.zeros(N_S))
    model.execute_investment(np.zeros(N_S), prices, np.ones(F.n_rows))  # writes every row's net worth
    assert not np.isnan(F.net_worth).any()
    assert before.net_worth.shape[0] == F.n_rows - 200
    assert isinstance(sector_tables(model), SectorTables)


def test_phases_are_plain_functions_of_the_state_they_are_given():
    """Issue 18: a phase says in its signature what it reads and writes. No module of sim/phases
    imports the model, no function there takes it (or a `self` outside a small class of its own), no
    class there is a mixin; and no kernel takes more than about eight arguments (the test-only
    `allocate_credit` nine)."""
    import ast

    phases = sorted((ROOT / "sim" / "phases").glob("*.py"))
    assert len(phases) >= 8
    for path in phases:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").endswith("model"), (path.name, node.module)
            if isinstance(node, ast.ClassDef):
                assert not node.bases or all(getattr(b, "id", "") == "NamedTuple" for b in node.bases), node.name
                assert "Mixin" not in node.name
            if isinstance(node, ast.FunctionDef):
                names = [a.arg for a in node.args.args]
                assert "model" not in names and "m" not in names, (path.name, node.name)
        top = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        methods = {f.name for c in tree.body if isinstance(c, ast.ClassDef) for f in c.body
                   if isinstance(f, ast.FunctionDef)}
        assert all(ast.unparse(f).count("self.") == 0 for f in ast.walk(tree)
                   if isinstance(f, ast.FunctionDef) and f.name in top - methods), path.name
    for path in sorted((ROOT / "sim" / "kernels").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                assert len(node.args.args) <= (9 if node.name == "allocate_credit" else 8), (path.name, node.name)
