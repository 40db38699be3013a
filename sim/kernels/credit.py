"""Credit market kernels (MODEL.md step 7): credit scores, repayments, and the allocation of loans
by banks that rank applicants by score and lend within their capital constraint.

Bank-level amounts (room, books) are economy-wide yuan: a simulated firm's amounts are multiplied
by its sector weight (real firms per simulated firm).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._numba import chunks, kernel, rows_of
from .elementary import logistic

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


@kernel(parallel=True)
def allocate_credit(order, cand, sector, weight, sme, soe, pd, request, limit, bank_alive, bank_margin, bank_room,
                    pdmax_sme, pdmax_large, sme_discount, policy_rate, sme_premium, lgd, rw_large, rw_sme, rw_g,
                    fund_room, coverage, fee_small, fee_large, small_loan, switch_cost, bank, loans, loan_rate, cash,
                    guaranteed, bank_loans, granted, fee_paid, new_rate):
    """Applicants in `order` (best score first) ask their candidate banks (`cand[i]`, by row); see
    `_serve`."""
    n_app = order.shape[0]
    slot = np.arange(n_app)
    packed = np.empty((n_app, cand.shape[1]), dtype=np.int64)
    fa, flag = _table(order, slot, sector, weight, sme, soe, pd, request, limit, bank, loans)
    for k in prange(n_app):
        packed[k, :] = cand[order[k]]
    best_bank, out = _serve(packed, fa, flag, bank_alive, bank_margin, bank_room, pdmax_sme, pdmax_large,
                            sme_discount, policy_rate, sme_premium, lgd, rw_large, rw_sme, rw_g, fund_room, coverage,
                            fee_small, fee_large, small_loan, switch_cost, bank_loans)
    _scatter(order, slot, best_bank, out, bank, loans, loan_rate, cash, guaranteed, granted, fee_paid, new_rate)


@kernel(parallel=True)
def allocate_credit_drawn(apps, pos, u, size_cdf, sector, weight, sme, soe, pd, request, limit, bank_alive,
                          bank_margin, bank_room, pdmax_sme, pdmax_large, sme_discount, policy_rate, sme_premium, lgd,
                          rw_large, rw_sme, rw_g, fund_room, coverage, fee_small, fee_large, small_loan, switch_cost,
                          bank, loans, loan_rate, cash, guaranteed, bank_loans, granted, fee_paid, new_rate):
    """As `allocate_credit`, for the applicants `apps` (rows, in row order) served in the order
    `pos` (the k-th served is apps[pos[k]], from `score_order`), with each applicant's candidates
    made here: its own bank and, for each uniform draw u[k, j] (k: the applicant's place in `apps`;
    the uniforms of its row, `RowDraws.at`), the bank whose size-CDF interval
    holds it (the first bank whose cumulative share exceeds the draw, as searchsorted side="right"
    finds it; the search starts from a table of where each 1/4096 of the unit interval begins).
    Only applicants need candidates, so nothing of the size of all firms is built.

    The firm rows are read and written in row order (the table and the results are permuted in
    cache instead): in serving order the rows are random, and at 1:1 (34,000 applicants among
    437,583 rows) the random gathers and scatters took a third of the allocation's time."""
    start = bank_search_start(size_cdf)
    n_app = apps.shape[0]
    m = u.shape[1]
    slot = np.empty(n_app, dtype=np.int64)  # slot[j]: when apps[j] is served
    for k in prange(n_app):
        slot[pos[k]] = k
    cand = np.empty((n_app, m + 1), dtype=np.int64)
    fa, flag = _table(apps, slot, sector, weight, sme, soe, pd, request, limit, bank, loans)
    for j in prange(n_app):
        i = np.uint64(apps[j])
        k = slot[j]
        cand[k, 0] = bank[i]
        for jj in range(m):
            cand[k, jj + 1] = drawn_bank(u[j, jj], size_cdf, start)
    best_bank, out = _serve(cand, fa, flag, bank_alive, bank_margin, bank_room, pdmax_sme, pdmax_large,
                            sme_discount, policy_rate, sme_premium, lgd, rw_large, rw_sme, rw_g, fund_room, coverage,
                            fee_small, fee_large, small_loan, switch_cost, bank_loans)
    _scatter(apps, slot, best_bank, out, bank, loans, loan_rate, cash, guaranteed, granted, fee_paid, new_rate)


_BUCKETS = 4096  # cells of the table where the search for a drawn bank starts


@kernel
def bank_search_start(size_cdf):
    """For each 1/_BUCKETS of the unit interval, the first bank whose cumulative share exceeds the
    cell's lower end (see `drawn_bank`)."""
    start = np.empty(_BUCKETS + 1, dtype=np.int64)
    for b in range(_BUCKETS + 1):
        start[b] = np.searchsorted(size_cdf, b / _BUCKETS, side="right")
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
    moves the keys in fixed chunks (in parallel); a chunk's keys of one digit go after those of
    the chunks before it, so the order is the serial sort's whatever the number of threads."""
    n = applicants.shape[0]
    nc, cs = chunks(n)
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


# columns of the applicant table (one row per applicant, in the order served)
_REQ, _W, _PD, _LOANS, _OWN = 0, 1, 2, 3, 4
_N_F = 5
_AMT, _COVER, _FEE, _NEW_RATE = 0, 1, 2, 3


@kernel(parallel=True)
def _table(rows, slot, sector, weight, sme, soe, pd, request, limit, bank, loans):
    """The applicant table in serving order: in line slot[j], for the applicant in row rows[j], its
    request within its limit, sector weight, default probability, loans and own bank (fa), and
    1 SME + 2 state-owned (flag)."""
    n_app = rows.shape[0]
    fa = np.empty((n_app, _N_F))
    flag = np.empty(n_app, dtype=np.int8)
    for j in prange(n_app):
        i = np.uint64(rows[j])
        k = slot[j]
        req = request[i]
        if limit[i] < req:
            req = limit[i]
        fa[k, _REQ] = req
        fa[k, _W] = weight[np.uint64(sector[i])]
        fa[k, _PD] = pd[i]
        fa[k, _LOANS] = loans[i]
        fa[k, _OWN] = bank[i]
        flag[k] = (1 if sme[i] else 0) + (2 if soe[i] else 0)
    return fa, flag


@kernel
def _serve(cand, fa, flag, bank_alive, bank_margin, bank_room, pdmax_sme, pdmax_large, sme_discount, policy_rate,
           sme_premium, lgd, rw_large, rw_sme, rw_g, fund_room, coverage, fee_small, fee_large, small_loan,
           switch_cost, bank_loans):
    """Applicants in serving order (best score first; line k of the table `fa`, `flag`) ask their
    candidate banks (`cand[k]`). Each bank that accepts the applicant's default risk (net of
    guarantee cover) and has room quotes the policy rate plus its margin, an SME premium and the
    expected loss; the firm takes the cheapest quote. A firm that moves to a new bank brings its
    loan stock along. SMEs take the fund's guarantee when it lowers their cost by more than the
    fee, while the fund has room.

    Only the banks' room, books and the fund's room pass from one applicant to the next, so the
    callers gather the applicants' own data into a table in serving order first (`_table`, in
    parallel) with their candidate banks; here they are served one by one from that table, and
    `_scatter` writes the results back to the firm rows (in parallel): the serial part reads memory
    in order instead of a dozen firm arrays at random rows. Returns each applicant's new lender
    (-1: none) and (amount, guarantee cover, fee, rate)."""
    n_app = fa.shape[0]
    out = np.zeros((n_app, 4))
    best_bank = np.full(n_app, -1, dtype=np.int64)
    for k in range(n_app):
        req = fa[k, _REQ]
        if req <= 0:
            continue
        w = fa[k, _W]
        p = fa[k, _PD]
        stock = fa[k, _LOANS]
        is_sme = (flag[k] & 1) != 0
        is_soe = (flag[k] & 2) != 0
        mine = int(fa[k, _OWN])
        fee = fee_small if req <= small_loan else fee_large
        g = 0.0
        if is_sme and not is_soe and coverage > 0 and fund_room[0] > 0:
            if p * lgd * coverage > fee:
                g = coverage
        rw_class = rw_sme if is_sme else rw_large
        best = -1
        best_rate = np.inf
        for j in range(cand.shape[1]):
            b = cand[k, j]
            if b < 0 or not bank_alive[b] or bank_room[b] <= 0:
                continue
            # a new lender takes over the existing stock too: it must fit in its room
            if b != mine and rw_class * w * stock >= bank_room[b]:
                continue
            pd_net = p * (1.0 - g)
            if pd_net > (pdmax_sme[b] if is_sme else pdmax_large[b]):
                continue
            rate = policy_rate + bank_margin[b] + pd_net * lgd
            if is_sme:
                rate += sme_premium * (1.0 - sme_discount[b])
            if b != mine:
                rate += switch_cost  # relationship lending: moving to a new bank has a cost
            if rate < best_rate:
                best_rate = rate
                best = b
        if best < 0:
            continue
        rw = rw_class * (1.0 - g) + rw_g * g
        if best != mine:
            best_rate -= switch_cost
            moved = rw_class * w * stock
            bank_room[best] -= moved
            bank_room[mine] += moved
        amt = req
        if rw > 0 and amt * rw * w > bank_room[best]:
            amt = bank_room[best] / (rw * w)
        cover = amt * g
        if cover * w > fund_room[0]:
            cover = fund_room[0] / w
        fund_room[0] -= cover * w
        if mine != best:  # refinance: the stock moves to the new lender
            bank_loans[mine] -= w * stock
            bank_loans[best] += w * stock
        bank_loans[best] += w * amt
        bank_room[best] -= rw * w * amt
        best_bank[k] = best
        out[k, _AMT] = amt
        out[k, _COVER] = cover
        out[k, _FEE] = fee * cover  # one year's fee, paid up front
        out[k, _NEW_RATE] = best_rate
    return best_bank, out


@kernel(parallel=True)
def _scatter(rows, slot, best_bank, out, bank, loans, loan_rate, cash, guaranteed, granted, fee_paid, new_rate):
    """The allocation's results (line slot[j] of `_serve`'s output) booked on the firm in row rows[j]."""
    for j in prange(rows.shape[0]):
        i = np.uint64(rows[j])
        k = slot[j]
        granted[i] = 0.0
        fee_paid[i] = 0.0
        new_rate[i] = 0.0
        if best_bank[k] < 0:
            continue
        amt = out[k, _AMT]
        bank[i] = best_bank[k]
        total = loans[i] + amt
        loan_rate[i] = (loan_rate[i] * loans[i] + out[k, _NEW_RATE] * amt) / total
        loans[i] = total
        guaranteed[i] += out[k, _COVER]
        cash[i] += amt - out[k, _FEE]
        granted[i] = amt
        fee_paid[i] = out[k, _FEE]
        new_rate[i] = out[k, _NEW_RATE]


@kernel(parallel=True)
def repay_and_apply(alive, sector, bank, weight, sme, soe, pd, lag, factor, cap_per_capacity, subsidy, buffer_months,
                    lev_target, lev_speed, review_month, firm_id, pipeline_cost, plan_expansion, plan_upgrade,
                    revenue, maturity, pd_roll,
                    passive,
                    max_debt_to_assets, haircut_capital, pledge_haircut, receivables_pledge, ip_pledge, unsecured_sme,
                    unsecured_large, soe_unsecured, loans, guaranteed, cash, capital, other_assets, other_liab,
                    bank_loans, repaid, rolled, request, limit, applicants, granted, fee_paid, new_rate):
    """Step 7 up to the allocation, firm by firm: the funds the firm needs beyond its deposits (the
    instalment on its pipeline, the first instalment of new projects within the capacity rules, its
    own share of a planned upgrade, a cash buffer of `buffer_months` of revenue, and a share
    `lev_speed` of the gap to the target debt-to-assets ratio `lev_target`, at the firm's yearly
    credit-line review: in the months whose number modulo 12 equals its firm_id modulo 12, so
    `review_month` is the month's number modulo 12); amortisation (each
    loan repays 1/maturity a month from deposits); net worth; renewal of the instalment by the own
    bank (relationship lending) unless the firm is insolvent or its default risk exceeds `pd_roll`,
    which leaves the bank's risk-weighted assets as they were; then the firm's request (need plus
    the instalment not renewed) and its borrowing limit (collateral plus unsecured credit; nothing
    without positive net worth). Each bank's book changes by the sum of its firms' repayments and renewals (summed in
    fixed chunks of rows). Applicants' rows go to `applicants` in row order. The allocation's
    outputs (`granted`, `fee_paid`, `new_rate`) are zeroed here for every row. Returns the number of
    applicants and the guaranteed loans outstanding after amortisation (economy-wide yuan, as
    `sums.weighted_sum` sums them)."""
    n = alive.shape[0]
    n_b = bank_loans.shape[0]
    nc, cs = chunks(n)
    delta = np.zeros((nc, n_b))
    n_part = np.zeros((nc, 8), dtype=np.int64)
    g_part = np.zeros((nc, 8))  # padded: chunks write their own cache line
    for c in prange(nc):
        d = delta[c]
        lo = c * cs
        k = 0
        g_sum = 0.0
        for i in rows_of(c, cs, n):
            granted[i] = 0.0
            fee_paid[i] = 0.0
            new_rate[i] = 0.0
            if not alive[i]:
                repaid[i] = 0.0
                rolled[i] = 0.0
                request[i] = 0.0
                limit[i] = 0.0
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
            need = spend + buffer_months * revenue[i] - cash_i
            if need < 0.0:
                need = 0.0
            # firms keep their leverage: they borrow part of the gap to their target debt-to-assets
            gap = lev_target * (cash_i + capital_i + other_i) - loans_i - liab_i
            if gap > 0.0 and firm_id[i] % 12 == review_month:
                need += lev_speed * gap
            due = 0.0
            g_i = guaranteed[i]
            if loans_i > 0:
                due = loans_i / maturity
                loans_i -= due
                g_i -= g_i / maturity
                guaranteed[i] = g_i
                cash_i -= due
                d[b] -= w * due
            g_sum += w * g_i
            nw = cash_i + capital_i + other_i - loans_i - liab_i  # (stored by the investment step)
            rol = 0.0
            if due > 0 and nw > 0 and pd[i] <= pd_roll:
                loans_i += due
                cash_i += due
                d[b] += w * due
                rol = due
            loans[i] = loans_i
            cash[i] = cash_i
            repaid[i] = due
            rolled[i] = rol
            req = need + (due - rol)
            request[i] = req
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
            limit[i] = lim
            if req > 0:
                applicants[lo + k] = i
                k += 1
        n_part[c, 0] = k
        g_part[c, 0] = g_sum
    n_app = 0
    outstanding = 0.0
    for c in range(nc):
        bank_loans[:] += delta[c]
        outstanding += g_part[c, 0]
        for j in range(n_part[c, 0]):
            applicants[n_app] = applicants[c * cs + j]
            n_app += 1
    return n_app, outstanding


@kernel(parallel=True)
def credit_close(alive, sector, weight, bank, request, granted, rolled, repaid, fees, cash, loans, denied,
                 firm_side):
    """After the allocation: net cash flow to firms from credit and guarantee fees (economy-wide
    yuan), applicants refused, and for the stock-flow checks the firms' deposits and
    the loans each bank's firms owe it (sums in fixed chunks of rows). Returns (flow, fees,
    deposits)."""
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, 8))  # padded: chunks write their own cache line
    part_bank = np.zeros((nc, firm_side.shape[0]))
    for c in prange(nc):
        flow = 0.0
        fee_total = 0.0
        deposits = 0.0
        fs = part_bank[c]
        for i in rows_of(c, cs, n):
            w = weight[np.uint64(sector[i])]
            fee = fees[i]
            gr = granted[i]
            cash_i = cash[i]
            loans_i = loans[i]
            live = alive[i]
            fee_total += fee * w
            flow += w * (gr + rolled[i] - repaid[i] - fee)
            denied[i] = live and request[i] > 0 and gr <= 0
            if live:
                deposits += w * cash_i
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
        firm_side[:] += part_bank[c]
    return flow, fee_total, deposits
