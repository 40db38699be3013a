"""The credit market (MODEL.md step 7) as a plain function: repayments and renewals, applications,
the allocation by banks, and the books closed for the stock-flow checks."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._memory import release_freed_memory
from ..kernels import credit as cr
from ..kernels import credit_allocation as ca
from ..kernels import exposure as ex
from ..kernels import investment as inv


class CreditNeeds(NamedTuple):
    """What firms need funds for this month (step 7's plans)."""
    factor: np.ndarray  # share of requested expansion each sector may build (the capacity rules)
    prices: inv.InvestmentPrices  # capital per unit of capacity and the upgrade subsidy, by sector
    repay: cr.RepayParams  # maturity, the cash buffer, leverage reviews, rollover rules


class CreditOutcome(NamedTuple):
    flow: float  # net cash flow to firms, economy-wide yuan
    deposits: float  # firm deposits after, economy-wide yuan
    loan_gap: float  # largest gap between a bank's books and its firms' loans, yuan
    fees: float  # guarantee fees paid to the fund, economy-wide yuan


def credit_market(firms, banking, scratch, sectors, draws, needs: CreditNeeds, policy, cfg) -> CreditOutcome:
    """Step 7: the single place where firms ask for credit. Loans amortise; firms that need funds
    (shortfall, investment beyond internal funds, rollover) apply to their bank and a few banks
    drawn by size (`draws`, the "credit" stream's per-row uniforms), best credit score first (scores
    were made with the income statements), and take the cheapest offer within the large-exposure
    limit. `policy`: the policy in force; `cfg`: the scenario's [banking].

    Reads and writes the firms' loans, cash, bank, loan rate and guaranteed loans, the credit
    scratch (repaid, rolled, granted, denied; the applicants and their new loans' rates), the banks'
    loans and the participations (banking); returns the flows for the stock-flow checks."""
    F, B, S, bk = firms, banking.banks, scratch, banking
    if S.grown:
        # the first credit step after the rows grew starts from a trimmed heap: its temporaries (the
        # month's largest) then settle where the months after find them again, instead of beside the
        # free chunks the growth month left after its own trim (the 1:1 decade's peak: nine months
        # after its last growth at 414 MB, against 409 after the next yearly trim)
        release_freed_memory()
        S.grown = False
    # each kernel is given the arrays it reads (cr.view): numba unboxes every array of a bundle at every call
    fb, bb, sb = F.bundle(), B.bundle(), S.bundle()
    weights = cr.view(cr.Weights, sectors)
    _, outstanding, rows, request, limit = cr.repay_and_apply(
        cr.view(cr.RepayRows, fb), cr.view(cr.BankLoans, bb), sb, cr.view(cr.RepaySectors, sectors), needs.prices,
        needs.factor, needs.repay)
    # every lender of a row takes its share of the repayment and renewal the lead booked
    ex.shift_repayments(bk.parts, F.alive, F.bank, F.sector, sectors.weight, sb, B.loans)
    terms = ca.lending_terms(bk)
    table = ca.serving_table(ca.Applicants(rows=rows, request=request, limit=limit,
                                           order=cr.score_order(rows, F.pd),  # serving order: best score first
                                           draws=draws.at(rows)),  # the searched banks' uniforms, applicants only
                             cr.view(ca.TableRows, fb), weights, terms.size_cdf, bk.parts.row)
    del request, limit  # (the table holds what the allocation needs of them: its peak is the month's)
    _, touched, new, app_fees, app_rates = ca.allocate_credit_drawn(
        table, rows, cr.view(ca.LendRows, fb), cr.view(ca.LenderBooks, bb), sb, terms,
        ca.allocation_params(policy, cfg, outstanding, bk.bank_weight), bk.parts)
    del table
    bk.replace_parts(touched, new)
    firm_side = np.zeros(B.n_rows)
    flow, fees, deposits, renewed = cr.credit_close(cr.view(cr.CloseRows, fb), sb, weights, rows, app_fees, firm_side)
    S.set_applicants(rows, app_rates, renewed)  # for the records
    ex.shift_loans(bk.parts, cr.view(ex.LoanRows, fb), sectors.weight, np.zeros(0), firm_side)
    return CreditOutcome(float(flow), float(deposits), float(np.max(np.abs(firm_side - B.loans))), float(fees))


def leverage_review_share(adjustment: float) -> float:
    """Share of the gap to its target debt a firm borrows at its yearly credit-line review: what
    closing `behaviour.leverage_adjustment` of the gap every month would close in a year."""
    return 1.0 - (1.0 - adjustment) ** 12
