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
    got = bank_books.bank_month_end(A["alive"], books, flows, bank_books.month_end_rates(cfg))
    assert tuple(float(x) for x in got) == expect
    for k in B:
        assert np.array_equal(A[k], B[k]), k
