"""Zombie firms (issue 20 part 4): evergreening, soft budget constraints, the OECD zombie definition and
de-capacity aimed at zombies. Each test fails without its mechanism: without evergreening the insolvent
borrower defaults and its loan turns non-performing; without the soft budget the state-owned firm goes
to court and the government pays nothing; without the counter no firm is ever a zombie; without the
option the forced closure takes backward capacity only."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.kernels import accounting as acc
from sim.kernels import exit_entry as xe
from sim.kernels import exposure as ex
from sim.scenario.banking import Banking
from sim.state import EXIT_FORCED, SECTOR_FIELDS, Banks, Firms, Scratch, SectorTables

from .conftest import run_text, write_scenario

N_S = 10
BASE = xe.ExitParams(loss_months_exit=12, recovery_rate=0.15, other_assets_recovery=0.3, court_months=20,
                     court_cost=0.22, book_overdrafts=True)
EVERGREEN = BASE._replace(evergreening=True, evergreen_prob=0.5, evergreen_soe_factor=1.5,
                          evergreen_thin_capital=0.5, min_capital_ratio=0.105, capital_buffer=0.02)
SOFT = BASE._replace(soft_budget=True, soft_budget_limit=0.05)


def _insolvent_firm(soe=False, capital_ratio=0.2, **values) -> tuple[Firms, Banks]:
    """One live firm at bank 0 with negative equity (-20) and an unfinanced shortfall (deposits -3):
    loans 100, capital 50, receivables and inventories 30, trade credit 0; sales 100 a month."""
    F, B = Firms(1), Banks(1)
    F.alive[0], F.soe[0], F.share[0], F.net_worth[0], F.revenue[0] = True, soe, 0.5, -20.0, 100.0
    F.loans[0], F.capital[0], F.other_assets[0], F.cash[0] = 100.0, 50.0, 30.0, -3.0
    for name, v in values.items():
        getattr(F, name)[0] = v
    B.alive[0], B.loans[0], B.capital_ratio[0] = True, F.loans[0], capital_ratio
    return F, B


def _sectors() -> SectorTables:
    return SectorTables(*(np.zeros(N_S) for _ in SECTOR_FIELDS))._replace(weight=np.ones(N_S))


def _exit_month(F: Firms, B: Banks, params, u: float = 0.0):
    """The model's exit step on these rows, each leaving row's rollover uniform `u`."""
    writeoff, table = np.zeros(1), np.zeros((N_S, xe.N_EXIT))
    decided = xe.exit_decisions(F.bundle(), B.bundle(), _sectors(), params, np.zeros(N_S), N_S)
    _, gap = xe.exit_books(decided, np.full(decided[0].shape[0], u), F.bundle(), B.bundle(), _sectors(), params,
                           xe.ExitBooks(writeoff, table, np.zeros((N_S, 3)), ex.no_parts()))
    return table, gap


def _npl(F: Firms, B: Banks) -> float:
    """The bank's non-performing loans after the month's classification (accounting.month_sums)."""
    flows = acc.BankFlows(*(np.zeros(1) for _ in acc.FLOW_FIELDS))
    out = acc.RecordSums(np.zeros((N_S, acc.N_STOCKS)), np.zeros(2), np.zeros(2), np.zeros((2, 4)), np.zeros(3))
    acc.month_sums(F.bundle(), B.bundle(), Scratch(1).books(), _sectors(), acc.sums_params(Banking(), 1.0), flows,
                   False, out)
    return float(B.npl[0])


def test_an_evergreened_loan_stays_performing_while_the_borrower_is_insolvent():
    """The bank rolls the insolvent borrower over: it lends the shortfall (3), the firm keeps operating
    with negative equity, and for as many months as the bank keeps doing so its loan is performing (no
    NPL). Without evergreening the same firm defaults, and after three months in court its loan is
    substandard (an NPL)."""
    F, B = _insolvent_firm()
    for month in range(6):
        F.cash[0] = -3.0  # another month short of cash (interest and instalment)
        table, gap = _exit_month(F, B, EVERGREEN, u=0.1)
        assert F.alive[0] and F.court[0] == 0 and F.exit_reason[0] == 0 and gap == 0.0
        assert F.net_worth[0] < 0 and F.cash[0] == 0.0
        assert F.loans[0] == B.loans[0] == 100.0 + 3.0 * (month + 1)
        assert table[:, xe.X_EVERGREEN].sum() == 3.0 and table[:, xe.X_EVERGREENED].sum() == 1
        assert table[:, xe.X_DEFAULT_SME].sum() + table[:, xe.X_DEFAULT_LARGE].sum() == 0
        assert _npl(F, B) == 0.0
    F, B = _insolvent_firm()
    table, _ = _exit_month(F, B, BASE, u=0.1)
    assert not F.alive[0] and F.court[0] == 1 and table[:, xe.X_EVERGREEN].sum() == 0.0
    for _ in range(3):
        _exit_month(F, B, BASE)
    assert _npl(F, B) == pytest.approx(100.0)


def test_thin_capital_and_state_ownership_raise_the_rollover_probability():
    """At a well-capitalised bank a private borrower is rolled over with probability 0.5 (a uniform of
    0.6 defaults); at a bank at the minimum capital ratio with 0.75 (Peek and Rosengren 2005), and a
    state-owned borrower with 0.75 at the healthy bank (the SOE factor 1.5)."""
    assert xe.evergreen_probability(False, 0.2, EVERGREEN) == pytest.approx(0.5)
    assert xe.evergreen_probability(False, 0.105, EVERGREEN) == pytest.approx(0.75)
    assert xe.evergreen_probability(False, 0.115, EVERGREEN) == pytest.approx(0.625)
    assert xe.evergreen_probability(True, 0.2, EVERGREEN) == pytest.approx(0.75)
    assert xe.evergreen_probability(True, 0.1, EVERGREEN) == 1.0
    kept = {}
    for case, kw in {"healthy": {}, "thin": {"capital_ratio": 0.105}, "soe": {"soe": True}}.items():
        F, B = _insolvent_firm(**kw)
        _exit_month(F, B, EVERGREEN, u=0.6)
        kept[case] = bool(F.alive[0])
    assert kept == {"healthy": False, "thin": True, "soe": True}


def test_the_soft_budget_keeps_a_state_owned_firm_out_of_court_within_its_limit():
    """The local government pays the state-owned firm what brings its equity back to zero (20, within
    5% of annual sales of 1,200): it stays alive with no new bank loan. A private firm in the same
    state, or the SOE when the transfer needed exceeds the limit, defaults."""
    F, B = _insolvent_firm(soe=True)
    table, gap = _exit_month(F, B, SOFT)
    assert F.alive[0] and F.court[0] == 0 and gap == 0.0
    assert F.net_worth[0] == 0.0 and F.cash[0] == 17.0 and F.loans[0] == 100.0
    assert table[:, xe.X_SUPPORT].sum() == 20.0 and table[:, xe.X_CASH].sum() == 20.0
    assert table[:, xe.X_SUPPORTED].sum() == 1
    F, B = _insolvent_firm(soe=False)
    table, _ = _exit_month(F, B, SOFT)
    assert F.court[0] == 1 and table[:, xe.X_SUPPORT].sum() == 0.0
    F, B = _insolvent_firm(soe=True, revenue=10.0)  # limit 0.05 x 120 = 6 < 20
    table, _ = _exit_month(F, B, SOFT)
    assert F.court[0] == 1 and table[:, xe.X_SUPPORT].sum() == 0.0


@pytest.fixture(scope="module")
def closed_soft(tmp_path_factory):
    """The closed economy with both rescues on (off by default) and a policy-rate shock that puts firms
    in distress."""
    body = ('[economy]\nclosure = "closed"\n[banking]\nevergreening = true\n[policy]\nsoft_budget = true\n'
            '[schedule."2019-03"]\npolicy_rate = 0.15\n')
    return run_text(tmp_path_factory.mktemp("closed_soft"), body, months=18)


def test_the_government_pays_the_soft_budget_and_the_accounts_close(closed_soft):
    """In the closed economy the transfers are a row of the transaction-flow matrix, paid by the
    government and received by the firms, equal to the recorded support; the run's stock-flow checks
    (every month, to 1e-9 of the stocks) pass with the banks' rollovers and the transfers."""
    ds = closed_soft
    row = ds["tfm"].sel(flow="soft_budget_support")
    support = ds["soft_budget_support"]
    assert float(support.sum()) > 0 and float(ds["firms_supported"].sum()) > 0
    assert float(ds["evergreen_credit"].sum()) > 0
    np.testing.assert_allclose(row.sel(institution="government"), -support, rtol=1e-12)
    np.testing.assert_allclose(row.sel(institution="firms"), support, rtol=1e-12)
    assert float(abs(row).sel(institution=["households", "banks", "rest_of_economy"]).sum()) == 0.0
    assert float(ds["sfc_error"].max()) <= 1e-9 * float(ds["credit_total"].max())


def test_without_rescues_the_same_shock_leaves_more_defaults(tmp_path):
    """Switching both rescues off (they are on by default): no rollovers, no transfers, and more firms
    default."""
    body = '[economy]\nclosure = "closed"\n[schedule."2019-03"]\npolicy_rate = 0.15\n'
    on = run_text(tmp_path, body, months=18)
    off = run_text(tmp_path, body + "[banking]\nevergreening = false\n[policy]\nsoft_budget = false\n", months=18)
    assert float(on["evergreen_credit"].sum()) > 0.0 and float(on["soft_budget_support"].sum()) > 0.0
    assert float(off["evergreen_credit"].sum()) == 0.0 and float(off["soft_budget_support"].sum()) == 0.0
    assert float(off["defaults"].sum()) > float(on["defaults"].sum())


def test_the_zombie_flag_follows_the_oecd_definition():
    """Ten years old (120 months) and interest coverage below one (a loss after interest over the
    trailing year, with loans) at 25 consecutive month ends: the month the counter reaches 25 the firm
    is counted a zombie, with its loans; a firm a month younger, one whose trailing year turned
    profitable (the counter restarts) or one without loans is not."""
    cases = {"zombie": {}, "young": {"age": 119}, "profitable": {"profit_year": 1.0}, "no_loans": {"loans": 0.0}}
    for case, kw in cases.items():
        values = {"age": 120, "weak_months": 24, "profit_year": -1.0, "net_worth": 10.0, "cash": 1.0}
        values.update(kw)
        F, B = _insolvent_firm(**values)
        B.loans[0] = F.loans[0]
        table, _ = _exit_month(F, B, BASE)
        assert F.alive[0]
        want = case == "zombie"
        assert table[:, xe.X_ZOMBIES].sum() == (1 if want else 0), case
        assert table[:, xe.X_ZOMBIE_LOANS].sum() == (100.0 if want else 0.0), case
        assert bool(xe.zombie_flags(F.age, F.weak_months)[0]) == want, case
        assert F.weak_months[0] == (25 if case in ("zombie", "young") else 0), case


def test_the_panel_flag_and_the_zombie_share_agree(tmp_path):
    """The firm panel's zombie flag is the definition applied to its age and counter, and the zombie
    share recorded for a month is the panel's zombies of that month over the active firms, by sector."""
    p = write_scenario(tmp_path, 'name = "z"\n')
    ds, panel = sim.run(p, seed=1, firms=3000, months=36, panel=True, panel_every=12)
    last = panel.isel(time=-1)
    alive = last["alive"] == 1
    flag = (last["zombie"] == 1) & alive
    want = (last["age"] >= 120) & (last["interest_coverage_weak_months"] >= 25) & alive
    assert bool((flag == want).all()) and int(flag.sum()) > 0
    w = last["weight"]
    share = ((flag * w).groupby(last["sector"]).sum() / (alive * w).groupby(last["sector"]).sum())
    rec = ds["zombie_share"].isel(time=-1).sel(sector=share["sector"].values)
    np.testing.assert_allclose(rec.values, share.values, rtol=1e-12)


def _decapacity_model(tmp_path, zombies_first: bool):
    body = ('[schedule."2019-01"]\nforced_exit_quota = { steel = 0.05 }\n'
            f"forced_exit_zombies_first = {'true' if zombies_first else 'false'}\n")
    sc = sim.load_scenario(write_scenario(tmp_path, body), firms=3000, months=3)
    m = sim.api.make_model(sc)
    m.step()
    return m


@pytest.mark.parametrize("zombies_first", [True, False])
def test_forced_closure_can_target_zombies_first(tmp_path, zombies_first):
    """With `forced_exit_zombies_first` the quota closes the sector's zombie firms first, backward or
    not (the 2016 programme's 'dispose of zombie enterprises'): two non-backward steel firms made
    zombies are closed and, the quota being larger than their capacity, backward firms after them;
    without it they survive and only backward capacity closes."""
    m = _decapacity_model(tmp_path, zombies_first)
    F = m.firms
    s = 0  # steel
    backward = set(m.backward_candidates(s).tolist())
    rows = [i for i in np.flatnonzero(F.alive & (F.sector == s)) if i not in backward]
    rows = sorted(rows, key=lambda i: F.capacity[i])[:2]
    target = m.policy.forced_exit_quota[s] * m.policy.quota_reference[s] / 12.0 / m.weight[s]
    assert sum(F.capacity[i] for i in rows) < target
    F.age[rows], F.weak_months[rows] = 200, 30
    assert m.capacity_rules.forced_exit(F, m.policy, m.weight)
    closed = [not F.alive[i] and F.exit_reason[i] == EXIT_FORCED for i in rows]
    assert closed == [zombies_first] * 2
    assert any(not F.alive[i] and F.exit_reason[i] == EXIT_FORCED for i in backward)


def test_the_reference_follows_rescues_zombies_and_zombie_closures(tmp_path):
    """The Mesa reference against the engine to 1e-9 with the stress case's rescues, half the firms
    given 24 months of weak interest coverage and ten years of age at the start (so zombies are counted
    from the first months), and forced closure aimed at zombies first."""
    from .conftest import SCENARIOS
    from .test_reference import STRESS, _lockstep

    for f in SCENARIOS.glob("*.toml"):
        (tmp_path / f.name).write_text(f.read_text())
    p = tmp_path / "stress.toml"
    p.write_text('extends = "miit_2019.toml"\nname = "stress"\n'
                 + STRESS.replace("[policy]\n", "[policy]\nforced_exit_zombies_first = true\n"))
    sc = sim.load_scenario(p, firms=400, months=12, seed=4)

    def prepare(m):
        F = m.firms
        rows = np.flatnonzero(F.alive)[::2]
        F.weak_months[rows] = 24
        F.age[rows] = np.maximum(F.age[rows], 120)

    fast, _ = _lockstep(sc, sc.run.months, prepare)
    d = fast.rec.data
    assert np.nansum(d["zombie_share"]) > 0 and np.nansum(d["zombie_loans"]) > 0
    assert np.nansum(d["firms_evergreened"]) > 0 and np.nansum(d["firms_supported"]) > 0
