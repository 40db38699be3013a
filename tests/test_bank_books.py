"""The banks' month end in one compiled pass (kernels.bank_books) gives the numbers of the numpy
expressions over the bank arrays it replaced, bit for bit, losses, failures and idle banks included."""

from types import SimpleNamespace

import numpy as np
import pytest

from sim.kernels import bank_books


def _numpy_month_end(B, income, dep_int, funding, writeoff, cfg):
    """BankingSystem.month_end's books as numpy computed them (before kernels.bank_books)."""
    normal = B["loans"] - B["special"] - B["npl"]
    prov_new = (cfg.general_provision * normal + cfg.provision_special_mention * B["special"]
                + cfg.provision_substandard * B["substandard"] + cfg.provision_doubtful * B["doubtful"]
                + cfg.provision_loss * B["loss"])
    d_prov = prov_new - B["provisions"]
    B["provisions"][:] = prov_new
    opex = cfg.operating_cost / 12.0 * B["loans"]
    opex_total = float(opex[B["alive"]].sum())
    pre = income - dep_int - funding - opex - d_prov - writeoff
    tax = np.where(pre > 0, cfg.tax_rate * pre, 0.0)
    net = pre - tax
    target = cfg.capital_ratio_2019 * B["rwa"]
    pos = np.maximum(net, 0.0)
    div = np.where(B["equity"] + net >= target, cfg.dividend_payout * pos, 0.0)
    excess = B["equity"] + net - div - (cfg.capital_ratio_2019 + cfg.capital_buffer) * B["rwa"]
    div = div + np.clip(excess, 0.0, pos - div)
    B["profit"][:] = np.where(B["alive"], net, 0.0)
    B["equity"][:] += np.where(B["alive"], net - div, 0.0)
    out = np.full(B["equity"].shape, np.inf)
    np.divide(B["equity"], B["rwa"], out=out, where=B["rwa"] > 0)
    B["capital_ratio"][:] = out
    return opex_total, float(tax[B["alive"]].sum()), float(div[B["alive"]].sum())


@pytest.mark.parametrize("n", [1, 21, 300, 4000])
def test_bank_month_end_as_numpy(n):
    rng = np.random.default_rng(n)
    cfg = SimpleNamespace(general_provision=0.015, provision_special_mention=0.02, provision_substandard=0.25,
                          provision_doubtful=0.5, provision_loss=1.0, operating_cost=0.011, tax_rate=0.25,
                          capital_ratio_2019=0.145, dividend_payout=0.3, capital_buffer=0.025)
    loans = rng.random(n) * 1e12
    B = {"alive": rng.random(n) < 0.9, "loans": loans, "special": loans * rng.random(n) * 0.05,
         "npl": loans * rng.random(n) * 0.03, "substandard": loans * rng.random(n) * 0.01,
         "doubtful": loans * rng.random(n) * 0.01, "loss": loans * rng.random(n) * 0.01,
         "provisions": loans * rng.random(n) * 0.03, "rwa": loans * rng.random(n),
         "equity": loans * rng.normal(0.12, 0.05, n), "profit": np.zeros(n), "capital_ratio": np.zeros(n)}
    B["rwa"][rng.random(n) < 0.1] = 0.0  # idle banks
    income, dep_int = loans * rng.random(n) * 0.005, loans * rng.random(n) * 0.002
    funding, writeoff = loans * rng.normal(0, 0.002, n), loans * rng.random(n) * 0.003 * (rng.random(n) < 0.3)
    A = {k: v.copy() for k, v in B.items()}
    expect = _numpy_month_end(B, income, dep_int, funding, writeoff, cfg)
    books = bank_books.MonthEndBooks(A["loans"], A["special"], A["npl"], A["substandard"], A["doubtful"], A["loss"],
                                     A["provisions"], A["rwa"], A["equity"], A["profit"], A["capital_ratio"])
    flows = bank_books.MonthEndFlows(income, dep_int, funding, writeoff)
    *got, failing = bank_books.bank_month_end(A["alive"], books, flows, bank_books.month_end_rates(cfg), 0.05)
    assert tuple(float(x) for x in got) == expect
    assert failing == np.sum(B["alive"] & (B["rwa"] > 0) & ((B["equity"] <= 0) | (B["capital_ratio"] < 0.05)))
    for k in B:
        assert np.array_equal(A[k], B[k]), k


def _numpy_lending_terms(B, r):
    """BankingSystem.lending_conditions' and inclusive_terms' numpy (before bank_books.lending_terms)."""
    n = B["alive"].size
    if r.banks:
        unit = np.where(B["alive"], r.exposure_limit * np.maximum(B["equity"] * r.capital_factor, 0.0)
                        / r.bank_weight, 0.0)
    else:
        unit = np.full(n, np.inf)
    if r.passive:
        return np.full(n, np.inf), np.ones(n), np.ones(n), np.zeros(n), B["margin"].copy(), unit, np.zeros(n), \
            np.zeros(n)
    room = np.where(B["alive"], B["equity"] / r.min_car_floor - B["rwa"], 0.0)
    car = np.full(n, np.inf)
    np.divide(B["equity"], B["rwa"], out=car, where=B["rwa"] > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tight = np.clip((car - r.min_capital_ratio) / r.capital_buffer, 0.0, 1.0)
        pdmax = r.pd_max * tight
        if r.sme_target <= 0:
            short = np.zeros(n)
        else:
            growth = np.full(n, r.sme_target)
            ago = B["year_ago"]
            np.divide(B["sme"], ago, out=growth, where=ago > 0)
            growth = np.where(ago > 0, growth - 1, r.sme_target)
            short = np.clip((r.sme_target - growth) / r.sme_target, 0.0, 1.0)
    gap = short * r.concession
    margin = B["margin"] + r.capital_charge * (1.0 - tight)
    return (room, pdmax * (1 + gap), pdmax, gap, margin, unit, r.unsecured * short,
            np.where(B["alive"], r.rate_cut, 0.0))


@pytest.mark.parametrize("market", ["banks", "passive"])
@pytest.mark.parametrize("target", [0.0, 0.3, 1e-300])
def test_lending_terms_as_numpy(market, target):
    """Each bank's terms as numpy made them, bit for bit (signs of zero and NaN included): banks
    short of capital, without risk-weighted assets or SME loans a year ago, closed or at NaN."""
    rng = np.random.default_rng(7)
    n = 300
    rwa = rng.random(n) * 1e12
    rwa[rng.random(n) < 0.1] = 0.0
    B = {"alive": rng.random(n) < 0.9, "equity": rwa * rng.normal(0.12, 0.06, n), "rwa": rwa,
         "margin": rng.normal(0.01, 0.002, n), "sme": rng.random(n) * 1e11,
         "year_ago": rng.random(n) * 1e11 * (rng.random(n) < 0.8)}
    B["equity"][:3] = np.nan
    B["equity"][3:6] = -0.0
    r = bank_books.TermsRates(passive=market == "passive", banks=market == "banks", min_capital_ratio=0.105,
                              min_car_floor=0.105, capital_buffer=0.025, pd_max=0.08, capital_charge=0.01,
                              sme_target=target, concession=0.5, unsecured=-0.2, rate_cut=-0.0, capital_factor=1.7,
                              exposure_limit=0.1, bank_weight=20.0)
    got = bank_books.lending_terms(B["alive"], B["equity"], B["rwa"], B["margin"], B["sme"], B["year_ago"], r)
    for g, e in zip(got, _numpy_lending_terms(B, r), strict=True):
        assert g.tobytes() == np.asarray(e, dtype=np.float64).tobytes()


def test_parts_merged_as_a_stable_sort():
    """exposure.merge_parts gives the table numpy's marks, masks and stable argsort gave: the dropped
    rows' entries gone, the new ones joined after a row's kept ones, each row's in their order."""
    from sim.kernels.exposure import Parts, merge_parts

    def numpy_merge(parts, rows, n_rows, new):
        if rows.size and parts.row.size:
            mark = np.zeros(n_rows, dtype=bool)
            mark[rows] = True
            parts = Parts(*(a[~mark[parts.row]] for a in parts))
        row = np.concatenate((parts.row, new.row))
        order = np.argsort(row, kind="stable")
        return Parts(row[order], np.concatenate((parts.bank, new.bank))[order],
                     np.concatenate((parts.share, new.share))[order])

    rng = np.random.default_rng(5)
    for trial in range(500):
        n_rows, m, q = int(rng.integers(1, 60)), int(rng.integers(0, 40)), int(rng.integers(0, 20))
        parts = Parts(np.sort(rng.integers(0, n_rows, m)), rng.integers(0, 9, m), rng.random(m))
        new = Parts(rng.integers(0, n_rows, q), rng.integers(0, 9, q), rng.random(q))
        rows = rng.integers(0, n_rows, int(rng.integers(0, 6))) if trial % 3 else np.zeros(0, dtype=np.int64)
        for got, want in zip(merge_parts(parts, rows, n_rows, new), numpy_merge(parts, rows, n_rows, new),
                             strict=True):
            np.testing.assert_array_equal(got, want)
