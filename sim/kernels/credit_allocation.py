"""The allocation of credit (MODEL.md step 7, after repayments and applications): applicants, best
credit score first, ask their own bank and a few banks drawn by size; each bank that accepts the
applicant's risk and has room under its capital constraint quotes a rate, and the firm takes the
cheapest quote, with the guarantee fund's cover when that pays.

Bank-level amounts (room, books, the fund's room) are economy-wide yuan: a simulated firm's amounts
are multiplied by its sector weight (real firms per simulated firm).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._numba import kernel, rows_of
from .credit import bank_search_start, drawn_bank
from .elementary import prefetch
from .exposure import _AHEAD, MAX_LENDERS, Parts, entries_end, lenders_of

# this month's lending conditions, one value per bank (BankingSystem.lending_conditions)
TERMS_FIELDS: dict[str, tuple[type, str]] = {
    "margin": (np.float64, "lending margin over the policy rate, 1/yr (the bank's margin plus its capital charge)"),
    "room": (np.float64, "lending room under the capital constraint, yuan of risk-weighted assets (economy-wide); "
                         "the allocation uses it up (written)"),
    "pdmax_sme": (np.float64, "highest default probability (net of guarantee cover) the bank accepts from an SME, "
                              "1/yr"),
    "pdmax_large": (np.float64, "highest default probability the bank accepts from a large firm, 1/yr"),
    "discount": (np.float64, "share of the SME premium the bank waives (inclusive-finance concession)"),
    "size_cdf": (np.float64, "cumulative share of the banks' sizes, in bank order: a uniform draw picks the bank "
                             "whose interval holds it (`drawn_bank`)"),
    "exposure_unit": (np.float64, "largest loan to one real firm at one real bank of the modelled bank, yuan: the "
                                  "large-exposure limit times a real bank's net capital (kernels.exposure)"),
    "sme_extension": (np.float64, "how far beyond a private SME's borrowing limit the bank lends, share of the "
                                  "firm's assets (inclusive-lending target; BankingSystem.lending_conditions)"),
    "sme_rate_cut": (np.float64, "cut in the bank's SME rate paid for by central-bank re-lending, 1/yr"),
}
LendingTerms = namedtuple("LendingTerms", tuple(TERMS_FIELDS))

# this month's applicants for credit, one entry per applicant (`credit.repay_and_apply` finds them)
APPLICANT_FIELDS: dict[str, tuple[type, str]] = {
    "rows": (np.int32, "the applicants' firm rows (in row order as `credit.repay_and_apply` returns them)"),
    "request": (np.float64, "credit asked for, yuan (per model firm)"),
    "limit": (np.float64, "the borrowing limit the request is served within, yuan (per model firm)"),
    "order": (np.int64, "serving order: the k-th applicant served is rows[order[k]] (`credit.score_order`)"),
    "draws": (np.float64, "uniforms that pick the banks an applicant searches beyond its own, one line per "
                          "applicant (`rng.RowDraws.at`; no columns when the candidates are given)"),
}
Applicants = namedtuple("Applicants", tuple(APPLICANT_FIELDS))
# what serving_table reads of the firms (FirmState's fields of these names), what allocate_credit_drawn
# writes of them, and what it reads and writes of the banks (BankState's)
TableRows = namedtuple("TableRows", ("sector", "sme", "soe", "pd", "bank", "loans", "cash", "capital", "other_assets",
                                     "other_liab"))
LendRows = namedtuple("LendRows", ("bank", "loans", "loan_rate", "cash", "guaranteed"))
LenderBooks = namedtuple("LenderBooks", ("alive", "loans"))


def served_as_listed(rows, request, limit) -> Applicants:
    """Applicants in `rows` served in the order listed, with their requests and limits and no draws
    (their candidate banks given: `allocate_credit`)."""
    n = len(rows)
    return Applicants(rows=np.asarray(rows, dtype=np.int32), request=np.asarray(request, dtype=np.float64),
                      limit=np.asarray(limit, dtype=np.float64), order=np.arange(n, dtype=np.int64),
                      draws=np.zeros((n, 0)))

SMALL_LOAN = 5e6  # yuan: loans up to this pay the small-loan guarantee fee (State Council 2019: small/micro <= 5 m)
YUAN_PER_BN = 1e9

# the scalar parameters of the allocation (the banking and policy settings of the same names, and the fund's
# room this month)
ALLOCATION_FIELDS: dict[str, tuple[type, str]] = {
    "policy_rate": (float, "policy lending rate (one-year loan prime rate), 1/yr"),
    "sme_premium": (float, "extra rate charged to SMEs, 1/yr"),
    "loss_given_default": (float, "share of a defaulted loan the bank expects to lose"),
    "risk_weight_large": (float, "risk weight of loans to large firms, share"),
    "risk_weight_sme": (float, "risk weight of loans to SMEs, share"),
    "risk_weight_guaranteed": (float, "risk weight of the guarantee-covered part of a loan, share"),
    "switching_cost": (float, "rate advantage a new bank must offer before a firm moves its loans, 1/yr"),
    "fund_room": (float, "cover the guarantee fund may still write this month, yuan (economy-wide): its capital "
                         "times its leverage less the guaranteed loans outstanding, at least 0"),
    "coverage": (float, "share of a guaranteed loan the fund covers (1 - policy.risk_share_bank; 0 without a fund)"),
    "fee_small": (float, "guarantee fee on loans up to small_loan, 1/yr of the cover (one year paid up front)"),
    "fee_large": (float, "guarantee fee on larger loans, 1/yr of the cover"),
    "small_loan": (float, "largest loan that pays the small-loan fee, yuan (SMALL_LOAN)"),
    "bank_weight": (float, "real banks each modelled bank stands for (banking.banks_total / banks)"),
}
AllocationParams = namedtuple("AllocationParams", tuple(ALLOCATION_FIELDS))


def lending_terms(banking) -> LendingTerms:
    """This month's lending conditions of `banking` (a BankingSystem): fresh arrays, so the allocation
    may use up the room."""
    room, pdmax_sme, pdmax_large, discount, margin, unit, extension, rate_cut = banking.lending_conditions()
    return LendingTerms(margin=margin, room=room, pdmax_sme=pdmax_sme, pdmax_large=pdmax_large, discount=discount,
                        size_cdf=banking.size_cdf[:banking.banks.n_rows], exposure_unit=unit,
                        sme_extension=extension, sme_rate_cut=rate_cut)


def allocation_params(policy, banking, guaranteed_outstanding: float, bank_weight: float = 1.0) -> AllocationParams:
    """The allocation's parameters from the policy, the banking settings (`scenario.banking`), the
    guaranteed loans outstanding after this month's amortisation (economy-wide yuan) and the real banks
    a modelled bank stands for."""
    fund_cap = policy.guarantee_fund_capital * YUAN_PER_BN
    values = dict(
        policy_rate=policy.policy_rate, sme_premium=banking.sme_premium, loss_given_default=banking.loss_given_default,
        risk_weight_large=banking.risk_weight_large, risk_weight_sme=banking.risk_weight_sme,
        risk_weight_guaranteed=banking.risk_weight_guaranteed, switching_cost=banking.switching_cost,
        fund_room=max(policy.guarantee_leverage * fund_cap - guaranteed_outstanding, 0.0),
        coverage=(1 - policy.risk_share_bank) if fund_cap > 0 else 0.0,
        fee_small=policy.guarantee_fee_small, fee_large=policy.guarantee_fee, small_loan=SMALL_LOAN,
        bank_weight=bank_weight)
    return AllocationParams(*(kind(values[name]) for name, (kind, _) in ALLOCATION_FIELDS.items()))


@kernel(parallel=True)
def allocate_credit(apps, cand, firms, banks, scratch, sectors, terms, params, parts):
    """The applicants `apps` (Applicants; any row order, served in apps.order) ask their candidate
    banks (`cand[i]`, by row; -1: none); see `_serve`. The plain version of `allocate_credit_drawn`,
    kept for the tests (apps.draws and terms' size_cdf unused). Reads and writes as
    `allocate_credit_drawn` and returns the same."""
    rows, pos = apps.rows, apps.order
    n_app = rows.shape[0]
    slot = np.empty(n_app, dtype=np.int32)  # slot[j]: when rows[j] is served
    for k in prange(n_app):
        slot[pos[k]] = k
    packed = np.empty((n_app, cand.shape[1]), dtype=np.int32)
    row_at = np.empty(n_app, dtype=np.int32)  # row_at[k]: the row served k-th
    no_draws = (np.zeros((n_app, 0)), terms.size_cdf, np.empty((n_app, 1), dtype=np.int32), row_at)  # (own bank only)
    fa, flag = _table(rows, slot, apps.request, apps.limit, firms, sectors, no_draws)
    span = _spans(rows, slot, parts.row)
    for j in prange(n_app):
        k = slot[j]
        row_at[k] = rows[j]
        packed[k, :] = cand[rows[j]]
    fund_room, touched, new = _serve(packed, (fa, flag, span, row_at), banks, terms, params, parts)
    fees, rates = _scatter(rows, slot, flag, fa, firms, scratch)
    return fund_room, touched, new, fees, rates


@kernel(parallel=True)
def serving_table(apps, firms, sectors, size_cdf, prow):
    """What `allocate_credit_drawn` serves the applicants `apps` (Applicants: rows in row order, served
    in apps.order, from `score_order`) from, in serving order: (slot, cand, fa, flag, span, row_at):
    when each applicant is served (slot[j] for apps.rows[j]), its candidate banks, its line of the
    applicant table (`_table`), its participations in the parts table (prow: their rows, `_spans`)
    and its row. The candidates are made here: its own bank and, for each uniform draw
    apps.draws[j, jj] (the uniforms of its row, `RowDraws.at`), the bank whose size-CDF interval
    (size_cdf) holds it (the first bank whose cumulative share exceeds the draw, as searchsorted
    side="right" finds it; the search starts from a table of where each 1/4096 of the unit interval
    begins). Only applicants need candidates, so nothing of the size of all firms is built. A kernel
    of its own so that the caller can let go of the requests, limits, order and draws before the
    allocation (at 1:1 2.2 of its 8 MiB: the allocation's temporaries are the month's largest).
    firms: TableRows (or FirmState; reads sector, sme, soe, pd, bank, loans, cash, capital,
    other_assets, other_liab); sectors: credit.Weights (or SectorTables: weight)."""
    rows, pos, u = apps.rows, apps.order, apps.draws
    n_app = rows.shape[0]
    m = u.shape[1]
    slot = np.empty(n_app, dtype=np.int32)  # slot[j]: when apps[j] is served
    for k in prange(n_app):
        slot[pos[k]] = k
    cand = np.empty((n_app, m + 1), dtype=np.int32)  # (4-byte indices: the allocation's peak is the month's)
    row_at = np.empty(n_app, dtype=np.int32)  # row_at[k]: the row served k-th
    fa, flag = _table(rows, slot, apps.request, apps.limit, firms, sectors, (u, size_cdf, cand, row_at))
    span = _spans(rows, slot, prow)
    return slot, cand, fa, flag, span, row_at


@kernel
def allocate_credit_drawn(table, rows, firms, banks, scratch, terms, params, parts):
    """As `allocate_credit`, for the applicants in `rows` (in row order) served from `table`
    (`serving_table`, which draws their candidate banks).

    firms: LendRows or FirmState (writes bank, loans, loan_rate, cash, guaranteed of the applicants);
    banks: LenderBooks or BankState (reads alive; writes loans); scratch: ScratchState (writes granted of the
    applicants); terms: LendingTerms (room is used up); params: AllocationParams; parts: the
    participations (kernels.exposure.Parts) before the allocation. Returns the guarantee fund's room
    left (economy-wide yuan), the rows whose lenders changed (the applicants lent to), their
    participations now (a Parts, sorted by row within each applicant; the caller replaces theirs),
    and the guarantee fee each applicant paid and the interest rate of its new loan (both in the
    order of rows; 0 for most and for those refused).

    The firm rows are read and written in row order (the table and the results are permuted in
    cache instead): in serving order the rows are random, and at 1:1 (34,000 applicants among
    437,583 rows) the random gathers and scatters took a third of the allocation's time."""
    slot, cand, fa, flag, span, row_at = table
    fund_room, touched, new = _serve(cand, (fa, flag, span, row_at), banks, terms, params, parts)
    fees, rates = _scatter(rows, slot, flag, fa, firms, scratch)
    return fund_room, touched, new, fees, rates


# columns of the applicant table (one row per applicant, in the order served); once an applicant is
# served its line holds its results instead (`_serve`: the columns _AMT.. over _REQ..), and its
# line of `flag` (1 SME + 2 state-owned + 4 x its own bank) its lead bank after
_REQ, _W, _PD, _LOANS, _BEYOND, _ASSETS = 0, 1, 2, 3, 4, 5
_N_F = 6
_AMT, _COVER, _FEE, _NEW_RATE = 0, 1, 2, 3
# columns of `_serve`'s bank table (one line per bank)
_B_ROOM, _B_LOANS, _B_PD_SME, _B_PD_LARGE, _B_MARGIN, _B_DISCOUNT, _B_CUT, _B_UNIT = range(8)


@kernel(parallel=True)
def _table(rows, slot, request, limit, firms, sectors, drawn):
    """The applicant table in serving order: in line slot[j], for the applicant in row rows[j], its
    request (request[j]) within its limit (limit[j]), sector weight, default probability, loans, the
    part of its request beyond its limit (0 unless its net worth is positive) and its assets (fa), and
    1 SME + 2 state-owned + 4 x its own bank (flag). drawn = (u, size_cdf, cand, row_at): its row
    (row_at) and candidate banks are written in the same loop (line slot[j] of each): its own bank,
    then for each uniform u[j, jj] the bank whose size-CDF interval (size_cdf) holds it (`drawn_bank`;
    the first bank whose cumulative share exceeds the draw, as searchsorted side="right" finds it;
    the search starts from a table of where each 1/4096 of the unit interval begins). Reads firms
    and sectors only.
    (Until 2026-12 `serving_table` drew the candidates in a parallel loop of its own, which read each
    applicant's bank again: a cache miss a row.)"""
    # the reads bound to locals before the loop, as in every parallel kernel (state.py)
    sector = firms.sector
    sme = firms.sme
    soe = firms.soe
    pd = firms.pd
    bank = firms.bank
    loans = firms.loans
    cash = firms.cash
    capital = firms.capital
    other_assets = firms.other_assets
    other_liab = firms.other_liab
    weight = sectors.weight
    u, size_cdf, cand, row_at = drawn
    start = bank_search_start(size_cdf)
    m = u.shape[1]
    n_app = rows.shape[0]
    fa = np.empty((n_app, _N_F))
    flag = np.empty(n_app, dtype=np.int32)
    for j in prange(n_app):
        i = np.uint64(rows[j])
        # the applicant _AHEAD ahead's fields fetched: the applicants' rows, about one in ten, are a
        # cache miss in every field, at gaps the hardware prefetcher does not follow (in the replayed
        # month 5 at 1:1, one thread: serving_table 2.5 -> 2.3 ms)
        a = np.uint64(rows[j + _AHEAD] if j + _AHEAD < n_app else rows[j])
        prefetch(sector, a)
        prefetch(sme, a)
        prefetch(soe, a)
        prefetch(pd, a)
        prefetch(bank, a)
        prefetch(loans, a)
        prefetch(cash, a)
        prefetch(capital, a)
        prefetch(other_assets, a)
        prefetch(other_liab, a)
        k = slot[j]
        req = request[j]
        if limit[j] < req:
            req = limit[j]
        fa[k, _REQ] = req
        assets = cash[i] + capital[i] + other_assets[i]
        fa[k, _ASSETS] = assets
        fa[k, _BEYOND] = request[j] - req if assets - loans[i] - other_liab[i] > 0 else 0.0
        fa[k, _W] = weight[np.uint64(sector[i])]
        fa[k, _PD] = pd[i]
        fa[k, _LOANS] = loans[i]
        bank_i = bank[i]
        flag[k] = (1 if sme[i] else 0) + (2 if soe[i] else 0) + 4 * bank_i
        row_at[k] = rows[j]
        cand[k, 0] = bank_i
        for jj in range(m):
            cand[k, jj + 1] = drawn_bank(u[j, jj], size_cdf, start)
    return fa, flag


_SPAN_BLOCK = 4096


@kernel(parallel=True)
def _spans(rows, slot, prow):
    """Where each applicant's participations are in the parts table (sorted by row): in line slot[j],
    for the applicant in row rows[j], the range [lo, hi) `exposure.lenders_of` finds. Made here for
    all applicants, so that `_serve` does not search the table for each (in serving order the rows are
    random, and the searches took 4.2 of its 6.7 ms a month at 1:1, 48,650 applicants, 13,937
    participations); rows in ascending order (`allocate_credit_drawn`) are found by walking the table
    from the previous applicant's place, others by binary search."""
    n = rows.shape[0]
    n_p = prow.shape[0]
    span = np.empty((n, 2), dtype=np.int32)
    # blocks of _SPAN_BLOCK applicants in parallel, each starting with a binary search (no sums: any
    # blocking gives the same spans; the fixed chunks of rows made one block of 50,000 at 1:1)
    cs = _SPAN_BLOCK
    nc = max((n + cs - 1) // cs, 1)
    for c in prange(nc):
        at = 0
        prev = -1
        for j in rows_of(c, cs, n):
            r = rows[j]
            if prev < 0 or r < prev:
                at, hi = lenders_of(prow, r)
            else:  # walk on from the previous applicant's place
                while at < n_p and prow[at] < r:
                    at += 1
                hi = entries_end(prow, at, r)
            k = slot[j]
            span[k, 0] = at
            span[k, 1] = hi
            prev = r
    return span


@kernel
def _serve(cand, table, banks, terms, params, parts):
    """Applicants in serving order (best score first; table = (fa, flag, span, rows): line k of the
    applicant table `fa`, `flag`, row rows[k], its participations span[k] of the parts table,
    `_spans`)
    ask their candidate banks (`cand[k]`). Each bank that accepts the applicant's default risk (net of
    guarantee cover) and has room quotes the policy rate plus its margin, an SME premium and the
    expected loss (plus the switching cost if it is not the firm's lead bank); the firm borrows from
    the cheapest, as much as that bank's room and its large-exposure limit allow (one real firm's loan
    at one real bank at most terms.exposure_unit, kernels.exposure), and the rest from the next
    cheapest, up to MAX_LENDERS banks in all. A firm whose cheapest quote is from a new bank moves its
    loan there if it has no other lenders and the new bank's room and limit take its stock; else the
    new bank joins as a participant; the largest lender after is the lead (the firm's main bank,
    which keeps its deposits). SMEs take the fund's guarantee when it lowers their cost by more
    than the fee, while the fund has room. A bank short of its inclusive-lending target lends a
    private SME beyond its borrowing limit, up to terms.sme_extension of the firm's assets, after the
    part within the limit; re-lending lowers a bank's SME quote by terms.sme_rate_cut.

    Only the banks' room, books and the fund's room pass from one applicant to the next, so the
    callers gather the applicants' own data into a table in serving order first (`_table`, in
    parallel) with their candidate banks; here they are served one by one from that table, and
    `_scatter` writes the results back to the firm rows (in parallel): the serial part reads memory
    in order instead of a dozen firm arrays at random rows. Reads banks.alive and the terms; writes
    banks.loans and terms.room. Writes over each applicant's line, once it is served, its lead bank
    after (-1: nothing lent) in `flag` and (amount, guarantee cover, fee, rate) in `fa` (the
    results take no arrays of their own: the allocation's temporaries are the month's largest).
    Returns the fund's room left, the rows whose lenders changed and their participations now
    (Parts)."""
    fa, flag, span, rows = table
    bank_alive = banks.alive
    bank_loans = banks.loans
    bank_margin = terms.margin
    bank_room = terms.room
    pdmax_sme = terms.pdmax_sme
    pdmax_large = terms.pdmax_large
    sme_discount = terms.discount
    unit = terms.exposure_unit
    extension = terms.sme_extension
    rate_cut = terms.sme_rate_cut
    extends = False
    for b in range(extension.shape[0]):
        extends = extends or extension[b] > 0.0
    # what a quote and a loan read of a bank, bank by bank (one cache line each instead of eight, at
    # random banks): room and loans are used up here and written back after
    n_b = bank_room.shape[0]
    bk = np.empty((n_b, 8))
    for b in range(n_b):
        bk[b, _B_ROOM] = bank_room[b]
        bk[b, _B_LOANS] = bank_loans[b]
        bk[b, _B_PD_SME] = pdmax_sme[b]
        bk[b, _B_PD_LARGE] = pdmax_large[b]
        bk[b, _B_MARGIN] = bank_margin[b]
        bk[b, _B_DISCOUNT] = sme_discount[b]
        bk[b, _B_CUT] = rate_cut[b]
        bk[b, _B_UNIT] = unit[b]
    policy_rate = params.policy_rate
    sme_premium = params.sme_premium
    lgd = params.loss_given_default
    rw_large = params.risk_weight_large
    rw_sme = params.risk_weight_sme
    rw_g = params.risk_weight_guaranteed
    switch_cost = params.switching_cost
    fund_room = params.fund_room
    coverage = params.coverage
    fee_small = params.fee_small
    fee_large = params.fee_large
    small_loan = params.small_loan
    bank_weight = params.bank_weight
    pbank, pshare = parts.bank, parts.share
    n_app = fa.shape[0]
    m = cand.shape[1]
    touched = np.empty(n_app, dtype=np.int64)
    n_touched = 0
    # room for a participation per four applicants, doubled when full (the bound, MAX_LENDERS - 1 for
    # each, is 60 times what a month makes: at 1:1 about 14,000 for 48,000 applicants)
    cap_new = n_app // 4 + 16
    new_row = np.empty(cap_new, dtype=np.int64)
    new_bank = np.empty(cap_new, dtype=np.int64)
    new_share = np.empty(cap_new)
    n_new = 0
    qb = np.empty(m, dtype=np.int64)
    qr = np.empty(m)
    lb = np.empty(MAX_LENDERS, dtype=np.int64)  # the row's lenders (0: the lead) and what each holds, per real firm
    lh = np.empty(MAX_LENDERS)
    k0 = 0
    while k0 < n_app:  # (the buffers grow out here: see below)
        k_end = n_app
        for k in range(k0, n_app):
            if n_new + MAX_LENDERS > cap_new:  # no room for this applicant's participations
                k_end = k
                break
            req = fa[k, _REQ]
            fl = flag[k]
            flag[k] = -1  # the lead bank after: none unless lent below
            is_sme = (fl & 1) != 0
            is_soe = (fl & 2) != 0
            mine = fl >> 2
            beyond = fa[k, _BEYOND] if extends and is_sme and not is_soe else 0.0  # lent only by short banks
            if req <= 0 and beyond <= 0:
                continue
            w = fa[k, _W]
            p = fa[k, _PD]
            stock = fa[k, _LOANS]
            row = rows[k]
            lo, hi = span[k, 0], span[k, 1]  # the row's participations (`_spans`)
            n_l = 1 + hi - lo
            lb[0] = mine
            lead_part = 1.0
            for q in range(lo, hi):
                lb[1 + q - lo] = pbank[q]
                lh[1 + q - lo] = pshare[q] * stock
                lead_part -= pshare[q]
            lh[0] = lead_part * stock
            spread = w if w > bank_weight else bank_weight
            fee = fee_small if req <= small_loan else fee_large
            g = 0.0
            if is_sme and not is_soe and coverage > 0 and fund_room > 0:
                if p * lgd * coverage > fee:
                    g = coverage
            rw_class = rw_sme if is_sme else rw_large
            pd_net = p * (1.0 - g)
            n_q = 0
            for j in range(m):
                b = cand[k, j]
                if b < 0 or not bank_alive[b] or bk[b, _B_ROOM] <= 0:
                    continue
                dup = False
                for q in range(n_q):
                    dup = dup or qb[q] == b
                if dup:
                    continue
                if pd_net > (bk[b, _B_PD_SME] if is_sme else bk[b, _B_PD_LARGE]):
                    continue
                rate = policy_rate + bk[b, _B_MARGIN] + pd_net * lgd
                if is_sme:
                    rate += sme_premium * (1.0 - bk[b, _B_DISCOUNT]) - bk[b, _B_CUT]
                if b != mine:
                    rate += switch_cost  # relationship lending: moving to a new bank has a cost
                qb[n_q] = b
                qr[n_q] = rate
                n_q += 1
            if n_q == 0:
                continue
            rw = rw_class * (1.0 - g) + rw_g * g
            rem = req
            amt = 0.0
            paid = 0.0  # rate x amount, summed over the lenders
            moved = False
            for step in range(n_q):
                if rem <= 0.0 and beyond <= 0.0:  # (before the search: most are served by their first quote)
                    break
                best = -1
                best_rate = np.inf
                for q in range(n_q):  # the cheapest quote not yet taken (ties: the first candidate)
                    if qb[q] >= 0 and qr[q] < best_rate:
                        best_rate = qr[q]
                        best = q
                b = qb[best]
                qb[best] = -1
                if rem <= 0.0 and extension[b] <= 0.0:
                    continue  # only a bank that lends beyond the limit has anything left to lend
                at = -1
                for q in range(n_l):
                    if lb[q] == b:
                        at = q
                cap = bk[b, _B_UNIT] * spread / w  # one real firm's loan this bank may hold
                if at < 0:
                    moved_stock = rw_class * w * stock
                    if step == 0 and n_l == 1 and stock < cap and moved_stock < bk[b, _B_ROOM]:
                        # the cheapest quote is a new bank that takes over the loan: a move
                        bk[b, _B_ROOM] -= moved_stock
                        bk[lb[0], _B_ROOM] += moved_stock
                        bk[lb[0], _B_LOANS] -= w * stock
                        bk[b, _B_LOANS] += w * stock
                        lb[0] = b
                        at = 0
                        moved = True
                    elif n_l < MAX_LENDERS:
                        lb[n_l] = b
                        lh[n_l] = 0.0
                        at = n_l
                        n_l += 1
                    else:
                        continue
                for part in range(2):  # within the firm's limit; then beyond it, at a bank short of its target
                    if part == 0:
                        most = rem
                    elif beyond > 0.0 and extension[b] > 0.0:
                        most = extension[b] * fa[k, _ASSETS]
                        if most > beyond:
                            most = beyond
                    else:
                        break
                    x = cap - lh[at]
                    if x > most:
                        x = most
                    if rw > 0 and x * rw * w > bk[b, _B_ROOM]:
                        x = bk[b, _B_ROOM] / (rw * w)
                    if x <= 0.0:
                        continue
                    bk[b, _B_LOANS] += w * x
                    bk[b, _B_ROOM] -= rw * w * x
                    lh[at] += x
                    if part == 0:
                        rem -= x
                    else:
                        beyond -= x
                    amt += x
                    paid += (best_rate - (switch_cost if b != mine else 0.0)) * x
            if amt <= 0.0 and not moved:
                continue
            main = 0  # the largest lender leads (the firm's main bank, where its deposits go)
            for q in range(1, n_l):
                if lh[q] > lh[main]:
                    main = q
            if main > 0:
                b = lb[0]
                lb[0] = lb[main]
                lb[main] = b
                x = lh[0]
                lh[0] = lh[main]
                lh[main] = x
            cover = amt * g
            if cover * w > fund_room:
                cover = fund_room / w
            fund_room -= cover * w
            flag[k] = lb[0]
            fa[k, _AMT] = amt  # (the applicant's line is read: its results go there)
            fa[k, _COVER] = cover
            fa[k, _FEE] = fee * cover  # one year's fee, paid up front
            fa[k, _NEW_RATE] = paid / amt if amt > 0.0 else 0.0
            touched[n_touched] = row
            n_touched += 1
            total = stock + amt
            for q in range(1, n_l):
                if lh[q] > 0.0:
                    new_row[n_new] = row
                    new_bank[n_new] = lb[q]
                    new_share[n_new] = lh[q] / total
                    n_new += 1
        k0 = k_end
        if k0 < n_app:
            # grown outside the loop over the applicants: with the buffers assigned anew (a call that
            # allocates) inside it, the compiled loop took twice as long though they never grew
            # (2.2 against 1.0 ms at 1:1, month 5, one thread)
            cap_new = 2 * cap_new + MAX_LENDERS
            new_row = _grown(new_row, n_new, cap_new)
            new_bank = _grown(new_bank, n_new, cap_new)
            new_share = _grown(new_share, n_new, cap_new)
    for b in range(n_b):
        bank_room[b] = bk[b, _B_ROOM]
        bank_loans[b] = bk[b, _B_LOANS]
    return fund_room, touched[:n_touched], Parts(new_row[:n_new], new_bank[:n_new], new_share[:n_new])


@njit(cache=True)
def _grown(a, n, size):
    """A copy of a's first n values in an array of `size` (the rest not set)."""
    out = np.empty(size, dtype=a.dtype)
    out[:n] = a[:n]
    return out


@kernel(parallel=True)
def _scatter(rows, slot, best_bank, out, firms, scratch):
    """The allocation's results (line slot[j] of the lead banks `best_bank` and of `out`, as `_serve`
    leaves the applicant table) booked on the firm in row rows[j]:
    writes firms' bank, loans, loan_rate, cash, guaranteed and scratch's granted; returns the
    guarantee fee each paid and the interest rate of its new loan (fees[j] and rates[j], of rows[j]).
    """
    # arrays the loop writes must be bound to locals before it (a write through `firms.x[i]` inside
    # prange is lost, state.py)
    bank = firms.bank
    loans = firms.loans
    loan_rate = firms.loan_rate
    cash = firms.cash
    guaranteed = firms.guaranteed
    granted = scratch.granted
    fee_paid = np.zeros(rows.shape[0])
    new_rate = np.zeros(rows.shape[0])
    for j in prange(rows.shape[0]):
        i = np.uint64(rows[j])
        k = slot[j]
        granted[i] = 0.0
        if best_bank[k] < 0:
            continue
        amt = out[k, _AMT]
        bank[i] = best_bank[k]
        total = loans[i] + amt
        if amt > 0.0:
            loan_rate[i] = (loan_rate[i] * loans[i] + out[k, _NEW_RATE] * amt) / total
        loans[i] = total
        guaranteed[i] += out[k, _COVER]
        cash[i] += amt - out[k, _FEE]
        granted[i] = amt
        fee_paid[j] = out[k, _FEE]
        new_rate[j] = out[k, _NEW_RATE]
    return fee_paid, new_rate
