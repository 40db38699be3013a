"""Credit market kernels (MODEL.md step 7): credit scores, repayments and applications, the serving
order and the banks drawn by size, and the books closed after the allocation (the allocation of
loans by banks that rank applicants by score and lend within their capital constraint is in
`credit_allocation`).

Bank-level amounts (room, books) are economy-wide yuan: a simulated firm's amounts are multiplied
by its sector weight (real firms per simulated firm).
"""

from __future__ import annotations

import operator
from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._numba import chunks, kernel, rows_of
from .elementary import add_chunks, logistic

_GETTERS: dict[type, operator.attrgetter] = {}


def view(kind, bundle):
    """The fields of the named-tuple type `kind` taken from `bundle` (FirmState, BankState,
    SectorTables: the arrays of those names). A kernel given only the arrays it reads unboxes only
    those: numba unboxes every array of a tuple argument at every call, about 0.13 us each, so
    FirmState's 45 cost 6-8 us a call, a five-array view about 1 with its making."""
    get = _GETTERS.get(kind)
    if get is None:
        get = _GETTERS[kind] = operator.attrgetter(*kind._fields)
    values = get(bundle)
    return kind._make(values if len(kind._fields) > 1 else (values,))


# the arrays kernels read of the sectors and of the banks, where that is one
Weights = namedtuple("Weights", ("weight",))
BankLoans = namedtuple("BankLoans", ("loans",))


# the credit-score model's parameters (the banking settings of the same names, and the policy's
# implicit guarantee of state-owned firms)
SCORE_FIELDS = {
    "pd_intercept": (float, "intercept of the log-odds of annual default"),
    "pd_leverage": (float, "log-odds per unit of leverage (loans over assets)"),
    "pd_loss": (float, "log-odds added after three or more consecutive loss-making months"),
    "pd_sme": (float, "log-odds added for an SME"),
    "pd_margin": (float, "log-odds taken off per unit of profit margin (net profit over revenue)"),
    "soe_implicit_guarantee": (float, "share of a state-owned firm's default probability banks disregard"),
}
ScoreParams = namedtuple("ScoreParams", tuple(SCORE_FIELDS))


def score_params(banking, policy) -> ScoreParams:
    """From the scenario's banking settings and the policy in force (the implicit guarantee)."""
    return ScoreParams(*(kind(getattr(policy if name == "soe_implicit_guarantee" else banking, name))
                         for name, (kind, _) in SCORE_FIELDS.items()))



@njit(inline="always")
def lent(granted, i):
    """The new credit row i was granted this month (`Scratch.granted`; a negative value there is no
    loan but a renewed instalment, `renewed`)."""
    g = granted[i]
    return g if g > 0.0 else 0.0


@njit(inline="always")
def renewed(granted, repaid, rolled, i):
    """The part of row i's instalment its banks renewed this month (`repay_and_apply`): all of it or
    nothing, so the scratch keeps a flag (`rolled`, 1 byte a row instead of 8) and finds the amount
    where it already is: a firm that asks for no credit has its row of `granted` free, and keeps the
    instalment there negated; an applicant (which pays no debt down beside it) has it in `repaid`.
    (From the credit step's end on `repaid` holds uniforms (`rng.DrawPool`): `credit_close` keeps the
    applicants' renewals per applicant for the records.)"""
    if not rolled[i]:
        return 0.0
    g = granted[i]
    return -g if g < 0.0 else repaid[i]


@njit(inline="always")
def credit_score(assets, loans, net, revenue, loss_months, sme, params):
    """Log-odds of annual default: leverage (loans over assets), persistent losses (three months or
    more), size and margin (net profit over revenue); params: ScoreParams. Inlined into
    `accounting.income` too: numba caches a kernel by its own file, so after changing this clear
    sim/kernels/__pycache__."""
    lev = loans / assets if assets > 0 else 1.0
    m = net / revenue if revenue > 0 else -0.1
    return (params.pd_intercept + params.pd_leverage * lev + (params.pd_loss if loss_months >= 3 else 0.0)
            + (params.pd_sme if sme else 0.0) - params.pd_margin * m)


@njit(inline="always")
def default_probability(score, soe, soe_cut):
    """The score's logistic; state-owned firms get an implicit-guarantee discount."""
    p = logistic(score)
    return p * (1.0 - soe_cut) if soe else p


@kernel(parallel=True)
def credit_scores(firms, params):
    """Annual probability of default banks assign (`credit_score`, `default_probability`); the
    income pass computes the same each month (`accounting.income`).

    firms: FirmState (reads alive, soe, sme, loans, cash, capital, other_assets, profit, revenue,
    loss_months; writes pd, 0 for an empty row); params: ScoreParams."""
    # the array the loop writes must be bound to a local before it (a write through `firms.pd[i]`
    # inside prange is lost); the reads are bound too, so the loop is the one it had before bundles
    pd = firms.pd
    alive = firms.alive
    soe = firms.soe
    sme = firms.sme
    loans = firms.loans
    cash = firms.cash
    capital = firms.capital
    other_assets = firms.other_assets
    profit = firms.profit
    revenue = firms.revenue
    loss_months = firms.loss_months
    soe_cut = params.soe_implicit_guarantee
    for i in prange(alive.shape[0]):
        if not alive[i]:
            pd[i] = 0.0
            continue
        x = credit_score(cash[i] + capital[i] + other_assets[i], loans[i], profit[i], revenue[i], loss_months[i],
                         sme[i], params)
        pd[i] = default_probability(x, soe[i], soe_cut)


_BUCKETS = 4096  # cells of the table where the search for a drawn bank starts


@kernel
def bank_search_start(size_cdf):
    """For each 1/_BUCKETS of the unit interval, the first bank whose cumulative share exceeds the
    cell's lower end (see `drawn_bank`)."""
    # one walk up the cumulative shares (ascending) instead of a binary search per cell: the same
    # first index whose share exceeds the cell's lower end, in 4,097 + banks steps
    start = np.empty(_BUCKETS + 1, dtype=np.int64)
    n_banks = size_cdf.shape[0]
    b = 0
    for cell in range(_BUCKETS + 1):
        x = cell / _BUCKETS
        while b < n_banks and size_cdf[b] <= x:
            b += 1
        start[cell] = b
    return start


@kernel
def drawn_bank(x, size_cdf, start):
    """The bank whose size-CDF interval holds the uniform x: the first bank whose cumulative share
    exceeds x (searchsorted, side="right"), the last bank if none does; the search starts from the
    table `start` (`bank_search_start`)."""
    n_banks = size_cdf.shape[0]
    cell = int(x * _BUCKETS)  # exact: the table's step is a power of two
    b = start[cell if cell < _BUCKETS else _BUCKETS]
    while b < n_banks and size_cdf[b] <= x:
        b += 1
    return b if b < n_banks - 1 else n_banks - 1


@kernel(parallel=True)
def banks_by_size(u, size_cdf, out):
    """out[i] = drawn_bank(u[i]): each firm's bank drawn by size (set-up)."""
    start = bank_search_start(size_cdf)
    for i in prange(u.shape[0]):
        out[i] = drawn_bank(u[i], size_cdf, start)


_DIGIT = 8  # bits per radix pass: 256 buckets, few enough write streams for the caches
_RADIX = 1 << _DIGIT
_SORT_BLOCK = 8192  # keys a block of `score_order`'s passes counts and moves (blocks run in parallel)
_FEW_KEYS = 1024  # up to this many applicants a merge sort is quicker than the radix sort's passes


@kernel
def _few_scores_order(applicants, pd):
    """`score_order` of a few applicants: a stable merge sort of the same keys, so the same order. The
    radix sort's eight passes over 256 buckets, sixteen parallel regions, took 19 us for 40 keys
    (a 300-firm economy's applicants), the merge sort 1 us; they break even at about 1,500 keys."""
    n = applicants.shape[0]
    keys = np.empty(n, dtype=np.uint64)
    for k in range(n):
        keys[k] = np.float64(pd[np.uint64(applicants[k])] + 0.0).view(np.uint64)
    return np.argsort(keys, kind="mergesort")


@kernel
def order_by_score(applicants, pd):
    """The applicants (rows, in row order) sorted by default probability, best first; ties keep row
    order (rows; `score_order` gives their positions in `applicants`)."""
    return applicants[score_order(applicants, pd)]


@kernel(parallel=True)
def score_order(applicants, pd):
    """Positions in `applicants` (rows, in row order) by default probability, best first; ties keep
    row order. The same order as a stable argsort of pd[applicants], made by a least-significant-digit
    radix sort of the probabilities' bit patterns (non-negative doubles sort like their bits as
    unsigned integers), a byte a pass, skipping bytes that all keys share. Each pass counts and
    moves the keys in fixed blocks (in parallel); a block's keys of one digit go after those of
    the blocks before it, so the order is the serial sort's whatever the number of threads."""
    n = applicants.shape[0]
    if n <= _FEW_KEYS:
        return _few_scores_order(applicants, pd)
    # blocks of _SORT_BLOCK keys, not the fixed chunks of rows: a stable sort has one result, so any
    # blocking gives it, and at 1:1 (about 50,000 applicants, one chunk) the sort ran on one thread
    cs = _SORT_BLOCK
    nc = max((n + cs - 1) // cs, 1)
    keys = np.empty(n, dtype=np.uint64)
    idx = np.empty(n, dtype=np.int64)
    for c in prange(nc):
        for k in rows_of(c, cs, n):
            keys[k] = np.float64(pd[np.uint64(applicants[k])] + 0.0).view(np.uint64)  # + 0.0: -0.0 becomes 0.0
            idx[k] = k
    tmp_k = np.empty(n, dtype=np.uint64)
    tmp_i = np.empty(n, dtype=np.int64)
    count = np.zeros((nc, _RADIX), dtype=np.int64)
    mask = np.uint64(_RADIX - 1)
    for shift in range(0, 64, _DIGIT):
        sh = np.uint64(shift)
        for c in prange(nc):
            cnt = count[c]
            cnt[:] = 0
            for k in rows_of(c, cs, n):
                cnt[(keys[k] >> sh) & mask] += 1
        total = 0
        moves = False
        for d in range(_RADIX):  # where each chunk's keys of digit d start
            in_d = 0
            for c in range(nc):
                v = count[c, d]
                count[c, d] = total
                total += v
                in_d += v
            if 0 < in_d < n:
                moves = True
        if not moves:
            continue  # every key has this digit: the pass would not move anything
        for c in prange(nc):
            at = count[c]
            for k in rows_of(c, cs, n):
                d = (keys[k] >> sh) & mask
                tmp_k[at[d]] = keys[k]
                tmp_i[at[d]] = idx[k]
                at[d] += 1
        keys, tmp_k = tmp_k, keys
        idx, tmp_i = tmp_i, idx
    return idx


# the scalar parameters of repayment and application (the behaviour, banking and policy settings of the
# same names, and this month's review month)
REPAY_FIELDS: dict[str, tuple[type, str]] = {
    "cash_buffer_months": (float, "cash a firm keeps, months of revenue"),
    "leverage_review_share": (float, "share of the gap to its target debt a firm borrows at its yearly review"),
    "leverage_reduction_share": (float, "share of its debt above target a firm pays down at its yearly review, "
                                        "from deposits beyond its needs and cash buffer"),
    "review_month": (int, "this month's number modulo 12: the firms whose firm_id modulo 12 equals it review "
                          "their credit line"),
    "loan_maturity": (float, "months over which a loan amortises (1/maturity repaid a month)"),
    "pd_rollover_max": (float, "highest default probability at which the own bank renews the instalment, 1/yr"),
    "passive": (bool, "passive lender (banking.market): the limit is max_debt_to_assets of assets"),
    "max_debt_to_assets": (float, "loans over assets beyond which the passive lender grants nothing, share"),
    "collateral_haircut_capital": (float, "haircut on fixed capital pledged as collateral, share"),
    "pledge_haircut": (float, "haircut on pledged receivables and IP, share"),
    "receivables_pledge": (float, "share of receivables and inventories (other assets) that counts as collateral"),
    "ip_pledge": (float, "intellectual property that counts as collateral, share of fixed capital"),
    "unsecured_sme": (float, "unsecured credit to private SMEs, share of assets"),
    "unsecured_large": (float, "unsecured credit to large and state-owned firms, share of assets"),
    "soe_unsecured": (float, "extra unsecured credit to state-owned firms, share of assets "
                             "(banking.soe_unsecured x policy.soe_implicit_guarantee)"),
}
RepayParams = namedtuple("RepayParams", tuple(REPAY_FIELDS))
# what repay_and_apply reads and writes of the firms (FirmState's fields of these names) and the sectors
RepayRows = namedtuple("RepayRows", (
    "alive", "sector", "bank", "sme", "soe", "pd", "firm_id", "leverage_target", "pipeline_cost", "plan_expansion",
    "plan_upgrade", "revenue", "capital", "other_assets", "other_liab", "loans", "guaranteed", "cash"))
RepaySectors = namedtuple("RepaySectors", ("weight", "lag"))
# what credit_close reads of the firms
CloseRows = namedtuple("CloseRows", ("alive", "court", "sector", "bank", "cash", "loans"))


def repay_params(behaviour, banking, policy, month: int, review_share: float) -> RepayParams:
    """The parameters of `repay_and_apply` from the behaviour, banking (`scenario.banking`) and policy
    settings, the month's number and the share of the leverage gap borrowed at a review."""
    values = dict(
        cash_buffer_months=behaviour.cash_buffer_months,
        leverage_review_share=review_share, leverage_reduction_share=review_share * behaviour.leverage_reduction,
        review_month=month % 12, loan_maturity=behaviour.loan_maturity,
        pd_rollover_max=banking.pd_rollover_max, passive=banking.market == "passive",
        max_debt_to_assets=behaviour.max_debt_to_assets, collateral_haircut_capital=banking.collateral_haircut_capital,
        pledge_haircut=policy.pledge_haircut, receivables_pledge=policy.receivables_pledge,
        ip_pledge=policy.ip_pledge, unsecured_sme=banking.unsecured_sme, unsecured_large=banking.unsecured_large,
        soe_unsecured=banking.soe_unsecured * policy.soe_implicit_guarantee)
    return RepayParams(*(kind(values[name]) for name, (kind, _) in REPAY_FIELDS.items()))


@kernel(parallel=True)
def repay_and_apply(firms, banks, scratch, sectors, prices, factor, params):
    """Step 7 up to the allocation, firm by firm: the funds the firm needs beyond its deposits (the
    instalment on its pipeline, the first instalment of new projects within the capacity rules
    (`factor` by sector), its own share of a planned upgrade, a cash buffer of `cash_buffer_months`
    of revenue, and a share `leverage_review_share` of the gap to its own target debt-to-assets ratio
    (`leverage_target`), at the firm's yearly credit-line review: in the months whose number modulo 12
    equals its firm_id modulo 12, so `review_month` is the month's number modulo 12); amortisation
    (each loan repays 1/loan_maturity a month from deposits); net worth; renewal of the instalment by
    the own bank (relationship lending) unless the firm is insolvent or its default risk exceeds
    `pd_rollover_max`, which leaves the bank's risk-weighted assets as they were; at its review a
    firm so renewed whose debt is above its target pays down `leverage_reduction_share` of the excess
    besides, at most its deposits beyond its needs and cash buffer (partial adjustment in both
    directions: `repaid` holds it with the instalment, the guaranteed part falls pro rata); then the
    firm's request (need plus the instalment not renewed) and its borrowing limit (collateral plus
    unsecured credit; nothing without positive net worth). Each bank's book changes by the sum of
    its firms' repayments and renewals (summed in fixed chunks of rows).

    firms: RepayRows (or FirmState; reads alive, sector, bank, sme, soe, pd, firm_id, leverage_target,
    pipeline_cost, plan_expansion, plan_upgrade, revenue, capital, other_assets, other_liab; writes
    loans, guaranteed, cash); banks: BankLoans (or BankState; writes loans); scratch: ScratchState
    (writes repaid, rolled and, for every row, denied and granted: zero, or the renewed instalment
    negated for a row that asks for no credit, `renewed`); sectors: RepaySectors (weight, lag);
    prices: investment.InvestmentPrices (capital_per_capacity, subsidy); factor: the capacity rules'
    factor by sector; params: RepayParams. Returns the number of applicants, the guaranteed loans
    outstanding after amortisation (economy-wide yuan, as `sums.weighted_sum` sums them), and the
    applicants' rows (in row order: int32), requests and limits: only applicants need these, so they
    are not kept per row. One pass over the rows: each chunk lists its applicants (row, request and
    limit, made from the row's values as the pass stores them) in temporaries from its first row's
    place on, and the chunks' lists are then joined in chunk order (the rows in row order). (Until
    2026-12 a second pass over every row found the applicants staged in `granted` and `denied` and
    read their rows again for the limits: the same results, in 1:1 month 5 on one thread 7.2 -> 6.5
    ms CPU, the fastest of 40 calls.)"""
    # arrays the loop writes must be bound to locals before it (a write through `firms.x[i]` inside
    # prange is lost, state.py); the reads are bound too, so the loop is the one it was before bundles
    loans = firms.loans
    guaranteed = firms.guaranteed
    cash = firms.cash
    bank_loans = banks.loans
    repaid = scratch.repaid
    rolled = scratch.rolled
    granted = scratch.granted  # (and the staging of the requests)
    broke = scratch.denied  # (False for every row here: `credit_close` writes the refusals)
    alive = firms.alive
    sector = firms.sector
    bank = firms.bank
    sme = firms.sme
    soe = firms.soe
    pd = firms.pd
    firm_id = firms.firm_id
    pipeline_cost = firms.pipeline_cost
    plan_expansion = firms.plan_expansion
    plan_upgrade = firms.plan_upgrade
    revenue = firms.revenue
    capital = firms.capital
    other_assets = firms.other_assets
    other_liab = firms.other_liab
    weight = sectors.weight
    lag = sectors.lag
    cap_per_capacity = prices.capital_per_capacity
    subsidy = prices.subsidy
    buffer_months = params.cash_buffer_months
    lev_target = firms.leverage_target
    lev_speed = params.leverage_review_share
    lev_down = params.leverage_reduction_share
    review_month = params.review_month
    maturity = params.loan_maturity
    pd_roll = params.pd_rollover_max
    passive = params.passive
    max_debt_to_assets = params.max_debt_to_assets
    haircut_capital = params.collateral_haircut_capital
    pledge_haircut = params.pledge_haircut
    receivables_pledge = params.receivables_pledge
    ip_pledge = params.ip_pledge
    unsecured_sme = params.unsecured_sme
    unsecured_large = params.unsecured_large
    soe_unsecured = params.soe_unsecured
    n = alive.shape[0]
    n_b = bank_loans.shape[0]
    nc, cs = chunks(n)
    tame = maturity > 0.0  # then 0 - 0 / maturity is 0.0 (from either zero)
    delta = np.zeros((nc, n_b))
    n_part = np.zeros((nc, 8), dtype=np.int64)
    g_part = np.zeros((nc, 8))  # padded: chunks write their own cache line
    # each chunk's applicants (row, request, limit) from the chunk's first row's place on: the
    # chunks' lists are joined in chunk order after the loop (the rows in row order); only the
    # places written are touched
    c_rows = np.empty(n, dtype=np.int32)
    c_request = np.empty(n)
    c_limit = np.empty(n)
    for c in prange(nc):
        d = delta[c]
        first = c * cs
        k = 0
        g_sum = 0.0
        for i in rows_of(c, cs, n):
            granted[i] = 0.0
            broke[i] = False
            if not alive[i]:
                repaid[i] = 0.0
                rolled[i] = False
                continue
            s = np.uint64(sector[i])
            b = np.uint64(bank[i])
            w = weight[s]
            cash_i = cash[i]
            capital_i = capital[i]
            other_i = other_assets[i]
            liab_i = other_liab[i]
            loans_i = loans[i]
            lg = lag[s] if lag[s] > 1 else 1
            spend = (pipeline_cost[i] / lg + plan_expansion[i] * factor[s] * cap_per_capacity[s] / lg
                     + plan_upgrade[i] * (1 - subsidy[s]))
            short = spend + buffer_months * revenue[i] - cash_i  # negative: deposits beyond needs
            need = short if short > 0.0 else 0.0
            # firms keep their leverage: they borrow part of the gap to their target debt-to-assets
            gap = lev_target[i] * (cash_i + capital_i + other_i) - loans_i - liab_i
            review = firm_id[i] % 12 == review_month
            if gap > 0.0 and review:
                need += lev_speed * gap
            due = 0.0
            g_i = guaranteed[i]
            if loans_i > 0:
                due = loans_i / maturity
                loans_i -= due
                if g_i != 0.0 or not tame:  # (most rows: none guaranteed; a zero stays 0.0, the division saved)
                    g_i -= g_i / maturity
                else:
                    g_i = 0.0
                cash_i -= due
                d[b] -= w * due
            nw = cash_i + capital_i + other_i - loans_i - liab_i  # (stored by the investment step)
            rol = 0.0
            down = 0.0  # debt paid down toward the target at the review, beyond the instalment
            if due > 0 and nw > 0 and pd[i] <= pd_roll:
                loans_i += due
                cash_i += due
                d[b] += w * due
                rol = due
                if review and gap < 0.0 and short < 0.0:
                    down = lev_down * -gap
                    if down > -short:
                        down = -short
                    if down > loans_i:
                        down = loans_i
                    g_i -= g_i * (down / loans_i)
                    loans_i -= down
                    cash_i -= down
                    d[b] -= w * down
            guaranteed[i] = g_i
            g_sum += w * g_i
            loans[i] = loans_i
            cash[i] = cash_i
            repaid[i] = due + down
            rolled[i] = rol > 0.0  # (the amount: `renewed`)
            req = need + (due - rol)
            if req > 0:
                # an applicant: its request, and its borrowing limit (collateral plus unsecured
                # credit, on the state after the renewal; nothing without positive net worth)
                assets = cash_i + capital_i + other_i
                if passive:
                    lim = max_debt_to_assets * assets - loans_i
                else:
                    collateral = ((1 - haircut_capital) * capital_i
                                  + (1 - pledge_haircut) * (receivables_pledge * other_i + ip_pledge * capital_i))
                    soe_i = soe[i]
                    u = unsecured_sme if (sme[i] and not soe_i) else unsecured_large
                    u = u + (soe_unsecured if soe_i else 0.0)
                    lim = collateral + u * assets - loans_i
                if lim < 0.0 or nw <= 0:
                    lim = 0.0
                c_rows[first + k] = i
                c_request[first + k] = req
                c_limit[first + k] = lim
                k += 1
            elif rol > 0.0:
                granted[i] = -rol  # the renewal of a row that asks for nothing (`renewed`)
        n_part[c, 0] = k
        g_part[c, 0] = g_sum
    n_app = 0
    outstanding = 0.0
    add_chunks(bank_loans, delta)
    for c in range(nc):
        outstanding += g_part[c, 0]
        k = n_part[c, 0]
        n_part[c, 1] = n_app  # where the chunk's applicants start
        n_app += k
    applicants = np.empty(n_app, dtype=np.int32)
    app_request = np.empty(n_app)
    app_limit = np.empty(n_app)
    for c in range(nc):  # (one loop: a few percent of the rows, not worth a parallel region)
        at = n_part[c, 1]
        first = c * cs
        for t in range(n_part[c, 0]):
            applicants[at + t] = c_rows[first + t]
            app_request[at + t] = c_request[first + t]
            app_limit[at + t] = c_limit[first + t]
    return n_app, outstanding, applicants, app_request, app_limit


@kernel(parallel=True)
def credit_close(firms, scratch, sectors, apps, app_fees, firm_side):
    """After the allocation: net cash flow to firms from credit and guarantee fees (economy-wide
    yuan), applicants refused, and for the stock-flow checks the firms' deposits and the loans each
    bank's firms owe it (sums in fixed chunks of rows).

    firms: CloseRows (or FirmState; reads alive, court, sector, bank, cash, loans; an estate's loan in
    the court procedure is owed to its banks too); scratch: ScratchState (reads granted, rolled,
    repaid; writes denied: an applicant, a live row that asked for credit, that got none); sectors:
    Weights (weight); apps: the applicants' rows in ascending order (`repay_and_apply`) and
    app_fees their guarantee fees paid (`credit_allocation.allocate_credit_drawn`), 0 for the other
    rows (each chunk walks the applicants beside its rows); firm_side: the loans owed to each bank,
    economy-wide yuan (written). Returns (flow, fees, deposits) and the instalment renewed for each
    applicant (`renewed`; in the order of apps), which the records need after `repaid` is reused."""
    # the array the loop writes bound to a local before it (state.py), and the reads too
    denied = scratch.denied
    alive = firms.alive
    court = firms.court
    sector = firms.sector
    bank = firms.bank
    cash = firms.cash
    loans = firms.loans
    granted = scratch.granted
    rolled = scratch.rolled
    repaid = scratch.repaid
    weight = sectors.weight
    n = alive.shape[0]
    n_app = apps.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, 8))  # padded: chunks write their own cache line
    part_bank = np.zeros((nc, firm_side.shape[0]))
    app_renewed = np.zeros(n_app)
    for c in prange(nc):
        flow = 0.0
        fee_total = 0.0
        deposits = 0.0
        fs = part_bank[c]
        at = np.searchsorted(apps, c * cs)  # the chunk's first applicant
        for i in rows_of(c, cs, n):
            w = weight[np.uint64(sector[i])]
            asked = at < n_app and apps[at] == i
            fee = 0.0
            ro = renewed(granted, repaid, rolled, i)
            if asked:
                fee = app_fees[at]
                app_renewed[at] = ro
                at += 1
            gr = lent(granted, i)
            cash_i = cash[i]
            loans_i = loans[i]
            live = alive[i]
            fee_total += fee * w
            flow += w * (gr + ro - repaid[i] - fee)
            denied[i] = live and asked and gr <= 0
            if live:
                deposits += w * cash_i
                fs[np.uint64(bank[i])] += w * loans_i
            elif court[i] > 0:
                fs[np.uint64(bank[i])] += w * loans_i
        part[c, 0] = flow
        part[c, 1] = fee_total
        part[c, 2] = deposits
    flow = 0.0
    fee_total = 0.0
    deposits = 0.0
    firm_side[:] = 0.0
    for c in range(nc):
        flow += part[c, 0]
        fee_total += part[c, 1]
        deposits += part[c, 2]
    add_chunks(firm_side, part_bank)
    return flow, fee_total, deposits, app_renewed
