"""Income, taxes and balance sheets (MODEL.md step 6), and sector sums for the records (step 11)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import prange

from .._numba import chunks, kernel, rows_of
from .credit import credit_score, default_probability, lent
from .elementary import add_chunks
from .exposure import loan_category
from .production import overtime_output

# this month's costs and rates by sector for the income statements (arrays of one value per sector)
COST_FIELDS = {
    "labour": (np.float64, "wages per yuan of output at productivity 1 (labour share x wage index)"),
    "services": (np.float64, "services per yuan of output at productivity 1"),
    "energy": (np.float64, "energy per yuan of output at energy intensity 1 (energy share x energy price index)"),
    "materials": (np.float64, "intermediate inputs and other materials per yuan of output"),
    "vat_rate": (np.float64, "VAT rate on the sector's sales"),
    "vat_inputs_per_q": (np.float64, "input VAT on intermediate inputs and materials per yuan of output"),
    "workers_per_yuan": (np.float64, "workers per yuan of monthly output at productivity 1"),
    "mwh_per_yuan": (np.float64, "energy use per yuan of output at energy intensity 1, MWh"),
    "normal_utilisation": (np.float64, "output / capacity above which labour is paid the overtime premium"),
}
# the scalar parameters of the income statements (the settings of the same names; the small-profit
# bands per month)
INCOME_FIELDS = {
    "deposit_rate": (float, "rate paid on firm deposits, 1/yr (banking)"),
    "vat_rate_inputs": (float, "VAT rate on energy, services and other materials (policy)"),
    "cit_rate": (float, "corporate income tax rate (policy)"),
    "cit_rate_small": (float, "rate on a small low-profit firm's profit up to the lower band (policy)"),
    "cit_rate_small_upper": (float, "rate on a small low-profit firm's profit above the lower band (policy)"),
    "small_low_month": (float, "the small-profit lower band, yuan/month (behaviour.small_profit_lower_band / 12)"),
    "small_profit_month": (float, "the small low-profit ceiling, yuan/month (behaviour.small_profit_threshold / 12)"),
    "dividend_payout": (float, "share of net profit paid out (behaviour)"),
    "overtime_premium": (float, "wage premium on the labour output above normal utilisation takes (behaviour)"),
}
# the banks' monthly flows from their firms, by bank (economy-wide yuan): not bank state (`BankState`)
# but the banking system's arrays of the same names, which the kernels write
FLOW_FIELDS = {
    "interest_income": (np.float64, "interest the bank's firms pay on their loans this month (`income`)"),
    "deposit_interest": (np.float64, "interest the bank pays on its firms' deposits this month (`income`)"),
    "firm_loans": (np.float64, "loans the bank's firms owe it, for the stock-flow check (`month_sums`)"),
}
# the closed economy's distributions of excess deposits (kernels.payout), made in the income pass
PAYOUT_FIELDS = {
    "target": (np.float64, "liquidity target by sector, share of annual revenue (length 0: no distributions)"),
    "speed": (float, "share of the excess paid a month"),
    "paid": (np.float64, "paid out by sector, economy-wide yuan (written)"),
}
IncomeCosts = namedtuple("IncomeCosts", tuple(COST_FIELDS))
IncomeParams = namedtuple("IncomeParams", tuple(INCOME_FIELDS))
BankFlows = namedtuple("BankFlows", tuple(FLOW_FIELDS))
Payout = namedtuple("Payout", tuple(PAYOUT_FIELDS))


def no_payout() -> Payout:
    """No distributions in the income pass (the open economy)."""
    return Payout(np.zeros(0), 0.0, np.zeros(0))


def income_params(banking, policy, behaviour) -> IncomeParams:
    """From the scenario's banking settings, the policy in force and the behaviour settings."""
    return IncomeParams(deposit_rate=float(banking.deposit_rate), vat_rate_inputs=float(policy.vat_rate_inputs),
                        cit_rate=float(policy.cit_rate), cit_rate_small=float(policy.cit_rate_small),
                        cit_rate_small_upper=float(policy.cit_rate_small_upper),
                        small_low_month=float(behaviour.small_profit_lower_band / 12.0),
                        small_profit_month=float(behaviour.small_profit_threshold / 12.0),
                        dividend_payout=float(behaviour.dividend_payout),
                        overtime_premium=float(behaviour.overtime_premium))


def bank_flows(bk) -> BankFlows:
    """The banking system's flow arrays (made at each call: three references)."""
    return BankFlows(*(getattr(bk, name) for name in FLOW_FIELDS))

# columns of the per-sector income table written by `income`
(I_REVENUE, I_WAGES, I_SERVICES, I_ENERGY, I_MATERIALS, I_VALUE_ADDED, I_INTEREST, I_DEPRECIATION,
 I_PRETAX, I_VAT, I_CIT, I_PROFIT, I_DIVIDENDS, I_OUTPUT, I_CAPACITY, I_DEPOSIT_INTEREST, I_CASH,
 I_DEPOSITS_BEFORE, I_DEPOSITS_AFTER, I_WORKERS, I_ENERGY_USE) = range(21)
N_INCOME = 21
# rows of a block of `income`'s pass, after which the block's credit scores are made (the rows' values
# still in cache)
SCORE_BLOCK = np.uint64(512)


@kernel(parallel=True)
def income(firms, sectors, costs, params, score, flows, dist, table):
    """Sales less wages (output beyond normal utilisation, q - u_n k, takes labour paid the overtime
    premium), services, energy, inputs (with the firm's own cost wedge, q x w_i: other inputs bought
    from the rest of the economy that its price does not pass on), interest and depreciation; VAT remitted on value
    added (output VAT less input VAT); corporate income tax with the small low-profit enterprise
    bands (Caishui [2019] No. 13); dividends.

    VAT is collected from buyers and remitted, so it passes through the firm's cash; the firm keeps
    sales ex-VAT. Depreciation lowers capital, not cash.

    Employment and energy use of the month's production go to the table too (output x labour or
    energy per yuan / productivity or x energy intensity).

    Fused into the same pass over the firms (each as its own kernel would compute it): the interest
    each bank earns and pays on its firms' loans and deposits, the firms' deposits before and after
    (for the stock-flow check), and the credit score of step 7 (`credit.credit_scores`), whose inputs
    are final once the income statement is booked. With `dist` (Payout; the closed economy: a target
    by sector), then the distributions of excess deposits as `payout.pay_out_excess_cash` makes them
    after the income pass, row by row and summed in the same chunks and order (the deposits paid
    out by sector into dist.paid; the payers' scores made again from the deposits left): the
    table's deposits after are those before the distributions, and the deposits left after them
    are returned (economy-wide, as payout.pay_out_excess_cash returns them; 0 without a target).
    One pass instead of two (7 ms a month at 1:1).

    Net worth is not stored here: the credit step changes it before anyone reads it, and the
    investment step stores every row's (`investment.execute_investment`).

    firms: FirmState (reads alive, sector, sme, soe, bank, output, capacity, revenue, productivity,
    energy_intensity, cost_wedge, loans, loan_rate, other_assets; writes cash, capital, profit,
    profit_year (11/12 of last month's plus this month's profit), loss_months of live rows and pd
    of every row, 0 for an empty one); sectors: SectorTables (weight, dep_month:
    the depreciation of fixed capital); costs: IncomeCosts; params: IncomeParams; score:
    credit.ScoreParams; flows: BankFlows (writes interest_income and deposit_interest); table: the
    per-sector income table (columns I_*, one model firm each), written.
    """
    # arrays the loops write must be bound to locals before them (a write through `firms.x[i]`
    # inside prange is lost); the reads are bound too, so the loops are the ones they were before bundles
    cash = firms.cash
    capital = firms.capital
    profit = firms.profit
    profit_year = firms.profit_year
    loss_months = firms.loss_months
    pd = firms.pd
    alive = firms.alive
    sector = firms.sector
    sme = firms.sme
    soe = firms.soe
    bank = firms.bank
    cost_wedge = firms.cost_wedge
    output = firms.output
    capacity = firms.capacity
    revenue = firms.revenue
    productivity = firms.productivity
    energy_intensity = firms.energy_intensity
    loans = firms.loans
    loan_rate = firms.loan_rate
    other_assets = firms.other_assets
    weight = sectors.weight
    dep_rate = sectors.dep_month
    labour_cost = costs.labour
    services_cost = costs.services
    energy_cost = costs.energy
    material_cost = costs.materials
    vat_rate = costs.vat_rate
    vat_inputs_per_q = costs.vat_inputs_per_q
    workers_per_yuan = costs.workers_per_yuan
    mwh_per_yuan = costs.mwh_per_yuan
    u_normal = costs.normal_utilisation
    premium = params.overtime_premium
    deposit_rate = params.deposit_rate
    vat_rate_inputs = params.vat_rate_inputs
    cit_rate = params.cit_rate
    cit_rate_small = params.cit_rate_small
    cit_rate_small_upper = params.cit_rate_small_upper
    small_low_month = params.small_low_month
    small_profit_month = params.small_profit_month
    payout = params.dividend_payout
    soe_cut = score.soe_implicit_guarantee
    bank_interest = flows.interest_income
    bank_deposit_interest = flows.deposit_interest
    target = dist.target
    speed = dist.speed
    paid = dist.paid
    pay_on = target.shape[0] > 0
    n_b = bank_interest.shape[0]
    n = alive.shape[0]
    nc, cs = chunks(n)
    part = np.zeros((nc, table.shape[0], N_INCOME))
    part_bank = np.zeros((nc, 2, n_b))
    part_paid = np.zeros((nc, paid.shape[0]))
    part_dep = np.zeros((nc, 8))  # padded: chunks write their own cache line
    for c in prange(nc):
        t = part[c]
        tb = part_bank[c]
        tp = part_paid[c]
        dep_left = 0.0
        rows = rows_of(c, cs, n)
        lo = rows.start
        while lo < rows.stop:  # blocks of SCORE_BLOCK rows
            hi = lo + SCORE_BLOCK if lo + SCORE_BLOCK < rows.stop else rows.stop
            for i in range(lo, hi):
                if not alive[i]:
                    continue
                s = np.uint64(sector[i])
                b = np.uint64(bank[i])
                w = weight[s]
                cash_i = cash[i]
                loans_i = loans[i]
                rate_i = loan_rate[i]
                capital_i = capital[i]
                prod_i = productivity[i]
                ei_i = energy_intensity[i]
                sme_i = sme[i]
                interest = loans_i * rate_i / 12.0
                dint = cash_i * deposit_rate / 12.0 if cash_i > 0 else 0.0
                tb[0, b] += w * interest
                tb[1, b] += w * dint
                t[s, I_DEPOSITS_BEFORE] += cash_i
                q = output[i]
                r = revenue[i]
                q_per_a = q / prod_i  # output in units of labour-augmenting productivity
                # output beyond normal utilisation takes labour paid the overtime premium
                wages = (q + premium * overtime_output(q, capacity[i], u_normal[s])) / prod_i * labour_cost[s]
                serv = q_per_a * services_cost[s]
                en = q * energy_cost[s] * ei_i
                # the firm's own cost wedge: other inputs bought from the rest of the economy, at its VAT rate
                wedge = q * cost_wedge[i]
                mat = q * material_cost[s] + wedge
                dep = capital_i * dep_rate[s]
                pre = r - wages - serv - en - mat - interest + dint - dep
                vat = vat_rate[s] * r - vat_rate_inputs * (serv + en + wedge) - q * vat_inputs_per_q[s]
                # corporate income tax, on positive profit; small low-profit enterprises pay one rate up
                # to the lower band and another above it. Both taxes are computed and one is picked
                # (a select, not a branch: whether a firm is small or in profit varies row to row, and
                # a mispredicted branch cost more than the income pass's arithmetic, 5.2 -> 4.0 ms)
                low = pre if pre < small_low_month else small_low_month
                tax_small = cit_rate_small * low + cit_rate_small_upper * (pre - low)
                tax_std = cit_rate * pre
                tax = tax_small if sme_i & (pre <= small_profit_month) else tax_std
                tax = tax if pre > 0 else 0.0
                net = pre - tax
                div = payout * net if net > 0 else 0.0
                flow = r - wages - serv - en - mat - interest + dint - tax - div
                cash_i += flow
                capital_i -= dep
                capital[i] = capital_i
                profit[i] = net
                profit_year[i] = profit_year[i] * (11.0 / 12.0) + net
                lm = loss_months[i] + 1 if net < 0 else 0
                loss_months[i] = lm
                t[s, I_REVENUE] += r
                t[s, I_WAGES] += wages
                t[s, I_SERVICES] += serv
                t[s, I_ENERGY] += en
                t[s, I_MATERIALS] += mat
                t[s, I_INTEREST] += interest
                t[s, I_DEPRECIATION] += dep
                t[s, I_VAT] += vat
                t[s, I_CIT] += tax
                t[s, I_DIVIDENDS] += div
                t[s, I_OUTPUT] += q
                t[s, I_CAPACITY] += capacity[i]
                t[s, I_DEPOSIT_INTEREST] += dint
                t[s, I_DEPOSITS_AFTER] += cash_i
                t[s, I_WORKERS] += q_per_a * workers_per_yuan[s]
                t[s, I_ENERGY_USE] += q * mwh_per_yuan[s] * ei_i
                if pay_on:  # the distributions (as payout.pay_out_excess_cash)
                    excess = cash_i - target[s] * 12.0 * r
                    # a select, not a branch (whether a firm holds excess deposits varies row to row:
                    # the mispredicted branch cost 4 of the pass's 11 ms on one thread at 1:1); a firm
                    # without excess pays 0.0, which leaves its deposits and the sector's sum as they were
                    pay = speed * excess if excess > 0.0 else 0.0
                    cash_i = cash_i - pay
                    tp[s] += w * pay
                    dep_left += w * cash_i
                cash[i] = cash_i
            # the block's credit scores (as credit.credit_scores), from the deposits left after any
            # distribution, and their probabilities, in a loop of their own, which LLVM vectorises
            # (`elementary`; its divisions four or eight at a time): an empty row's probability is 0
            for i in range(lo, hi):
                x = credit_score(cash[i] + capital[i] + other_assets[i], loans[i], profit[i], revenue[i],
                                 loss_months[i], sme[i], score)
                pd[i] = default_probability(x if alive[i] else -np.inf, soe[i], soe_cut)
            lo = hi
        part_dep[c, 0] = dep_left
    table[:] = 0.0
    bank_interest[:] = 0.0
    bank_deposit_interest[:] = 0.0
    paid[:] = 0.0
    deposits_left = 0.0
    add_chunks(table, part)
    for c in range(nc):
        for b in range(n_b):
            bank_interest[b] += part_bank[c, 0, b]
            bank_deposit_interest[b] += part_bank[c, 1, b]
    add_chunks(paid, part_paid)
    for c in range(nc):
        deposits_left += part_dep[c, 0]
    income_identities(table)
    return deposits_left


@kernel
def income_identities(table):
    """The columns of the income table that are sums of others (value added, pre-tax profit, net
    profit, the firms' net cash flow), from the sector sums of those others. (The deposits after
    are summed firm by firm: the stock-flow check compares them with deposits before plus this
    cash flow, so it checks every firm's cash against its income statement.)"""
    for s in range(table.shape[0]):
        t = table[s]
        t[I_VALUE_ADDED] = t[I_REVENUE] - t[I_SERVICES] - t[I_ENERGY] - t[I_MATERIALS]
        t[I_PRETAX] = (t[I_VALUE_ADDED] - t[I_WAGES] - t[I_INTEREST] + t[I_DEPOSIT_INTEREST]
                       - t[I_DEPRECIATION])
        t[I_PROFIT] = t[I_PRETAX] - t[I_CIT]
        t[I_CASH] = t[I_PROFIT] + t[I_DEPRECIATION] - t[I_DIVIDENDS]


(S_OUTPUT, S_CAPACITY, S_N_FIRMS, S_PROD_W, S_EI_W, S_LOANS, S_NET_WORTH, S_PIPELINE, S_PRICE_W,
 S_MARKUP_W, S_LOSS_MAKING) = range(11)
N_STOCKS = 11

# the scalar parameters of the month's sums (the banking settings of the same names, and the SME threshold)
SUMS_FIELDS = {
    "risk_weight_sme": (float, "risk weight of loans to SMEs"),
    "risk_weight_large": (float, "risk weight of loans to large firms"),
    "risk_weight_guaranteed": (float, "risk weight of the guarantee-covered part of a loan"),
    "special_mention_months": (int, "consecutive loss-making months after which a live firm's loan is special "
                                    "mention"),
    "substandard_after_months": (int, "months past due after which a defaulted loan is substandard"),
    "doubtful_after_months": (int, "months past due after which a defaulted loan is doubtful"),
    "loss_after_months": (int, "months past due after which a defaulted loan is loss"),
    "sme_threshold": (float, "capacity below which a firm is an SME, yuan/month (the revenue threshold / 12)"),
}
# the records' sums `month_sums` writes (the model's arrays of the same names, without the underscore)
RECORD_FIELDS = {
    "stocks": (np.float64, "per sector, the firms' stocks and flows (columns S_*), one model firm each"),
    "cls_loans": (np.float64, "per size class (0 SME, 1 large), loans, economy-wide yuan"),
    "cls_interest": (np.float64, "per size class, loans x loan rate, economy-wide yuan/yr"),
    "cls_credit": (np.float64, "per size class (rows) and item (columns): credit granted with renewals, yuan; new "
                               "money, yuan; new money x its rate, yuan/yr; firms refused, real firms"),
    "counts": (np.float64, "live firms, live firms below the SME threshold and estates in the court procedure "
                           "(`sums.classify_and_weigh` plans its sums with them; -1: not counted)"),
    "held": (np.float64, "per sector, the fixed capital, other assets and other liabilities of the live firms and "
                         "the estates in court, one model firm each (the closed economy's balance sheet; as "
                         "sums.sector_sums sums them); length 0: not summed"),
}
SumsParams = namedtuple("SumsParams", tuple(SUMS_FIELDS))
RecordSums = namedtuple("RecordSums", tuple(RECORD_FIELDS), defaults=(np.zeros((0, 3)),))


def sums_params(banking, sme_threshold: float) -> SumsParams:
    """From the scenario's banking settings and the model's SME threshold (capacity, yuan/month)."""
    return SumsParams(*(kind(sme_threshold if name == "sme_threshold" else getattr(banking, name))
                        for name, (kind, _) in SUMS_FIELDS.items()))


# banks a task of month_sums' adding up of the chunks' sums by bank takes
BANK_BLOCK = 512


@kernel
def _add_up_all(part, dsts, lo, hi):
    """dsts[k][lo:hi] = the sum over chunks c, in order from 0.0, of part[c, k, lo:hi], for each k."""
    for k in range(len(dsts)):
        dst = dsts[k]
        for b in range(lo, hi):
            dst[b] = 0.0
        for c in range(part.shape[0]):
            for b in range(lo, hi):
                dst[b] += part[c, k, b]


@kernel(parallel=True)
def month_sums(firms, banks, books, sectors, params, flows, records, out):
    """The month's sums over firm rows, in one pass (fixed chunks of rows, so the sums do not depend
    on the number of threads).

    Bank exposures from the firms' books: loans by size class, guaranteed part, risk-weighted
    assets, deposits, loans by category (special mention, substandard, doubtful, loss; the last three
    non-performing: `exposure.loan_category`) (economy-wide yuan), the estates in the court procedure
    (rows not alive with `court` > 0: their loans stay on the books) included; for the stock-flow
    checks, all loans each bank's firms owe it (`firm_loans`) and the firms' deposits (returned first).

    With `records`, also everything the records sum (else those arrays are left alone): per sector
    the firms' stocks and flows (unweighted, one model firm each; columns S_*); per size class (0
    sme, 1 large; live firms classified by capacity against the revenue threshold, as
    `sums.classify_size` will reclassify them once the banks have closed the month) weighted loans
    and loan interest; the guaranteed stock (returned second); and per size class the credit
    granted this month (with renewals; new money; interest on new money; firms refused; over all
    rows, as the credit arrays are per row); if out.held has rows, per sector the fixed capital,
    other assets and other liabilities of the live firms and the estates (the closed economy's
    balance sheet), as sums.sector_sums sums them; the live firms, those below the SME threshold and
    the estates in court (out.counts: `sums.classify_and_weigh` plans its sums with them).

    firms: FirmState (read only); banks: BankState (writes loans_sme, loans_large, guaranteed, rwa,
    deposits, npl, loans_special, loans_substandard, loans_doubtful, loans_loss); books: the month's
    credit (state.CreditBooks: reads granted, denied by row, and the new loans' rates and renewals
    by applicant, each chunk walking the applicants beside its rows); sectors:
    SectorTables (weight); params: SumsParams; flows: BankFlows (writes firm_loans); records: bool;
    out: RecordSums (written with `records`)."""
    # the arrays are bound to locals before the loops, as in every parallel kernel (a write through
    # a tuple's attribute inside prange is lost; here the writes come after the loop, as whole-array
    # operations numba may make parallel loops of its own)
    alive = firms.alive
    sector = firms.sector
    bank = firms.bank
    sme = firms.sme
    loans = firms.loans
    guaranteed = firms.guaranteed
    cash = firms.cash
    loss_months = firms.loss_months
    court = firms.court
    output = firms.output
    capacity = firms.capacity
    productivity = firms.productivity
    energy_intensity = firms.energy_intensity
    net_worth = firms.net_worth
    pipeline = firms.pipeline
    price = firms.price
    markup = firms.markup
    loan_rate = firms.loan_rate
    profit_year = firms.profit_year
    granted = books.granted
    denied = books.denied
    apps = books.applicants
    app_rate = books.new_rate
    app_renewed = books.renewed
    n_app = apps.shape[0]
    weight = sectors.weight
    loans_sme = banks.loans_sme
    loans_large = banks.loans_large
    bank_guaranteed = banks.guaranteed
    rwa = banks.rwa
    deposits = banks.deposits
    npl = banks.npl
    loans_special = banks.loans_special
    loans_substandard = banks.loans_substandard
    loans_doubtful = banks.loans_doubtful
    loans_loss = banks.loans_loss
    firm_loans = flows.firm_loans
    stocks = out.stocks
    held = out.held
    other_assets = firms.other_assets
    other_liab = firms.other_liab
    capital = firms.capital
    cls_loans = out.cls_loans
    cls_interest = out.cls_interest
    credit = out.cls_credit
    counts = out.counts
    rw_sme = params.risk_weight_sme
    rw_large = params.risk_weight_large
    rw_g = params.risk_weight_guaranteed
    special_months = params.special_mention_months
    substandard_after = params.substandard_after_months
    doubtful_after = params.doubtful_after_months
    loss_after = params.loss_after_months
    threshold_month = params.sme_threshold
    n = alive.shape[0]
    n_b = loans_sme.shape[0]
    n_s = stocks.shape[0]
    nc, cs = chunks(n)
    part = np.empty((nc, 10, n_b))  # sme, large, guaranteed, rwa, deposits, 4 categories, firm loans (zeroed per chunk)
    p_st = np.zeros((nc, n_s, N_STOCKS))
    p_small = np.zeros((nc, 16))  # per chunk: loans, interest, credit by class, guaranteed, deposits, counts
    sum_held = records and held.shape[0] > 0
    p_held = np.zeros((nc, held.shape[0], 3))
    for c in prange(nc):
        tb = part[c]
        tb[:] = 0.0
        t = p_st[c]
        th = p_held[c]
        dep = 0.0
        l0 = l1 = r0 = r1 = g_tot = n_small = n_est = 0.0
        a0 = a1 = m0 = m1 = x0 = x1 = d0 = d1 = 0.0
        at = np.searchsorted(apps, c * cs)  # the chunk's first applicant
        for i in rows_of(c, cs, n):
            s = np.uint64(sector[i])
            w = weight[s]
            live = alive[i]
            loans_i = loans[i]
            g_i = guaranteed[i]
            sme_i = sme[i]
            # Sums a row adds to or not as it goes are selects, adding 0.0 where it adds nothing (a
            # sum that starts at +0.0 and adds 0.0 keeps its bits), not branches: whether a firm is
            # an SME, loss-making, in a loan category or asked for credit varies row to row, and the
            # mispredicted branches cost about 1 ms of the pass's 7 on one thread at 1:1
            if live or court[i] > 0:  # a live firm, or an estate in the court procedure (no deposits)
                b = np.uint64(bank[i])
                lw = w * loans_i
                g = g_i / (loans_i if loans_i > 1e-300 else 1e-300)
                g = g if g < 1.0 else 1.0
                gshare = g if loans_i > 0 else 0.0
                rw = (rw_sme if sme_i else rw_large) * (1 - gshare) + rw_g * gshare
                tb[np.uint64(0 if sme_i else 1), b] += lw  # (an index, not a branch: see below)
                tb[2, b] += w * g_i
                tb[3, b] += rw * lw
                cat = loan_category(live, loss_months[i], court[i], special_months, substandard_after,
                                    doubtful_after, loss_after)
                # a normal loan adds 0.0 (to the special mention row), which leaves it as it was
                tb[np.uint64(4 + (cat if cat > 0 else 1)), b] += lw if cat > 0 else 0.0
                tb[9, b] += w * loans_i
                if live:
                    cash_i = cash[i]
                    tb[4, b] += w * (cash_i if cash_i > 0.0 else 0.0)
                    dep += w * cash_i
                else:
                    n_est += 1.0
                if sum_held:
                    th[s, 0] += capital[i]
                    th[s, 1] += other_assets[i]
                    th[s, 2] += other_liab[i]
            if not records:
                continue
            if live:
                q = output[i]
                k = capacity[i]
                t[s, S_OUTPUT] += q
                t[s, S_CAPACITY] += k
                t[s, S_N_FIRMS] += 1.0
                t[s, S_PROD_W] += productivity[i] * k
                t[s, S_EI_W] += energy_intensity[i] * q
                t[s, S_LOANS] += loans_i
                t[s, S_NET_WORTH] += net_worth[i]
                t[s, S_PIPELINE] += pipeline[i]
                t[s, S_PRICE_W] += price[i] * q
                t[s, S_MARKUP_W] += markup[i] * q
                # loss-making over about the last twelve months
                t[s, S_LOSS_MAKING] += 1.0 if profit_year[i] < 0.0 else 0.0
                small = k < threshold_month
                wl = w * loans_i
                wlr = wl * loan_rate[i]
                l0 += wl if small else 0.0
                r0 += wlr if small else 0.0
                l1 += 0.0 if small else wl
                r1 += 0.0 if small else wlr
                g_tot += w * g_i
                n_small += 1.0 if small else 0.0
            else:
                small = sme_i
            gr = lent(granted, i)
            g = gr * w
            rate = 0.0  # the rate of the new loan (applicants only)
            ro = -granted[i] if granted[i] < 0.0 else 0.0  # the instalment renewed (`credit.renewed`)
            if at < n_app and apps[at] == i:
                rate = app_rate[at]
                ro = app_renewed[at]
                at += 1
            av = (gr + ro) * w
            gx = g * rate
            dw = w if denied[i] else 0.0
            a0 += av if small else 0.0
            m0 += g if small else 0.0
            x0 += gx if small else 0.0
            d0 += dw if small else 0.0
            a1 += 0.0 if small else av
            m1 += 0.0 if small else g
            x1 += 0.0 if small else gx
            d1 += 0.0 if small else dw
        ps = p_small[c]
        ps[0] = l0
        ps[1] = l1
        ps[2] = r0
        ps[3] = r1
        ps[4] = a0
        ps[5] = m0
        ps[6] = x0
        ps[7] = d0
        ps[8] = a1
        ps[9] = m1
        ps[10] = x1
        ps[11] = d1
        ps[12] = g_tot
        ps[13] = dep
        ps[14] = n_small
        ps[15] = n_est
    # the chunks' sums by bank added up in parallel over blocks of banks, each bank's in chunk order
    # from 0.0 (as `a[:] = 0.0` then `a[:] += part[c]` chunk by chunk add them)
    n_bb = (n_b + BANK_BLOCK - 1) // BANK_BLOCK
    for q in prange(n_bb):
        lo = q * BANK_BLOCK
        hi = min(lo + BANK_BLOCK, n_b)
        _add_up_all(part, (loans_sme, loans_large, bank_guaranteed, rwa, deposits, loans_special, loans_substandard,
                           loans_doubtful, loans_loss, firm_loans), lo, hi)
        for b in range(lo, hi):
            npl[b] = loans_substandard[b] + loans_doubtful[b] + loans_loss[b]
    total_dep = 0.0
    for c in range(nc):
        total_dep += p_small[c, 13]
    total_g = 0.0
    if records:
        stocks[:] = 0.0
        held[:] = 0.0
        cls_loans[:] = 0.0
        cls_interest[:] = 0.0
        credit[:] = 0.0
        counts[:] = 0.0
        add_chunks(stocks, p_st)
        add_chunks(held, p_held)
        for c in range(nc):
            ps = p_small[c]
            for k in range(2):
                cls_loans[k] += ps[k]
                cls_interest[k] += ps[2 + k]
                for j in range(4):
                    credit[k, j] += ps[4 + 4 * k + j]
            total_g += ps[12]
            counts[1] += ps[14]  # (whole numbers: exact in any order)
            counts[2] += ps[15]
        for k in range(n_s):
            counts[0] += stocks[k, S_N_FIRMS]
    return total_dep, total_g
