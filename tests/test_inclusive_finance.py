"""Inclusive finance through quantities and funding (issue 20 part 6, docs/credit.md): a bank short of
its inclusive-lending target lends SMEs beyond their borrowing limit; central-bank re-lending funds
SME loans at a lower rate and lowers SME quotes; the targeted RRR cut frees reserves; the guarantee
fund writes no more cover once it is full. Each test switches its mechanism off and sees the
difference."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.kernels import credit_allocation as ca
from sim.kernels import exposure as ex

from .conftest import write_scenario
from .test_credit import _applicants, _params
from .test_economy import assert_closes


def _terms(n, extension=0.0, rate_cut=0.0):
    return ca.LendingTerms(margin=np.zeros(n), room=np.full(n, 1e9), pdmax_sme=np.full(n, 0.08),
                           pdmax_large=np.full(n, 0.08), discount=np.zeros(n), size_cdf=np.linspace(1.0 / n, 1.0, n),
                           exposure_unit=np.full(n, np.inf), sme_extension=np.broadcast_to(extension, (n,)).copy(),
                           sme_rate_cut=np.broadcast_to(rate_cut, (n,)).copy())


def _one_sme(request=100.0, limit=40.0, soe=False, n_banks=1):
    F, S, B, sectors = _applicants([0.01], request, n_banks)
    S.limit[:] = limit
    F.capital[:] = 500.0  # assets 500, net worth 500
    F.soe[:] = soe
    return F, S, B, sectors


def _lend(F, S, B, sectors, terms, cand=None):
    """What row 0 is lent (the rate of its new loan in S.new_rate: the engine returns it per applicant)."""
    cand = np.zeros((1, 1), dtype=np.int64) if cand is None else cand
    *_, rates = ca.allocate_credit(ca.served_as_listed([0], S.request[:1], S.limit[:1]), cand, F.bundle(),
                                   B.bundle(), S.bundle(), sectors, terms, _params(switching_cost=0.0), ex.no_parts())
    S.new_rate = rates
    return S.granted[0]


def test_a_bank_short_of_its_target_lends_beyond_the_limit():
    # without the quantity lever the firm gets its limit, 40 of the 100 it asks
    assert _lend(*_one_sme(), _terms(1)) == pytest.approx(40.0)
    # fully short, extension 0.1: 10% of its 500 of assets more, 90 in all
    assert _lend(*_one_sme(), _terms(1, extension=0.1)) == pytest.approx(90.0)
    # never beyond the request
    assert _lend(*_one_sme(), _terms(1, extension=0.5)) == pytest.approx(100.0)
    # a state-owned SME is not what the inclusive target counts
    assert _lend(*_one_sme(soe=True), _terms(1, extension=0.1)) == pytest.approx(40.0)
    # the part beyond the limit comes from the bank that is short only: the own bank (1) meets its
    # target and lends 40; bank 0, short, lends the 50 beyond
    F, S, B, sectors = _one_sme(n_banks=2)
    granted = _lend(F, S, B, sectors, _terms(2, extension=np.array([0.1, 0.0])),
                    cand=np.array([[1, 0]], dtype=np.int64))
    assert granted == pytest.approx(90.0)
    np.testing.assert_allclose(B.loans, [50.0, 40.0])
    # an insolvent firm gets nothing beyond its limit (here 0)
    F, S, B, sectors = _one_sme(limit=0.0)
    F.other_liab[:] = 600.0
    assert _lend(F, S, B, sectors, _terms(1, extension=0.1)) == 0.0


def test_relending_lowers_the_sme_quote_only():
    rates = []
    for cut in (0.0, 0.002):
        F, S, B, sectors = _one_sme(limit=1e9)
        _lend(F, S, B, sectors, _terms(1, rate_cut=cut))
        rates.append(S.new_rate[0])
    assert rates[0] - rates[1] == pytest.approx(0.002)
    F, S, B, sectors = _one_sme(limit=1e9)
    F.sme[:] = False
    _lend(F, S, B, sectors, _terms(1, rate_cut=0.002))
    assert S.new_rate[0] == pytest.approx(0.04 + 0.01 * 0.4)  # a large firm: policy rate and expected loss


SCHEDULE = '[schedule."2019-01"]\n'
TARGET = "inclusive_sme_target = 0.3\n"


def _run(tmp_path, body, closed=False, firms=600, months=12, name="s.toml"):
    over = {"economy.closure": "closed" if closed else "open"}
    sc = sim.load_scenario(write_scenario(tmp_path, SCHEDULE + body, name=name), firms=firms, months=months, **over)
    return sim.run(sc, seed=3, quiet=True)


def test_a_binding_target_raises_sme_credit(tmp_path):
    """The same target with and without its quantity lever, and no target: SME credit after a year is
    higher with the lever; banks pay for it (lower SME rates, riskier borrowers) out of profit."""
    off = _run(tmp_path, TARGET + "inclusive_unsecured = 0.0\n", name="off.toml")
    on = _run(tmp_path, TARGET + "inclusive_unsecured = 0.3\n", name="on.toml")
    none = _run(tmp_path, "", name="none.toml")
    sme = {k: float(ds.credit.sel(size_class="sme").isel(time=-1)) for k, ds in
           (("off", off), ("on", on), ("none", none))}
    assert sme["on"] > 1.02 * sme["off"]  # the quantity lever moves SME credit by more than 2% in a year
    assert sme["off"] >= sme["none"] * 0.999
    assert np.isnan(none.inclusive_target_gap).all() and (on.inclusive_target_gap >= 0).all()
    # the target is assessed: the shortfall falls as banks lend more
    assert float(on.inclusive_target_gap[-1]) < float(off.inclusive_target_gap[-1])


def test_relending_funds_sme_loans_on_both_books(tmp_path):
    """Closed economy: re-lending is a central-bank asset and a bank liability of the same size, the
    banks pay the re-lending rate on it to the central bank (which remits it), the accounts close, and
    the SME rate on new loans is lower than without re-lending."""
    ds = _run(tmp_path, "relending_share = 0.05\nrelending_rate = 0.0275\n", closed=True, months=6, name="on.toml")
    base = _run(tmp_path, "", closed=True, months=6, name="off.toml")
    assert_closes(ds)
    sheet = ds.balance_sheet.sel(item="relending")
    np.testing.assert_allclose(sheet.sel(institution="central_bank").values,
                               -sheet.sel(institution="banks").values, rtol=1e-12)
    assert (sheet.sel(institution="central_bank") > 0).all()
    # interest on last month's stock at the re-lending rate, paid by the banks to the central bank
    paid = ds.tfm.sel(flow="relending_interest")
    np.testing.assert_allclose(paid.sel(institution="central_bank").values[1:],
                               0.0275 / 12 * sheet.sel(institution="central_bank").values[:-1], rtol=1e-12)
    np.testing.assert_allclose(paid.sel(institution="banks").values, -paid.sel(institution="central_bank").values)
    np.testing.assert_allclose(ds.relending_outstanding.values, sheet.sel(institution="central_bank").values,
                               rtol=1e-12)
    assert (base.balance_sheet.sel(item="relending") == 0).all() and (base.relending_outstanding == 0).all()
    rate = ds.loan_rate_new.sel(size_class="sme").mean().item()
    assert rate < base.loan_rate_new.sel(size_class="sme").mean().item() - 1e-4


def test_targeted_rrr_cut_frees_reserves_and_funding(tmp_path):
    """Closed economy: banks that qualify hold less in required reserves, which paid 1.62%; the
    accounts close. (The closed economy's banks already hold large excess reserves, so the freed funds
    stay at the central bank at the excess-reserve rate and bank income falls: liquidity is not what
    limits lending there.) Open economy: the freed reserves are placed at the bond yield and banks'
    profits rise."""
    for closed in (True, False):
        cut = _run(tmp_path, "targeted_rrr_cut = 0.01\n", closed=closed, months=3, name="cut.toml")
        base = _run(tmp_path, "", closed=closed, months=3, name="base.toml")
        assert float(cut.targeted_rrr_banks[0]) > 0.3 and (base.targeted_rrr_banks == 0).all()
        if closed:
            assert_closes(cut)
            freed = base.tfm.sel(flow="reserve_interest", institution="banks") - cut.tfm.sel(
                flow="reserve_interest", institution="banks")
            assert float(freed[1]) > 0.01 * float(base.tfm.sel(flow="reserve_interest", institution="banks")[1])
        else:
            assert float(cut.bank_profit[1]) > float(base.bank_profit[1])


def test_the_guarantee_fund_refuses_cover_when_full(tmp_path):
    """A fund of 0.2 bn yuan at 10x leverage fills up in the first months and writes no more:
    guarantees outstanding never exceed its capacity; a large fund writes many times more."""
    small = _run(tmp_path, "guarantee_fund_capital = 0.2\nguarantee_fee_small = 0.001\nguarantee_fee = 0.001\n",
                 months=8, name="small.toml")
    big = _run(tmp_path, "guarantee_fund_capital = 66.1\nguarantee_fee_small = 0.001\nguarantee_fee = 0.001\n",
               months=8, name="big.toml")
    used = small.guarantee_fund_used.values
    assert used.max() > 0.97 and (used <= 1.0 + 1e-9).all()
    np.testing.assert_allclose(small.credit_guaranteed.values, used * 0.2e9 * 10, rtol=1e-12)
    assert float(big.credit_guaranteed[-1]) > 3 * float(small.credit_guaranteed[-1])
    assert float(big.guarantee_fund_used.max()) < 1.0


def test_the_shortfall_against_the_target_is_a_share_even_for_a_tiny_target():
    """The supervisor's shortfall is 0 (met) to 1 (no growth or less), with no overflow warning when a
    scenario sets a target near zero (a subnormal one, as hypothesis drew, 2026-12)."""
    import warnings
    from types import SimpleNamespace

    from sim.banking import BankingSystem

    banks = SimpleNamespace(n_rows=3, loans_sme=np.array([150.0, 80.0, 5.0]),
                            loans_sme_year_ago=np.array([100.0, 100.0, 0.0]))
    for target, want in ((0.3, [0.0, 1.0, 0.0]), (5e-324, [0.0, 1.0, 0.0]), (0.6, [1.0 / 6.0, 1.0, 0.0])):
        system = SimpleNamespace(banks=banks, m=SimpleNamespace(policy=SimpleNamespace(inclusive_sme_target=target)))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_allclose(BankingSystem.inclusive_shortfall(system), want)
