"""The closed economy's month (sim.economy) in a few compiled calls: the budgets of final demand,
every flow of the month paid into the transaction-flow matrix, the stocks moved, the banks' interest
and positions, the balance sheets and the checks. Each value is the one the numpy and Python code
these replace computed, bit for bit: sums over sectors and banks as numpy sums them
(`sums.pairwise_sum`), sums over a matrix's axis 0 row after row as numpy adds them, `np.maximum`
and `clip` giving the second operand on a tie and propagating NaN, Python's `max` keeping the first
on a tie (tests/test_flows.py). That code paid some sixty flows through a Python call each and made
a numpy call or two for each sum of 30 sectors or banks: 0.25 ms a month, a tenth of a small
economy's month (benchmarks/RESULTS.md, "The closed economy's accounts in compiled calls"). The
powers and exponentials of final demand stay numpy's (its own vectorised exp and pow, not libm's).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .._numba import kernel
from ..economy.accounts import FLOW_NAMES, INSTITUTIONS, ITEM_NAMES
from . import accounting as acc
from . import exit_entry as xe
from . import investment as inv
from .capacity_rules import np_maximum
from .sums import pairwise_sum
from .tables import masked_sums

F, H, G, B, CB, W, R = range(len(INSTITUTIONS))
# the matrix's rows and the balance sheets' items by name (compile-time constants in the kernels)
K = namedtuple("Flows", FLOW_NAMES)(*range(len(FLOW_NAMES)))
S = namedtuple("Items", ITEM_NAMES)(*range(len(ITEM_NAMES)))
STOCK_CHANGES = tuple(k for k, name in enumerate(FLOW_NAMES) if name.startswith("d_"))  # the financial rows

# the month's values by sector the flows are paid from (economy-wide yuan a month unless said): the
# real orders of each final buyer (households, government, exports, the rest of the economy,
# capital goods), the industries' orders, revenue and output, the VAT rate on sales, import shares,
# households' and government's budgets, the ex-VAT and buyers' prices, the purchase subsidy, the
# intermediate sales and the imports standing in for them, and the distributions of excess deposits
SectorFlows = namedtuple("SectorFlows", (
    "orders", "demand", "revenue", "output", "tau", "import_share", "shortage_import_share", "h_budget",
    "g_budget", "base", "ptax", "purchase_subsidy", "intermediate_sales", "imported_inputs", "paid_out"))
# the month's scalars (yuan a month; NaN for a calibration constant not yet set: the first month sets it)
FlowTerms = namedtuple("FlowTerms", (
    "vat_rate_inputs", "current_account", "rest_import_share", "entry_capital", "entry_loans", "entry_cash",
    "fees", "consumption", "g_rest", "transfers", "cb_bond_interest", "bank_opex", "bank_tax", "bank_dividends",
    "recapitalisation", "yd0", "tax_rate_rest"))


@kernel
def _pay(m, k, payer, payee, amount):
    """`payer` pays `amount` to `payee` in row k (both may be the same institution: it nets out)."""
    m[k, payer] -= amount
    m[k, payee] += amount


@kernel
def _positive_sum(x):
    """numpy's `x.clip(min=0).sum()`: the negative values (and zeros) as 0.0, NaN kept."""
    buf = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        buf[i] = np_maximum(x[i], 0.0)
    return pairwise_sum(buf)


@kernel
def _negative_sum(x):
    """numpy's `x.clip(max=0).sum()`: the positive values (and zeros) as 0.0, NaN kept."""
    buf = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        v = x[i]
        buf[i] = v if v < 0.0 or np.isnan(v) else 0.0
    return pairwise_sum(buf)


@kernel
def government(m):
    """The government's receipts, spending and balance in the month's matrix `m` (its column's flows,
    the financial rows left out), as numpy summed them."""
    flows = m[:, G].copy()
    for k in STOCK_CHANGES:
        flows[k] = 0.0
    return _positive_sum(flows), -_negative_sum(flows), pairwise_sum(flows)


@kernel
def pay_flows(s, inc, ivt, ext, bank_interest, bank_parts, terms):
    """Every flow of the month into a new transaction-flow matrix (rows accounts.FLOWS), as
    Institutions.close_month paid them one by one, from the sector values `s` (SectorFlows), the
    income, investment and exit tables summed over sectors, the banks' loan and deposit interest
    (two arrays by bank), their positions' interest by bank (`bank_parts`: bond, reserve, advance,
    re-lending, households' deposits; BankPositions.bank_income) and the scalars `terms`
    (FlowTerms). Returns the matrix and (the rest of the economy's sales, households' disposable
    income, the government's revenue, the rest of the economy's import share and tax rate: the
    calibrated values in the first month)."""
    n_s = s.demand.shape[0]
    m = np.zeros((len(K), len(INSTITUTIONS)))
    tau = s.tau
    # sales to households, the government, exports, the rest and as capital goods, by sector
    sales = np.empty((5, n_s))
    taxed = np.empty(n_s)
    sold = np.empty(5)
    vat_sold = np.empty(5)
    for k in range(5):
        q = s.orders[k]
        for j in range(n_s):
            d = q[j] / s.demand[j] if s.demand[j] > 0 else 0.0
            sales[k, j] = s.revenue[j] * d
            taxed[j] = tau[j] * sales[k, j]
        sold[k] = pairwise_sum(sales[k])
        vat_sold[k] = pairwise_sum(taxed)
    payers = (H, G, W, R, R)
    rows = (K.sales_households, K.sales_government, K.sales_exports, K.sales_rest, K.sales_capital_goods)
    for k in range(5):  # (intermediate sales are paid firm to firm: they net out)
        _pay(m, rows[k], payers[k], F, sold[k])
        _pay(m, K.vat_on_sales, payers[k], F, vat_sold[k])
    _pay(m, K.export_vat_refund, G, W, vat_sold[2])
    sold_int, imp_int = s.intermediate_sales, s.imported_inputs
    _pay(m, K.vat_on_sales, F, F, pairwise_sum(tau * sold_int))
    # inputs from the rest of the economy
    mat_rest = inc[acc.I_MATERIALS] - pairwise_sum(sold_int) - pairwise_sum(imp_int)
    s_f = (inc[acc.I_SERVICES] + inc[acc.I_ENERGY]) + mat_rest
    vat_in = terms.vat_rate_inputs * s_f
    _pay(m, K.inputs_from_rest, F, R, s_f)
    _pay(m, K.vat_on_inputs, F, R, vat_in)
    _pay(m, K.vat_remitted, F, G, inc[acc.I_VAT])
    _pay(m, K.vat_remitted, R, G, vat_in - pairwise_sum(tau * (sales[3] + sales[4])))
    # imports (ex-VAT to the rest of the world, import VAT to the government); of the orders the
    # industries could not fill, a share is bought abroad, the rest goes without
    ms, tx = s.import_share, 1.0 + tau
    imp_rd = pairwise_sum(s.orders[3] / (1.0 - ms) * ms * s.base)
    short = np.empty(n_s)
    for j in range(n_s):
        x = 1.0 - (s.output[j] / s.demand[j] if s.demand[j] > 0 else 1.0)
        if not np.isnan(x):  # clip(x, 0, 1)
            x = 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)
        short[j] = s.shortage_import_share[j] * x
    imp_h = s.h_budget * ms + short * s.orders[0] * s.ptax
    imp_g = s.g_budget * ms + short * s.orders[1] * s.ptax
    imp_rd += pairwise_sum(short * s.orders[3] * s.base)
    rest_share = terms.rest_import_share
    if np.isnan(rest_share):  # calibrated on the first month: the 2019 current account
        rest_share = (sold[2] - terms.current_account - pairwise_sum((imp_h + imp_g) / tx) - imp_rd) / s_f
    _pay(m, K.imports, H, W, pairwise_sum(imp_h / tx))
    _pay(m, K.vat_on_imports, H, G, pairwise_sum(imp_h * tau / tx))
    _pay(m, K.imports, G, W, pairwise_sum(imp_g / tx))
    _pay(m, K.vat_on_imports, G, G, pairwise_sum(imp_g * tau / tx))
    _pay(m, K.imports, R, W, imp_rd + rest_share * s_f)
    _pay(m, K.imports, F, W, pairwise_sum(imp_int))  # inputs bought abroad for want of domestic supply
    _pay(m, K.vat_on_imports, F, G, pairwise_sum(tau * imp_int))
    # investment, scrap and entry
    _pay(m, K.investment_spending, F, R, ivt[inv.V_INVESTMENT] + terms.entry_capital)
    _pay(m, K.subsidies, G, F, ivt[inv.V_SUBSIDY] + ext[xe.X_COMPENSATION])
    _pay(m, K.soft_budget_support, G, F, ext[xe.X_SUPPORT])
    _pay(m, K.scrap_sales, R, F, ext[xe.X_SCRAP])
    _pay(m, K.court_costs, F, R, ext[xe.X_COURT_COSTS])
    _pay(m, K.trade_credit_repaid, F, R, ext[xe.X_TRADE_CREDIT])
    _pay(m, K.liquidation_residuals, F, H, ext[xe.X_RESIDUAL])
    _pay(m, K.entry_equity, H, F, terms.entry_cash + terms.entry_capital - terms.entry_loans)
    _pay(m, K.overdraft_losses, B, F, ext[xe.X_OVERDRAFT])
    # incomes of the industries
    _pay(m, K.wages, F, H, inc[acc.I_WAGES])
    _pay(m, K.corporate_income_tax, F, G, inc[acc.I_CIT])
    _pay(m, K.dividends, F, H, inc[acc.I_DIVIDENDS])
    _pay(m, K.distributions, F, H, pairwise_sum(s.paid_out))
    # the banks' interest, and their positions', each summed over banks
    _pay(m, K.loan_interest, F, B, pairwise_sum(bank_interest[0]))
    _pay(m, K.deposit_interest, B, F, pairwise_sum(bank_interest[1]))
    _pay(m, K.guarantee_fees, F, G, terms.fees)
    bond, reserve, advance, relending, household = (pairwise_sum(bank_parts[0]), pairwise_sum(bank_parts[1]),
                                                    pairwise_sum(bank_parts[2]), pairwise_sum(bank_parts[3]),
                                                    pairwise_sum(bank_parts[4]))
    # households and government
    ps = s.purchase_subsidy
    refund = np.empty(n_s)
    for j in range(n_s):
        kept = 1.0 - ps[j]  # np.maximum(1 - ps, 1e-12)
        refund[j] = ps[j] / (kept if kept > 1e-12 or np.isnan(kept) else 1e-12) * sales[0, j] * tx[j]
    _pay(m, K.purchase_subsidies, G, H, pairwise_sum(refund))
    c_rest = terms.consumption - pairwise_sum(s.h_budget)
    _pay(m, K.consumption_rest, H, R, c_rest)
    _pay(m, K.government_rest, G, R, terms.g_rest)
    _pay(m, K.transfers, G, H, terms.transfers)
    # banks and the central bank
    _pay(m, K.deposit_interest, B, H, household)
    _pay(m, K.bond_interest, G, B, bond)
    _pay(m, K.bond_interest, G, CB, terms.cb_bond_interest)
    _pay(m, K.reserve_interest, CB, B, reserve)
    _pay(m, K.advance_interest, B, CB, advance)
    _pay(m, K.relending_interest, B, CB, relending)
    _pay(m, K.central_bank_profit, CB, G, terms.cb_bond_interest + (advance - reserve) + relending)
    _pay(m, K.bank_operating_costs, B, H, terms.bank_opex)
    _pay(m, K.bank_taxes, B, G, terms.bank_tax)
    _pay(m, K.bank_dividends, B, H, terms.bank_dividends)
    _pay(m, K.guarantee_payouts, G, B, ext[xe.X_FUND_PAYOUT])
    _pay(m, K.bank_recapitalisation, G, B, terms.recapitalisation)
    # the rest of the economy passes its value added on, as taxes and as households' income
    s_r = s_f + (m[K.investment_spending, R] + c_rest + terms.g_rest)  # its sales
    va_r = pairwise_sum(m[:, R])
    yd_other = _positive_sum(m[:, H])
    tax_rate = terms.tax_rate_rest
    if np.isnan(tax_rate):  # calibrated on the first month: households' 2019 disposable income
        tax_rate = 1.0 - (terms.yd0 - yd_other) / va_r
    tax_r = tax_rate * va_r
    _pay(m, K.taxes_rest, R, G, tax_r)
    _pay(m, K.income_rest, R, H, va_r - tax_r)
    # the revenue the budget rules see: receipts net of the VAT refunded on exports (a negative tax;
    # counting receipts alone, a VAT cut's smaller refund went unseen and the revenue rule cut
    # purchases by 1.3 times the revenue actually lost)
    revenue = _positive_sum(m[:, G]) + m[K.export_vat_refund, G]
    return m, (s_r, yd_other + va_r - tax_r, revenue, rest_share, tax_rate)


@kernel
def stock_changes(m, d_loans, d_firm_deposits):
    """The flow part of the month's stock changes into `m` (after `pay_flows`): firms' loans and
    deposits from the banks' books, households' saving into their deposits, the government's
    deficit into bonds, the trade balance into the central bank's foreign assets (an asset bought
    uses funds, -, a liability issued is a source, +). Returns (households' saving, the deficit,
    the trade balance), each the column's sum as numpy sums it."""
    m[K.d_loans, F] += d_loans - 0.0
    m[K.d_loans, B] += 0.0 - d_loans
    d_dh = pairwise_sum(m[:, H])  # households' saving goes to their deposits
    m[K.d_deposits, F] += 0.0 - d_firm_deposits
    m[K.d_deposits, H] += 0.0 - d_dh
    m[K.d_deposits, B] += (d_firm_deposits + d_dh) - 0.0
    deficit = -pairwise_sum(m[:, G])
    m[K.d_bonds, G] += deficit - 0.0
    trade = -pairwise_sum(m[:, W])  # exports less imports
    m[K.d_foreign_assets, W] += trade - 0.0
    m[K.d_foreign_assets, CB] += 0.0 - trade
    return d_dh, deficit, trade


@kernel
def position_changes(m, before, after):
    """The banks' new positions into `m`: the changes in their reserves, bonds (theirs and the
    central bank's), advances and re-lending, from the sums over banks `before` and `after` the
    month's allocation (BankPositions._allocate)."""
    d_res, d_bonds_b, d_bonds_cb, d_adv, d_rel = (after[0] - before[0], after[1] - before[1],
                                                  after[2] - before[2], after[3] - before[3], after[4] - before[4])
    m[K.d_reserves, B] += 0.0 - d_res
    m[K.d_reserves, CB] += d_res - 0.0
    m[K.d_bonds, B] += 0.0 - d_bonds_b
    m[K.d_bonds, CB] += 0.0 - d_bonds_cb
    m[K.d_advances, B] += d_adv - 0.0
    m[K.d_advances, CB] += 0.0 - d_adv
    m[K.d_relending, B] += d_rel - 0.0
    m[K.d_relending, CB] += 0.0 - d_rel


@kernel
def column_sums(x):
    """numpy's `x.sum(axis=0)` of a C-ordered matrix: the rows added one after another."""
    out = x[0].copy()
    for i in range(1, x.shape[0]):
        out += x[i]
    return out


@kernel
def _largest(x):
    """numpy's `x.max()` of a 1-d array (NaN if any is NaN)."""
    best = x[0]
    for i in range(1, x.shape[0]):
        v = x[i]
        if v > best or np.isnan(v):
            best = v
            if np.isnan(v):
                break
    return best


@kernel
def balance_sheet(firm_deposits, dh, loans, provisions, debt, positions, fa, firm_stocks):
    """Stocks at the end of the month (items x institutions, yuan): assets +, liabilities -, net
    worth the balancing row of each column. `positions`: the banks' reserves, bonds, the central
    bank's bonds, the banks' advances and re-lending (summed over banks); `firm_stocks`: the firms'
    fixed capital, other assets and other liabilities."""
    s = np.zeros((len(S), len(INSTITUTIONS)))
    res, bonds, bonds_cb, adv, relend = positions
    s[S.deposits, F] += firm_deposits
    s[S.deposits, H] += dh
    s[S.deposits, B] += -(firm_deposits + dh)
    s[S.loans, F] += -loans
    s[S.loans, B] += loans
    s[S.loan_loss_provisions, B] += -provisions
    s[S.bonds, G] += -debt
    s[S.bonds, B] += bonds
    s[S.bonds, CB] += bonds_cb
    s[S.reserves, B] += res
    s[S.reserves, CB] += -res
    s[S.advances, B] += -adv
    s[S.advances, CB] += adv
    s[S.relending, B] += -relend
    s[S.relending, CB] += relend
    s[S.foreign_assets, CB] += fa
    s[S.foreign_assets, W] += -fa
    s[S.fixed_capital, F] += firm_stocks[0]
    s[S.other_assets, F] += firm_stocks[1]
    s[S.other_liabilities, F] += -firm_stocks[2]
    s[S.net_worth] = -column_sums(s)
    return s


@kernel
def gaps(m, sheet, bank_equity):
    """What must hold at the month's end, as Institutions.close_month checks it: (the largest row or
    column sum of the matrix, the size of its flows, the balance sheets' largest gap, the largest
    stock). The balance sheets must show the banks' net worth equal to their equity on their own
    books (`bank_equity`, the live banks' sum), the central bank's nil (it remits its profit), and
    each financial item one institution's asset and another's liability."""
    rows = np.empty(m.shape[0])
    for i in range(m.shape[0]):
        rows[i] = abs(pairwise_sum(m[i]))
    rows_max, cols_max = _largest(rows), _largest(np.abs(column_sums(m)))
    gap = rows_max if rows_max >= cols_max else cols_max
    size = _largest(np.abs(m.ravel()))
    scale = size if not 1.0 > size else 1.0  # the size of the flows, at least 1 yuan
    fin = (S.deposits, S.loans, S.bonds, S.reserves, S.advances, S.relending, S.foreign_assets)
    fin_gaps = np.empty(len(fin))
    for k in range(len(fin)):
        fin_gaps[k] = abs(pairwise_sum(sheet[fin[k]]))
    sheet_gap = abs(-sheet[S.net_worth, B] - bank_equity)
    for x in (abs(sheet[S.net_worth, CB]), _largest(fin_gaps)):
        if x > sheet_gap:
            sheet_gap = x
    return gap, scale, sheet_gap, _largest(np.abs(sheet.ravel()))


@kernel
def bank_interest(rates, bonds, reserves, excess, advances, relend, dh_bank):
    """Each bank's interest this month on its positions (BankPositions): `parts` by bank, the rows
    bond, reserve, advance, re-lending and households' deposits (what the accounts pay), and the net
    income (bond + reserve - advance - re-lending - deposits). `rates`: the bond rate a month, the
    reserve and excess reserve rates a year, the advance and re-lending rates a month, the deposit
    rate a month."""
    bond, reserve, excess_reserve, advance, relending, deposit = rates
    n = bonds.shape[0]
    parts = np.empty((5, n))
    income = np.empty(n)
    for i in range(n):
        parts[0, i] = bond * bonds[i]
        parts[1, i] = (reserve * reserves[i] + excess_reserve * excess[i]) / 12.0
        parts[2, i] = advance * advances[i]
        parts[3, i] = relending * relend[i]
        parts[4, i] = deposit * np_maximum(dh_bank[i], 0.0)
        income[i] = parts[0, i] + parts[1, i] - parts[2, i] - parts[3, i] - parts[4, i]
    return parts, income


@kernel
def _position_sums(reserves, excess, bonds, bonds_cb, advances, relend):
    """The banks' positions summed over banks as numpy sums them: reserves (required and excess),
    bonds, the central bank's bonds, advances, re-lending."""
    return (pairwise_sum(reserves) + pairwise_sum(excess), pairwise_sum(bonds), bonds_cb, pairwise_sum(advances),
            pairwise_sum(relend))


@kernel
def allocate(alive, size_share, dh, debt, bonds_cb, channels, books, positions):
    """The banks' positions this month (BankPositions._allocate), written into `positions`
    (households' deposits, required and excess reserves, bonds, advances, re-lending by bank):
    households' deposits `dh` spread over the live banks by size; required reserves on deposits at
    each bank's ratio; what is left buys bonds, pro rata when banks want more than the bonds
    outstanding (`debt`), the rest held as excess reserves; a bank short of funds borrows from the
    central bank. `channels`: each bank's required reserve ratio and re-lending this month;
    `books`: each bank's deposits, equity, loans and provisions; `bonds_cb`: the central bank's
    bonds before. Returns the positions summed over banks before and after (`_position_sums`; the
    central bank's bonds after are those banks do not hold)."""
    ratio, relending = channels
    deposits, equity, loans, provisions = books
    dh_bank, reserves, excess, bonds, advances, relend = positions
    before = _position_sums(reserves, excess, bonds, bonds_cb, advances, relend)
    n = alive.shape[0]
    relend[:] = relending
    share = np.empty(n)
    for i in range(n):
        share[i] = size_share[i] if alive[i] else 0.0
    total_share = pairwise_sum(share)
    want = np.empty(n)
    for i in range(n):
        dh_bank[i] = dh * share[i] / total_share
        liquidity, deps = 0.0, 0.0  # reserves plus bonds less advances, as the balance sheet implies
        if alive[i]:
            liquidity = deposits[i] + dh_bank[i] + equity[i] - loans[i] + provisions[i] + relend[i]
            deps = deposits[i] + dh_bank[i]
        reserves[i] = ratio[i] * np_maximum(deps, 0.0)
        rest = liquidity - reserves[i]
        want[i] = np_maximum(rest, 0.0)
        advances[i] = np_maximum(-rest, 0.0)
    total = pairwise_sum(want)
    scale = 1.0 if total <= debt else debt / total
    for i in range(n):
        bonds[i] = want[i] * scale
        excess[i] = want[i] - bonds[i]
    return before, _position_sums(reserves, excess, bonds, debt - pairwise_sum(bonds), advances, relend)
@kernel
def budgets(shares0, rest0, totals, price_effect, other, import_share, ptax, demand_support):
    """Households' and the government's budgets by good this month, what they buy of the
    industries' output, and final demand (Institutions.final_demand, each value as its numpy
    computed it): each spends its total (`totals`: households', government's) over goods by its 2019
    shares (`shares0`: households', government's by sector; `rest0`: their shares of the rest of the
    economy) times the relative price effect and the drift (`price_effect`), a share `import_share`
    of it imported; the demand support (`demand_support`: by sector, above one; and whether it comes out of
    the government's total) is extra government purchases. `other`: exports and the rest of the
    economy's purchases (real). Returns (households' budgets, government's budgets, its spending on
    the rest of the economy, households' and government's real purchases, final demand)."""
    theta0, gamma0 = shares0
    theta_rest, gamma_rest = rest0
    c, g_total = totals
    relative, drift = price_effect
    x, rd = other
    support, support_in_rule = demand_support
    w = theta0 * relative * drift
    h_budget = c * w / (pairwise_sum(w) + theta_rest)
    w = gamma0 * relative * drift
    denom = pairwise_sum(w) + gamma_rest
    g_budget = g_total * w / denom
    g_rest = g_total * gamma_rest / denom
    dom = 1.0 - import_share
    hq = h_budget * dom / ptax
    gq = g_budget * dom / ptax
    extra = np.empty(ptax.shape[0])
    for j in range(ptax.shape[0]):
        extra[j] = np_maximum(support[j] - 1.0, 0.0) * (hq[j] + gq[j] + x[j] + rd[j])
    if support_in_rule:  # max(1 - support / max(g_total, 1e-300), 0)
        spend = pairwise_sum(extra * ptax)
        left = 1.0 - spend / (g_total if not 1e-300 > g_total else 1e-300)
        cut = left if not 0.0 > left else 0.0
        g_budget = g_budget * cut
        g_rest = g_rest * cut
        gq = g_budget * dom / ptax
    gq = gq + extra
    g_budget = g_budget + extra * ptax / dom
    return h_budget, g_budget, g_rest, hq, gq, hq + gq + x + rd


@kernel
def intermediate_sales(sold, weight, intermediate, demand, short_share, base):
    """Institutions.input_bill's sector terms, each value as its numpy computed it: the live firms'
    output (q = sold[:, 0] x weight), their sales to intermediate use (revenue x intermediate orders
    / all orders, 0 where there were no orders) and the imports that stand in for the intermediate
    orders they could not fill (short_share x max(demand - q, 0) x that share x the ex-VAT price
    `base`). `sold`: output and revenue by sector (model-firm units). Returns the rows of one new
    (3, sectors) array: q, sales, imports."""
    n = weight.shape[0]
    out = np.empty((3, n))
    for s in range(n):
        q = sold[s, 0] * weight[s]
        int_share = intermediate[s] / demand[s] if demand[s] > 0 else 0.0
        out[0, s] = q
        out[1, s] = sold[s, 1] * weight[s] * int_share
        out[2, s] = short_share[s] * np_maximum(demand[s] - q, 0.0) * int_share * base[s]
    return out


@kernel
def per_received(sold, imported, got):
    """(sold + imported) / got, 0 where got is not positive (Institutions.input_bill: what a seller's
    buyers pay per unit received; np.divide's `where`). New array."""
    out = np.empty(got.shape[0])
    for s in range(got.shape[0]):
        out[s] = (sold[s] + imported[s]) / got[s] if got[s] > 0 else 0.0
    return out


@kernel
def sheet_and_gaps(alive, books, m, sheet_terms):
    """Institutions.close_month's end in one call: the live banks' loans, provisions and equity
    (`books`, summed as tables.masked_sums sums x[alive]), the balance sheets (`balance_sheet`;
    `sheet_terms`: firm deposits, households' deposits, bonds outstanding, the banks' positions, the
    central bank's foreign assets, the firms' stocks) and the checks of the matrix `m` and the sheets
    (`gaps`). Returns (the sheets, the checks)."""
    loans, provisions, equity = masked_sums(alive, books)
    firm_deposits, dh, debt, positions, fa, firm_stocks = sheet_terms
    sheet = balance_sheet(firm_deposits, dh, loans, provisions, debt, positions, fa, firm_stocks)
    return sheet, gaps(m, sheet, equity)
