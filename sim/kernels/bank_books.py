"""The banks' month end (BankingSystem.month_end) in one compiled pass over the banks: provisions,
operating costs, pre-tax profit, tax, dividends, equity and capital ratios, each bank's numbers as
the numpy expressions over the bank arrays computed them (the same operations in the same order;
np.maximum, np.clip and np.divide's NaN rules spelled out), and the live banks' totals summed as
numpy sums the gathered values. Some thirty numpy calls on arrays of a few dozen banks were a
twentieth of a small economy's month (benchmarks/RESULTS.md, "The Python between the kernels")."""

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
def bank_month_end(alive, books, flows, r):
    """Writes provisions, profit, equity and capital_ratio of every bank (`books`: MonthEndBooks);
    returns the live banks' operating costs, taxes and dividends (yuan). `flows`: MonthEndFlows; `r`:
    MonthEndRates."""
    loans, special, npl, substandard, doubtful, loss = (books.loans, books.loans_special, books.npl,
                                                        books.loans_substandard, books.loans_doubtful, books.loans_loss)
    provisions, rwa, equity, profit, capital_ratio = (books.provisions, books.rwa, books.equity, books.profit,
                                                      books.capital_ratio)
    interest_income, deposit_interest, funding, writeoff = flows
    n = alive.shape[0]
    opex = np.empty(n)
    tax = np.empty(n)
    div = np.empty(n)
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
    opex_t, tax_t, div_t = masked_sums(alive, (opex, tax, div))
    return opex_t, tax_t, div_t


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
