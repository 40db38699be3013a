"""Exit (MODEL.md step 9): default and the court procedure, voluntary exit after sustained losses or
a vanishing market share, forced closure of backward capacity. Entry (step 10) is array code in
sim/phases/entry.py: entrants are few per month.

A firm that cannot pay (negative deposits after credit) or whose equity turns negative defaults, and
so does one that would leave (losses, share, forced closure) but whose assets at their liquidation
values do not cover its loans. A defaulting firm stops operating (its capacity retires, its row is
no longer alive); its deposits are set off against its loans (and its negative deposits, an
overdraft, are the lead bank's loss in the closed economy); what remains of its loans stays on its
banks' books, past due, while its estate (fixed capital, receivables and inventories, trade credit
owed) is in the court procedure (`court`: months since the default). The loan ages through the loan
categories (kernels.exposure.loan_category), so the banks' provisions build month by month. After
`court_months` the estate is liquidated: its plant and its receivables and inventories are sold at
their recovery rates, the procedure's costs are paid out of the proceeds, the banks recover the
rest up to their claim, the guarantee fund pays its share of the loss and the banks write off what
is left. A firm that leaves solvently sells its assets at the same recovery rates and repays its
loans in full; then its trade creditors, then its owners.

Every loss on a loan is so a default's: recorded in the month's table (defaults by size class, the
write-off when the estate is liquidated).

Zombie firms (issue 20 part 4). A firm that would default may be kept alive instead: a local
government covers a state-owned firm's cash shortfall and negative equity up to a limit (the soft
budget constraint: Kornai 1986; for China Lam et al., IMF WP/17/266, 2017), or its lead bank rolls
the loan over and lends it what it needs to stay current (evergreening: Peek and Rosengren, AER 2005;
Caballero, Hoshi and Kashyap, AER 2008), more often to state-owned borrowers and the thinner the
bank's capital, with a uniform of stream `evergreening` drawn outside the kernel for each row leaving.
Its loan stays performing (a live firm's loan is normal or special mention). A live firm is a zombie
in the OECD sense (McGowan, Andrews and Millot, OECD 2017: at least ten years old, interest coverage
below one for three consecutive years): `weak_months` counts the consecutive months in which its
trailing-year profit (profit_year, after interest) was negative while it had loans, and the firm is
a zombie at ZOMBIE_WEAK_MONTHS of them (the three yearly windows ending now, 12 and 24 months ago,
and every window between, show EBIT below interest) and ZOMBIE_AGE_MONTHS of age.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._numba import chunks, kernel, rows_of
from ..state import EXIT_BANKRUPTCY, EXIT_FORCED, EXIT_VOLUNTARY
from . import exit_log as xl
from .elementary import add_chunks
from .exposure import Parts, shift_loans
from .sums import book_gap

# columns of the per-sector exit table
(X_BANKRUPT, X_VOLUNTARY, X_FORCED, X_RETIRED, X_WRITE_OFF, X_RESIDUAL, X_COMPENSATION, X_LOANS_REPAID,
 X_BANKRUPT_SME, X_BANKRUPT_LARGE, X_CASH, X_FUND_PAYOUT, X_SCRAP, X_OVERDRAFT, X_DEFAULT_SME, X_DEFAULT_LARGE,
 X_COURT_COSTS, X_TRADE_CREDIT, X_SETTLED, X_CLAIMS_SETTLED, X_EVERGREEN, X_EVERGREENED, X_SUPPORT,
 X_SUPPORTED, X_ZOMBIES, X_ZOMBIE_LOANS) = range(26)
N_EXIT = 26
# X_SCRAP: what the buyers of closed plant, receivables and inventories pay for them; X_OVERDRAFT:
# negative deposits left at exit; X_DEFAULT_*: firms defaulting (entering the court procedure);
# X_COURT_COSTS: the procedure's costs; X_TRADE_CREDIT: trade credit and other liabilities paid out of
# a closed firm's assets; X_SETTLED: estates liquidated; X_CLAIMS_SETTLED: the banks' claims on them;
# X_EVERGREEN: what banks lent firms they kept from defaulting (X_EVERGREENED: those firms); X_SUPPORT:
# what local governments paid state-owned firms they kept from defaulting (X_SUPPORTED: those firms);
# X_ZOMBIES, X_ZOMBIE_LOANS: live zombie firms after exit and their loans

# the OECD zombie (McGowan, Andrews and Millot, OECD Economics Department WP 1372, 2017): a firm at
# least ten years old whose interest coverage (EBIT over interest) was below one for three
# consecutive years; here the trailing-year coverage below one at each of the last 25 month ends,
# which spans the three yearly windows ending now, 12 and 24 months ago
ZOMBIE_AGE_MONTHS = 120
ZOMBIE_WEAK_MONTHS = 25
WEAK_MONTHS_MAX = 32767  # the counter's ceiling (int16)


# the scalar parameters of exit (the behaviour settings of the same names)
BEHAVIOUR_EXIT = {
    "loss_months_exit": (int, "consecutive loss-making months after which a firm exits"),
    "recovery_rate": (float, "share of a closed firm's fixed capital recovered when it is sold"),
    "other_assets_recovery": (float, "share of a closed firm's receivables and inventories recovered"),
    "court_months": (int, "months from a default to the liquidation of the estate"),
    "court_cost": (float, "costs of the court procedure, share of the estate's liquidation value"),
    "book_overdrafts": (bool, "the bank books a closed firm's negative deposits as a loss (the closed economy; "
                              "without it they vanish from the deposits with no one bearing them)"),
}
# the rescue of firms that would default (banking.evergreening*, policy.soft_budget*, policy.min_capital_ratio,
# banking.capital_buffer): off unless given
RESCUE = {
    "evergreening": (bool, "banks may roll over the loans of borrowers that would default"),
    "evergreen_prob": (float, "monthly probability a well-capitalised lead bank rolls a private borrower over"),
    "evergreen_soe_factor": (float, "that probability's multiple for a state-owned borrower"),
    "evergreen_thin_capital": (float, "its increase for a bank whose capital ratio is at the minimum"),
    "min_capital_ratio": (float, "the minimum capital ratio"),
    "capital_buffer": (float, "the capital ratio above the minimum over which a bank's capital is thin"),
    "soft_budget": (bool, "local governments keep state-owned firms that would default"),
    "soft_budget_limit": (float, "largest transfer to one firm in a month, share of its annual sales"),
}
# the small-share rule's refinement (behaviour.min_share_needs_loss): off unless given
SMALL_SHARE = {
    "min_share_needs_loss": (bool, "the small-share rule closes only firms that lose money over the trailing year"),
}
EXIT_FIELDS = {**BEHAVIOUR_EXIT, **RESCUE, **SMALL_SHARE}
ExitParams = namedtuple("ExitParams", tuple(EXIT_FIELDS),
                        defaults=(False, 0.0, 1.0, 0.0, 0.0, 1.0, False, 0.0, False))

# the books the exit kernels write (and the participations they read)
EXIT_BOOKS_FIELDS = {
    "writeoff": (np.float64, "loans written off this month, by bank, economy-wide yuan (added to)"),
    "table": (np.float64, "the exit table, by sector (columns X_*), written"),
    "totals": (np.float64, "the survivors by sector: live model firms, capacity, pipeline (written by `exits`)"),
    "parts": (Parts, "the participations: each lender's share of a row's loan (kernels.exposure), read"),
}
ExitBooks = namedtuple("ExitBooks", tuple(EXIT_BOOKS_FIELDS))


def exit_params(behaviour, book_overdrafts: bool = False, banking=None, policy=None) -> ExitParams:
    """The exit kernels' parameters; without `banking` and `policy` no firm is rescued."""
    values = {"book_overdrafts": book_overdrafts}
    rescue = {}
    if banking is not None and policy is not None:
        rescue = {name: getattr(banking, name) for name in RESCUE if hasattr(banking, name)}
        rescue.update({name: getattr(policy, name) for name in RESCUE if hasattr(policy, name)})
    return ExitParams(*(kind(values[name] if name in values else getattr(behaviour, name))
                        for name, (kind, _) in BEHAVIOUR_EXIT.items()),
                      **{name: kind(rescue[name]) for name, (kind, _) in RESCUE.items() if name in rescue},
                      **{name: kind(getattr(behaviour, name)) for name, (kind, _) in SMALL_SHARE.items()})


@kernel
def is_zombie(age, weak_months):
    """The OECD zombie: at least ten years old, interest coverage below one for three years (one
    firm's values in the kernels; arrays through its Python code, `zombie_flags`)."""
    return (age >= ZOMBIE_AGE_MONTHS) & (weak_months >= ZOMBIE_WEAK_MONTHS)


def zombie_flags(age: np.ndarray, weak_months: np.ndarray) -> np.ndarray:
    """`is_zombie` over arrays (live or not: callers mask)."""
    return is_zombie.py_func(age, weak_months)


@kernel
def weak_next(weak, profit_year, loans):
    """The consecutive months of trailing-year interest coverage below one, this month included: EBIT
    below interest is a loss after interest (profit_year < 0) for a firm with loans."""
    if profit_year < 0 and loans > 0:
        return weak + 1 if weak < WEAK_MONTHS_MAX else weak
    return 0


@kernel
def evergreen_probability(soe, capital_ratio, params):
    """The lead bank's probability of rolling a borrower that would default over: `evergreen_prob`,
    times `evergreen_soe_factor` for a state-owned borrower (Chinese banks roll over loans to state
    and local firms: Tan, Huang and Woo 2016; Lam et al., IMF 2017), times 1 + `evergreen_thin_capital`
    x thin, thin rising from 0 at the minimum capital ratio plus the buffer to 1 at the minimum
    (banks short of capital avoid recognising losses: Peek and Rosengren, AER 2005)."""
    p = params.evergreen_prob * (params.evergreen_soe_factor if soe else 1.0)
    buf = params.capital_buffer if params.capital_buffer > 0 else 1e-12
    thin = (params.min_capital_ratio + buf - capital_ratio) / buf
    thin = 0.0 if thin < 0 else (1.0 if thin > 1 else thin)
    p *= 1.0 + params.evergreen_thin_capital * thin
    return p if p < 1.0 else 1.0


@kernel
def liquidation_value(cash, other_assets, capital, params):
    """What a firm's assets fetch when it closes: its deposits (if positive), its receivables and
    inventories and its fixed capital at their recovery rates."""
    return ((cash if cash > 0 else 0.0) + params.other_assets_recovery * other_assets
            + params.recovery_rate * capital)


# A leaving row's helpers are inlined into `_leave` and `forced_closures` (as calls each passed the firm
# bundle by value unless LLVM chose to inline it: 3.2 or 4.1 ms a month, benchmarks/RESULTS.md), in
# this file (a kernel is cached by its own file). `_leave` stays a call: a write through `firms.x[i]`
# inlined into a prange body is lost.
@njit(inline="always")
def _pay_out(i, k, amount, firms, log):
    """What is left of a closed firm's assets after its loans: its trade creditors (other_liab, the
    rest of the economy) first, then its owners (households)."""
    owed = firms.other_liab[i]
    trade = amount if amount < owed else owed
    firms.other_liab[i] = owed - trade
    xl.log_table(k, np.int64(X_TRADE_CREDIT), trade, log)
    xl.log_table(k, np.int64(X_RESIDUAL), amount - trade, log)


@njit(inline="always")
def _retire(i, k, reason, firms, log):
    """The firm stops operating: its capacity retires and its row is no longer alive."""
    xl.log_table(k, np.int64(X_RETIRED), firms.capacity[i] + firms.pipeline[i], log)
    firms.alive[i] = False
    firms.exit_reason[i] = reason
    firms.capacity[i] = 0.0
    firms.pipeline[i] = 0.0
    firms.pipeline_cost[i] = 0.0
    firms.share[i] = 0.0


@njit(inline="always")
def _wind_up(i, k, reason, amounts, firms, w, prow, log):
    """What a closure and a default share, with amounts = (compensation, repaid, surplus): `repaid`
    (per real firm) leaves the lenders' books, the lead bears negative deposits (in the closed
    economy), `surplus` goes to the trade creditors, then the owners; the deposits leave the firm and
    it stops operating (w: the row's weight, real firms)."""
    compensation, repaid, surplus = amounts
    c = firms.cash[i] + compensation
    overdraft = -c if c < 0 else 0.0
    xl.log_lenders(i, k, repaid, 0.0, w, prow, log)
    log.book[k, xl.B_OVERDRAFT] = w * overdraft
    _pay_out(i, k, surplus, firms, log)
    xl.log_table(k, np.int64(X_OVERDRAFT), overdraft, log)
    xl.log_table(k, np.int64(X_LOANS_REPAID), repaid, log)
    xl.log_table(k, np.int64(X_COMPENSATION), compensation, log)
    xl.log_table(k, np.int64(X_CASH), -firms.cash[i], log)  # the firm's deposits leave it (to creditors and owners)
    _retire(i, k, reason, firms, log)
    firms.loans[i] -= repaid
    firms.cash[i] = 0.0


@njit(inline="always")
def _close(i, k, how, firms, w, params, prow, log):
    """Close firm i (the k-th leaving row) solvently (its liquidation value covers its loans, `exits`
    and `forced_closures` check): it sells its plant, receivables and inventories at their recovery
    rates, repays its loans in full, pays its trade creditors and hands the rest to its owners. how:
    (exit reason, compensation)."""
    reason, compensation = how
    c = firms.cash[i] + compensation
    scrap = params.other_assets_recovery * firms.other_assets[i] + params.recovery_rate * firms.capital[i]
    repaid = firms.loans[i]
    log.kind[k] = xl.K_CLOSED
    xl.log_table(k, np.int64(X_SCRAP), scrap, log)
    _wind_up(i, k, reason, (compensation, repaid, (c if c > 0 else 0.0) + scrap - repaid), firms, w, prow,
             log)
    firms.loans[i] = 0.0
    firms.guaranteed[i] = 0.0
    firms.capital[i] = 0.0
    firms.other_assets[i] = 0.0
    firms.other_liab[i] = 0.0


@njit(inline="always")
def _default(i, k, how, firms, w, prow, log):
    """Firm i (the k-th leaving row) defaults: it stops operating, its deposits (and any compensation)
    are set off against its loans (what exceeds them goes to its trade creditors, then its owners;
    negative deposits are the lead bank's loss in the closed economy), and its estate enters the court
    procedure with the rest of its loans still on its banks' books (`court` = 1, the first month past
    due). how: (exit reason, compensation)."""
    reason, compensation = how
    loans = firms.loans[i]
    c = firms.cash[i] + compensation
    pos = c if c > 0 else 0.0
    setoff = pos if pos < loans else loans
    if loans > 0:
        firms.guaranteed[i] *= (loans - setoff) / loans
    log.kind[k] = xl.K_DEFAULTED
    xl.log_table(k, X_DEFAULT_SME if firms.sme[i] else X_DEFAULT_LARGE, 1.0, log)
    _wind_up(i, k, reason, (compensation, setoff, pos - setoff), firms, w, prow, log)
    firms.court[i] = 1


@njit(inline="always")
def _settle(i, k, firms, w, params, prow, log):
    """The court procedure of estate i (the k-th leaving row) ends: its plant, receivables and
    inventories are sold at their recovery rates, the procedure's costs (administrator, court,
    auction: the rest of the economy) are paid out of the proceeds, the banks recover the rest up to
    their claim; the guarantee fund pays its share of the loss, the banks write off what is left
    (against the provisions built while the loan aged); any surplus goes to the trade creditors, then
    the owners."""
    loans = firms.loans
    value = params.other_assets_recovery * firms.other_assets[i] + params.recovery_rate * firms.capital[i]
    costs = params.court_cost * value
    net = value - costs
    claim = loans[i]
    repaid = net if net < claim else claim
    loss = claim - repaid
    gshare = firms.guaranteed[i] / claim if claim > 0 else 0.0
    if gshare > 1.0:
        gshare = 1.0
    payout = loss * gshare
    log.kind[k] = xl.K_SETTLED
    xl.log_lenders(i, k, repaid + payout, loss - payout, w, prow, log)
    _pay_out(i, k, net - repaid, firms, log)
    xl.log_table(k, np.int64(X_SCRAP), value, log)
    xl.log_table(k, np.int64(X_COURT_COSTS), costs, log)
    xl.log_table(k, np.int64(X_LOANS_REPAID), repaid, log)
    xl.log_table(k, np.int64(X_WRITE_OFF), loss - payout, log)
    xl.log_table(k, np.int64(X_FUND_PAYOUT), payout, log)
    xl.log_table(k, np.int64(X_SETTLED), 1.0, log)
    xl.log_table(k, np.int64(X_CLAIMS_SETTLED), claim, log)
    firms.court[i] = 0
    loans[i] = 0.0
    firms.guaranteed[i] = 0.0
    firms.capital[i] = 0.0
    firms.other_assets[i] = 0.0
    firms.other_liab[i] = 0.0


@njit(inline="always")
def _rescue(i, k, rolled, firms, w, params, prow, log):
    """Firm i (the k-th leaving row) would default: its local government (a state-owned firm,
    `soft_budget`) pays it what brings its deposits and its equity back to zero if that is within
    `soft_budget_limit` of its annual sales; else, if its lead bank rolls it over (`rolled`:
    `_rolls_over`), the bank lends it what brings its deposits back to zero, each lender its share,
    and its equity may stay negative. Returns whether the firm was kept (its kind in the log:
    K_SUPPORTED, K_EVERGREENED)."""
    c = firms.cash[i]
    nw = firms.net_worth[i]
    short = -c if c < 0 else 0.0
    need = -nw if -nw > short else short
    if params.soft_budget and firms.soe[i] and need <= params.soft_budget_limit * 12.0 * firms.revenue[i]:
        firms.cash[i] = c + need
        firms.net_worth[i] = nw + need
        log.kind[k] = xl.K_SUPPORTED
        xl.log_table(k, np.int64(X_SUPPORT), need, log)
        xl.log_table(k, np.int64(X_SUPPORTED), 1.0, log)
        xl.log_table(k, np.int64(X_CASH), need, log)
        return True
    if not rolled:
        return False
    # new loans from each lender, its share (a repayment of -short; nothing written off)
    log.kind[k] = xl.K_EVERGREENED
    xl.log_lenders(i, k, -short, 0.0, w, prow, log)
    firms.loans[i] += short
    firms.cash[i] = c + short
    xl.log_table(k, np.int64(X_EVERGREEN), short, log)
    xl.log_table(k, np.int64(X_EVERGREENED), 1.0, log)
    xl.log_table(k, np.int64(X_CASH), short, log)
    return True


@njit(inline="always")
def _rolls_over(i, u, firms, banks, params):
    """Whether the lead bank of firm i, which would default, rolls its loan over (`evergreening`: with
    probability `evergreen_probability` against u, if it has loans and the bank is open)."""
    if not params.evergreening or not firms.alive[i] or firms.exit_reason[i] != EXIT_BANKRUPTCY or firms.loans[i] <= 0:
        return False
    b = np.uint64(firms.bank[i])
    return banks.alive[b] and u < evergreen_probability(firms.soe[i], banks.capital_ratio[b], params)


@kernel
def _leave(k, i, rolled, firms, sectors, params, prow, log):
    """The own work of row i, the k-th leaving (`exit_books`): an estate is liquidated; a firm that
    would default is first offered the rescue, then defaults; the others close. What it adds to the
    shared sums goes to the log. rolled: `_rolls_over`."""
    s = np.uint64(firms.sector[i])
    log.sector[k] = firms.sector[i]
    log.bank[k] = firms.bank[i]
    if not firms.alive[i]:
        _settle(i, k, firms, sectors.weight[s], params, prow, log)
        return
    reason = firms.exit_reason[i]
    w = sectors.weight[s]
    if reason == EXIT_BANKRUPTCY:
        if (params.soft_budget or params.evergreening) and _rescue(i, k, rolled, firms, w, params, prow,
                                                                     log):
            firms.exit_reason[i] = 0
            extra = log.extra
            extra[k, xl.E_CAPACITY] = firms.capacity[i]
            extra[k, xl.E_PIPELINE] = firms.pipeline[i]
            extra[k, xl.E_ZOMBIE] = 1.0 if is_zombie(firms.age[i], firms.weak_months[i]) else 0.0
            extra[k, xl.E_LOANS] = firms.loans[i]
            extra[k, xl.E_LATE] = w * firms.loans[i]
            extra[k, xl.E_DEPOSITS] = w * firms.cash[i]
            return
        xl.log_table(k, np.int64(X_BANKRUPT), 1.0, log)
        xl.log_table(k, X_BANKRUPT_SME if firms.sme[i] else X_BANKRUPT_LARGE, 1.0, log)
        _default(i, k, (reason, 0.0), firms, w, prow, log)
        log.extra[k, xl.E_LATE] = w * firms.loans[i]
    else:
        xl.log_table(k, np.int64(X_VOLUNTARY), 1.0, log)
        _close(i, k, (reason, 0.0), firms, w, params, prow, log)


@kernel(parallel=True)
def exit_decisions(firms, banks, sectors, params, min_share, n_sectors):
    """The first pass of `exits`, in parallel: each live firm's interest-coverage counter
    (`weak_months`) moves on; who defaults or leaves (the reason goes to `exit_reason` of a row still
    alive), the estates' court procedure a month on (those that have run `court_months` leave), and
    the survivors' sums by chunk. Returns the rows leaving (in row order) and, by chunk, the sector
    sums (live firms, capacity, pipeline, zombies, zombies' loans), the loans owed to each lead bank
    and the deposits (column 0)."""
    # arrays the parallel loop writes must be bound to locals before it (a write through
    # `firms.x[i]` inside prange is lost); the reads are bound too, so the loop is unchanged
    exit_reason = firms.exit_reason
    court = firms.court
    alive = firms.alive
    sector = firms.sector
    cash = firms.cash
    net_worth = firms.net_worth
    loss_months = firms.loss_months
    weak_months = firms.weak_months
    profit_year = firms.profit_year
    age = firms.age
    share = firms.share
    capacity = firms.capacity
    pipeline = firms.pipeline
    bank = firms.bank
    loans = firms.loans
    other_assets = firms.other_assets
    capital = firms.capital
    weight = sectors.weight
    loss_months_exit = params.loss_months_exit
    court_months = params.court_months
    needs_loss = params.min_share_needs_loss
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, n_sectors, 5))
    part_bank = np.zeros((nc, banks.loans.shape[0]))
    part_dep = np.zeros((nc, 8))  # padded: chunks write their own cache line
    leaving = np.empty(n, dtype=np.int64)  # chunk c's exiting rows from c * cs on, in row order
    n_leaving = np.zeros(nc, dtype=np.int64)
    for c in prange(nc):
        t = part[c]
        fs = part_bank[c]
        dep = 0.0
        k = np.int64(c) * cs
        for i in rows_of(c, cs, n):
            if not alive[i]:
                if court[i] > 0:  # an estate: one more month in the procedure
                    m = court[i] + 1
                    court[i] = m
                    if m > court_months:
                        leaving[k] = i
                        k += 1
                    else:
                        fs[np.uint64(bank[i])] += weight[np.uint64(sector[i])] * loans[i]
                continue
            s = np.uint64(sector[i])
            cash_i = cash[i]
            wk = weak_next(weak_months[i], profit_year[i], loans[i])
            weak_months[i] = wk
            if net_worth[i] < 0 or cash_i < 0:
                exit_reason[i] = EXIT_BANKRUPTCY
                leaving[k] = i
                k += 1
            elif loss_months[i] >= loss_months_exit or (share[i] < min_share[s]
                                                        and (not needs_loss or profit_year[i] < 0)):
                # leaves; solvently only if its assets at their liquidation values cover its loans
                if liquidation_value(cash_i, other_assets[i], capital[i], params) >= loans[i]:
                    exit_reason[i] = EXIT_VOLUNTARY
                else:
                    exit_reason[i] = EXIT_BANKRUPTCY
                leaving[k] = i
                k += 1
            else:
                w = weight[s]
                t[s, 0] += 1.0
                t[s, 1] += capacity[i]
                t[s, 2] += pipeline[i]
                if is_zombie(age[i], wk):
                    t[s, 3] += 1.0
                    t[s, 4] += loans[i]
                fs[np.uint64(bank[i])] += w * loans[i]
                dep += w * cash_i
        part_dep[c, 0] = dep
        n_leaving[c] = k - np.int64(c) * cs
    total = 0
    for c in range(nc):
        total += n_leaving[c]
    rows = np.empty(total, dtype=np.int64)
    j = 0
    for c in range(nc):
        for k in range(c * cs, c * cs + n_leaving[c]):
            rows[j] = leaving[k]
            j += 1
    return rows, part, part_bank, part_dep


@kernel(parallel=True)
def exit_books(decided, u, firms, banks, sectors, params, books):
    """The second pass of `exits`, over the rows `exit_decisions` found leaving (`decided`: its
    result, the rows in row order and the survivors' sums by chunk; `u`: a uniform for each row,
    stream `evergreening`): estates are liquidated; a firm that would default is first offered the
    rescue (`_rescue`: soft budget, evergreening), then defaults; the others close. The rows' own work
    in parallel (`_leave`), their additions to the shared sums after, serially in row order (`book_row`:
    the same sums, bit for bit, as one serial pass). Sums the survivors (the rescued included) into
    `totals` (sector: live firms, capacity, pipeline), the zombies into the table; returns the
    survivors' deposits and the largest gap between a bank's books and its firms' loans. books:
    ExitBooks (writeoff added to; table and totals written; parts read)."""
    rows, part, part_bank, part_dep = decided
    table, totals, parts = books.table, books.totals, books.parts
    m = rows.shape[0]
    log = xl.exit_log(m, table.shape[1])
    # (a call for each row: a write through `firms.x[i]` inside prange is lost; given the log's arrays:
    # numba's parallel loop cannot take a tuple made in the kernel)
    prow, (a0, a1, a2, a3, a4, a5, a6, a7) = parts.row, log
    for k in prange(m):  # (k as int64: numba types the prange index int64 in the kernel and uint64 in the
        # parallel loop's body, and compiled `_leave` for both)
        xl.prefetch_leaving(rows, np.int64(k), firms)
        i = np.uint64(rows[k])
        _leave(np.int64(k), i, _rolls_over(i, u[k], firms, banks, params), firms, sectors, params, prow,
               xl.ExitLog(a0, a1, a2, a3, a4, a5, a6, a7))
    table[:, :] = 0.0
    firm_side = np.zeros(banks.loans.shape[0])
    extra = np.zeros((totals.shape[0], 5))  # the rescued firms' sums
    late = np.zeros(firm_side.shape[0])  # loans owed by the new estates and the rescued firms
    deposits_rescued = 0.0
    for k in range(m):
        xl.book_row(k, log, banks, params, books)
        kind = log.kind[k]
        b = np.uint64(log.bank[k])
        if kind == xl.K_SUPPORTED or kind == xl.K_EVERGREENED:
            s = np.uint64(log.sector[k])
            x = log.extra
            extra[s, 0] += 1.0
            extra[s, 1] += x[k, xl.E_CAPACITY]
            extra[s, 2] += x[k, xl.E_PIPELINE]
            if x[k, xl.E_ZOMBIE] > 0:
                extra[s, 3] += 1.0
                extra[s, 4] += x[k, xl.E_LOANS]
            late[b] += x[k, xl.E_LATE]
            deposits_rescued += x[k, xl.E_DEPOSITS]
        elif kind == xl.K_DEFAULTED:
            late[b] += log.extra[k, xl.E_LATE]
    sums = np.zeros((totals.shape[0], 5))  # the survivors' (number, capacity, pipeline, zombies, their loans)
    add_chunks(sums, part)
    add_chunks(firm_side, part_bank)
    deposits = 0.0
    for c in range(part.shape[0]):
        deposits += part_dep[c, 0]
    for s in range(totals.shape[0]):
        for j in range(3):
            totals[s, j] = sums[s, j] + extra[s, j]
        table[s, X_ZOMBIES] = sums[s, 3] + extra[s, 3]
        table[s, X_ZOMBIE_LOANS] = sums[s, 4] + extra[s, 4]
    for b in range(late.shape[0]):
        firm_side[b] += late[b]
    deposits += deposits_rescued
    # the survivors' and the estates' participations
    shift_loans(parts, firms, sectors.weight, np.zeros(0), firm_side)
    return deposits, book_gap(firm_side, banks.loans)


def exits(firms, banks, sectors, params, min_share, books):
    """Default when net worth or cash (after credit) is negative; exit after `loss_months_exit`
    consecutive loss-making months or when the market share has fallen below the sector's minimum
    (Dosi et al. 2010): voluntary if the firm's liquidation value covers its loans, else a default
    too (unless a rescue keeps the firm: `_rescue`); the court procedure of every estate moves on a
    month, and those that have run `court_months` are liquidated.

    Two passes: the decisions in parallel (`exit_decisions`), then over the rows leaving the defaults,
    rescues, closures and liquidations (`exit_books`). The survivors' sums come out of the
    first pass, each in the chunks and order of the kernel that would otherwise sum it (so the same
    numbers): number, capacity and pipeline by sector into `totals` (sums.sector_totals), the loans
    each bank's firms and estates owe it (sums.loan_gap), and their deposits (sums.weighted_sum of
    cash); rescued firms are added after. Returns the deposits and the largest gap between a bank's
    books and its firms' loans. Here every uniform is 1: no evergreening (the model draws them
    between the passes, phases.firms). Plain Python calling the two kernels.

    firms: FirmState; banks: BankState (their loans move with each closure); sectors:
    SectorTables; params: ExitParams; min_share: by sector; books: ExitBooks."""
    return _exits(exit_decisions, exit_books, firms, banks, sectors, params, min_share, books)


def _exits(decide, book, firms, banks, sectors, params, min_share, books):
    decided = decide(firms, banks, sectors, params, min_share, books.totals.shape[0])
    return book(decided, np.ones(decided[0].shape[0]), firms, banks, sectors, params, books)


def _exits_py(*args):
    """`exits` with the kernels' Python code (tests: the kernels against their Python code)."""
    return _exits(exit_decisions.py_func, exit_books.py_func, *args)


# (a plain function calling the two kernels: a cached kernel calling a parallel one crashes when it is
# loaded from numba's cache)
exits.py_func = _exits_py


@kernel
def forced_closures(order, fraction, compensation, firms, banks, sectors, params, books):
    """Close the firms in `order` (fraction 1: the whole firm, solvently if its liquidation value
    with the compensation covers its loans, else by default into the court procedure; below 1: that
    share of its capacity, scrapping the same share of its fixed capital). The government pays
    compensation as a share of the book value of the capital closed (`compensation`, by sector).
    Serial: each row's work and then its bookings (`book_row`). books: ExitBooks (totals unused)."""
    table = books.table
    log = xl.exit_log(order.shape[0], table.shape[1])
    for k in range(order.shape[0]):
        i = np.uint64(order[k])
        s = np.uint64(firms.sector[i])
        f = fraction[k]
        if f >= 1.0:
            comp = compensation[s] * firms.capital[i]
            table[s, X_FORCED] += 1
            if is_zombie(firms.age[i], firms.weak_months[i]):  # counted among the survivors by `exits`
                table[s, X_ZOMBIES] -= 1
                table[s, X_ZOMBIE_LOANS] -= firms.loans[i]
            log.sector[k] = firms.sector[i]
            log.bank[k] = firms.bank[i]
            value = liquidation_value(firms.cash[i] + comp, firms.other_assets[i], firms.capital[i], params)
            if firms.cash[i] + comp >= 0 and value >= firms.loans[i]:
                _close(i, k, (EXIT_FORCED, comp), firms, sectors.weight[s], params, books.parts.row, log)
            else:
                _default(i, k, (EXIT_FORCED, comp), firms, sectors.weight[s], books.parts.row, log)
            xl.book_row(k, log, banks, params, books)
        else:
            comp = compensation[s] * firms.capital[i] * f
            firms.cash[i] += comp
            table[s, X_CASH] += comp
            table[s, X_COMPENSATION] += comp
            table[s, X_RETIRED] += firms.capacity[i] * f
            firms.capacity[i] -= firms.capacity[i] * f
            firms.capital[i] -= firms.capital[i] * f
