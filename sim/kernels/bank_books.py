"""The banks' month end (BankingSystem.month_end) in one compiled pass over the banks: provisions,
operating costs, pre-tax profit, tax, dividends, equity and capital ratios, each bank's numbers as
the numpy expressions over the bank arrays computed them (the same operations in the same order;
np.maximum, np.clip and np.divide's NaN rules spelled out), and the live banks' totals summed as
numpy sums the gathered values. Some thirty numpy calls on arrays of a few dozen banks were a
twentieth of a small economy's month (benchmarks/RESULTS.md, "The Python between the kernels").
The month's lending terms (BankingSystem.lending_conditions) likewise, in one pass."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._numba import kernel
from .capacity_rules import np_maximum, np_minimum
from .tables import masked_sums


class MonthEndBooks(NamedTuple):
    """The bank arrays the month end reads and writes (state.Banks' fields of these names)."""
    loans: np.ndarray
    loans_special: np.ndarray
    npl: np.ndarray
    loans_substandard: np.ndarray
    loans_doubtful: np.ndarray
    loans_loss: np.ndarray
    provisions: np.ndarray  # written
    rwa: np.ndarray
    equity: np.ndarray  # written
    profit: np.ndarray  # written
    capital_ratio: np.ndarray  # written


class MonthEndFlows(NamedTuple):
    """Each bank's flows this month (yuan): interest earned and paid, funding cost (negative: net
    income from the central bank and bonds), loans written off."""
    interest_income: np.ndarray
    deposit_interest: np.ndarray
    funding: np.ndarray
    writeoff: np.ndarray


class MonthEndRates(NamedTuple):
    """The scenario's banking settings the month end uses (floats)."""
    general_provision: float
    provision_special_mention: float
    provision_substandard: float
    provision_doubtful: float
    provision_loss: float
    opex_month: float  # operating_cost / 12
    tax_rate: float
    capital_ratio_2019: float
    dividend_payout: float
    ratio_with_buffer: float  # capital_ratio_2019 + capital_buffer


def month_end_rates(cfg) -> MonthEndRates:
    return MonthEndRates(float(cfg.general_provision), float(cfg.provision_special_mention),
                         float(cfg.provision_substandard), float(cfg.provision_doubtful), float(cfg.provision_loss),
                         cfg.operating_cost / 12.0, float(cfg.tax_rate), float(cfg.capital_ratio_2019),
                         float(cfg.dividend_payout), cfg.capital_ratio_2019 + cfg.capital_buffer)


@kernel
def bank_month_end(alive, books, flows, r, fail_ratio):
    """Writes provisions, profit, equity and capital_ratio of every bank (`books`: MonthEndBooks);
    returns the live banks' operating costs, taxes and dividends (yuan) and how many live banks with
    risk-weighted assets are critically undercapitalised (equity gone, or a capital ratio below
    `fail_ratio`: BankingSystem._resolve_failures resolves them; a month without looks no further).
    `flows`: MonthEndFlows; `r`: MonthEndRates."""
    loans, special, npl, substandard, doubtful, loss = (books.loans, books.loans_special, books.npl,
                                                        books.loans_substandard, books.loans_doubtful, books.loans_loss)
    provisions, rwa, equity, profit, capital_ratio = (books.provisions, books.rwa, books.equity, books.profit,
                                                      books.capital_ratio)
    interest_income, deposit_interest, funding, writeoff = flows
    n = alive.shape[0]
    opex = np.empty(n)
    tax = np.empty(n)
    div = np.empty(n)
    failing = 0
    for b in range(n):
        normal = loans[b] - special[b] - npl[b]
        prov = (r.general_provision * normal + r.provision_special_mention * special[b]
                + r.provision_substandard * substandard[b] + r.provision_doubtful * doubtful[b]
                + r.provision_loss * loss[b])
        d_prov = prov - provisions[b]
        provisions[b] = prov
        opex[b] = r.opex_month * loans[b]
        pre = interest_income[b] - deposit_interest[b] - funding[b] - opex[b] - d_prov - writeoff[b]
        tax[b] = r.tax_rate * pre if pre > 0 else 0.0
        net = pre - tax[b]
        target = r.capital_ratio_2019 * rwa[b]
        pos = np_maximum(net, 0.0)
        d = r.dividend_payout * pos if equity[b] + net >= target else 0.0
        excess = equity[b] + net - d - r.ratio_with_buffer * rwa[b]
        hi = pos - d
        # np.clip(excess, 0.0, hi) with hi an array: np.maximum with 0, then np.minimum with hi (the
        # bound on a tie, as those give the second)
        c = np_minimum(np_maximum(excess, 0.0), hi)
        div[b] = d + c
        profit[b] = net if alive[b] else 0.0
        equity[b] += (net - div[b]) if alive[b] else 0.0
        capital_ratio[b] = equity[b] / rwa[b] if rwa[b] > 0 else np.inf
        if alive[b] and rwa[b] > 0 and (equity[b] <= 0 or capital_ratio[b] < fail_ratio):
            failing += 1
    opex_t, tax_t, div_t = masked_sums(alive, (opex, tax, div))
    return opex_t, tax_t, div_t, failing


class TermsRates(NamedTuple):
    """The settings and policy the month's lending terms are made from (floats; flags as bools)."""
    passive: bool  # banking.market "passive": no capital constraint, every risk accepted
    banks: bool  # banking.market "banks": the large-exposure limit binds
    min_capital_ratio: float
    min_car_floor: float  # max(min_capital_ratio, 1e-9): room is equity over it less the risk-weighted assets
    capital_buffer: float
    pd_max: float
    capital_charge: float
    sme_target: float  # policy.inclusive_sme_target (0: none)
    concession: float  # policy.inclusive_concession
    unsecured: float  # policy.inclusive_unsecured
    rate_cut: float  # re-lending's cut in the SME rate of a live bank, 1/yr
    capital_factor: float  # BankingSystem.capital_factor
    exposure_limit: float  # banking.large_exposure_limit
    bank_weight: float


@kernel
def np_clip(x, lo, hi):
    """np.clip(x, lo, hi) of a float between two scalar bounds: NaN stays NaN, and x on a tie (numpy
    2.4 gives clip(-0.0, 0.0, 1.0) = -0.0)."""
    if np.isnan(x):
        return x
    if x < lo:
        return lo
    return hi if x > hi else x


@kernel
def sme_shortfall(loans_sme, year_ago, target):
    """BankingSystem.inclusive_shortfall of one bank with a target (`target` > 0): the share of the
    target its SME loans' growth over twelve months misses, in [0, 1] (growth `target` without SME
    loans a year ago)."""
    growth = loans_sme / year_ago - 1 if year_ago > 0 else target
    return np_clip((target - growth) / target, 0.0, 1.0)


@kernel
def lending_terms(alive, equity, rwa, margin, loans_sme, year_ago, r):
    """The month's lending terms of every bank, as BankingSystem.lending_conditions' numpy made them
    (room under the capital constraint, the default risk accepted from SMEs and large firms, the SME
    premium waived, the lending margin, the large-exposure unit, the inclusive extension of SMEs'
    limits and re-lending's rate cut), in one pass over the banks instead of some twenty numpy calls
    on arrays of a few dozen. `r`: TermsRates. Returns the eight arrays in that order."""
    n = alive.shape[0]
    room = np.empty(n)
    pdmax_sme = np.empty(n)
    pdmax_large = np.empty(n)
    discount = np.empty(n)
    margin_now = np.empty(n)
    unit = np.empty(n)
    extension = np.empty(n)
    rate_cut = np.empty(n)
    for b in range(n):
        # exposure.units: limit x a real bank's net capital
        unit[b] = (r.exposure_limit * np_maximum(equity[b] * r.capital_factor, 0.0) / r.bank_weight
                   if r.banks and alive[b] else (0.0 if r.banks else np.inf))
        if r.passive:
            room[b] = np.inf
            pdmax_sme[b] = 1.0
            pdmax_large[b] = 1.0
            discount[b] = 0.0
            margin_now[b] = margin[b]
            extension[b] = 0.0
            rate_cut[b] = 0.0
            continue
        room[b] = equity[b] / r.min_car_floor - rwa[b] if alive[b] else 0.0
        car = equity[b] / rwa[b] if rwa[b] > 0 else np.inf
        tight = np_clip((car - r.min_capital_ratio) / r.capital_buffer, 0.0, 1.0)
        pdmax = r.pd_max * tight
        short = sme_shortfall(loans_sme[b], year_ago[b], r.sme_target) if r.sme_target > 0 else 0.0
        gap = short * r.concession
        # a bank near its capital minimum prices its scarce capital: the margin rises as it tightens
        margin_now[b] = margin[b] + r.capital_charge * (1.0 - tight)
        pdmax_sme[b] = pdmax * (1 + gap)
        pdmax_large[b] = pdmax
        discount[b] = gap
        extension[b] = r.unsecured * short
        rate_cut[b] = r.rate_cut if alive[b] else 0.0
    return room, pdmax_sme, pdmax_large, discount, margin_now, unit, extension, rate_cut


@kernel
def book_entrants(loans, lead, book, new_row, new_bank, new_share):
    """Entrants' loans onto the banks' books (BankingSystem.place_entrants), as numpy's unbuffered
    np.add.at and np.subtract.at add them, in row order: each entrant's book at its lead bank, then
    the participants' shares (new_share of the book of entrant new_row) off the lead's books and onto
    the participant's (new_bank)."""
    for i in range(lead.shape[0]):
        loans[lead[i]] += book[i]
    v = np.empty(new_row.shape[0])
    for k in range(new_row.shape[0]):
        v[k] = new_share[k] * book[new_row[k]]
    for k in range(new_row.shape[0]):
        loans[lead[new_row[k]]] -= v[k]
    for k in range(new_row.shape[0]):
        loans[new_bank[k]] += v[k]
