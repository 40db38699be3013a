"""The whole economy's monthly transaction-flow matrix and balance sheets (Godley and Lavoie,
Monetary Economics, 2007, ch. 2; the layout of the SFC agent-based models, Caiani et al., JEDC 2016).

A flow row names one transaction; each of its entries is what an institution receives (+) or pays
(-), so every row sums to zero by construction of the books that fill it. The financial rows hold
the change in each financial stock: a rise in an asset is a use of funds (-), a rise in a liability a
source (+). Every column then sums to zero only if the institution's stock changes, taken from its
own balance sheet, equal its flows: that is the check (kernels.flows.gaps, which fills the matrix
month by month), and a gap names the row, the institution and the month (`gaps`).
"""

from __future__ import annotations

import numpy as np

INSTITUTIONS = ("firms", "households", "government", "banks", "central_bank", "rest_of_world", "rest_of_economy")
F, H, G, B, CB, W, R = range(len(INSTITUTIONS))

# name: description (what is paid, by whom to whom)
FLOWS: dict[str, str] = {
    "sales_households": "modelled industries' sales to households, ex-VAT",
    "sales_government": "sales to the government, ex-VAT",
    "sales_exports": "sales to the rest of the world, ex-VAT",
    "sales_rest": "sales to the rest of the domestic economy (construction, infrastructure, equipment), ex-VAT",
    "sales_capital_goods": "capital goods for the industries' own projects, bought through the rest of the economy",
    "vat_on_sales": "output VAT the buyers pay on the industries' sales",
    "export_vat_refund": "VAT refunded on exports (exports are zero-rated)",
    "inputs_from_rest": "energy, services and materials the industries buy from the rest of the economy, ex-VAT",
    "vat_on_inputs": "input VAT the industries pay on them",
    "vat_remitted": "VAT remitted: output VAT less input VAT, by the industries and the rest of the economy",
    "imports": "goods imported by firms (inputs short at home), households, government and the rest of the economy, "
               "ex-VAT",
    "vat_on_imports": "import VAT",
    "investment_spending": "the industries' spending on projects and upgrades, paid to the builders",
    "scrap_sales": "what the buyers of closed firms' plant, receivables and inventories pay for them",
    "court_costs": "costs of insolvency procedures (administrators, courts, lawyers, auctions), paid out of the "
                   "estates",
    "trade_credit_repaid": "trade credit and other liabilities of closed firms paid out of their assets",
    "wages": "wages paid by the industries",
    "income_rest": "the rest of the economy's value added paid to households (wages, mixed income, profits)",
    "taxes_rest": "taxes and fees on the rest of the economy's value added",
    "consumption_rest": "households' purchases from the rest of the economy",
    "government_rest": "government purchases from the rest of the economy",
    "transfers": "social benefits paid to households",
    "purchase_subsidies": "the government's share of subsidised purchases, refunded to the buyers",
    "subsidies": "upgrade subsidies and compensation for forced closures",
    "soft_budget_support": "local governments' transfers keeping state-owned firms that would default",
    "corporate_income_tax": "corporate income tax of the industries",
    "dividends": "dividends of the industries",
    "distributions": "deposits above the firms' liquidity target paid out to their owners",
    "liquidation_residuals": "what owners receive when a firm closes",
    "entry_equity": "owners' equity paid into entrants",
    "loan_interest": "interest on loans",
    "deposit_interest": "interest on deposits",
    "bond_interest": "interest on government bonds",
    "reserve_interest": "interest on reserves at the central bank",
    "advance_interest": "interest on central-bank advances to banks",
    "central_bank_profit": "central-bank profit remitted to the government",
    "bank_operating_costs": "banks' operating costs (staff)",
    "bank_taxes": "banks' income tax",
    "bank_dividends": "banks' dividends",
    "guarantee_fees": "fees paid to the public guarantee fund",
    "guarantee_payouts": "the fund's share of losses on guaranteed loans",
    "bank_recapitalisation": "public capital injected into failed banks, their losses covered, and the deposit "
                             "insurance fund's payments to the banks that take them over",
    "overdraft_losses": "negative deposits of closed firms borne by their banks",
    "d_loans": "change in loans (new loans less repayments)",
    "d_deposits": "change in deposits",
    "d_bonds": "change in government bonds",
    "d_reserves": "change in reserves",
    "d_advances": "change in central-bank advances",
    "d_foreign_assets": "change in the central bank's foreign assets (the trade balance)",
    # inclusive finance (docs/credit.md), last: rows of zeros at the end leave every column's sum, and so
    # the runs without these instruments, unchanged to the bit
    "relending_interest": "interest on central-bank re-lending for small and micro loans",
    "d_relending": "change in central-bank re-lending for small and micro loans",
}
FLOW_NAMES = tuple(FLOWS)
FLOW = {name: k for k, name in enumerate(FLOW_NAMES)}

# balance-sheet items: name: description; an asset is +, a liability -
ITEMS: dict[str, str] = {
    "deposits": "bank deposits",
    "loans": "bank loans to firms",
    "loan_loss_provisions": "provisions against loans (a contra-asset of banks)",
    "bonds": "government bonds",
    "reserves": "reserves at the central bank",
    "advances": "central-bank advances to banks",
    "relending": "central-bank re-lending to banks for small and micro loans (policy.relending_share)",
    "foreign_assets": "foreign assets of the central bank (its foreign-exchange reserves)",
    "fixed_capital": "fixed capital of the industries at book value",
    "other_assets": "receivables and inventories of the industries",
    "other_liabilities": "trade credit and other non-interest liabilities of the industries",
    "net_worth": "net worth (minus the sum of the rest of the column)",
}
ITEM_NAMES = tuple(ITEMS)
ITEM = {name: k for k, name in enumerate(ITEM_NAMES)}


def gaps(m: np.ndarray) -> tuple[str, str]:
    """Where a month's matrix `m` is furthest from closing: its largest row or column sum's row or
    column name, with the largest entry of that column (kernels.flows.gaps gives the sizes)."""
    rows = np.abs(m.sum(axis=1))
    cols = np.abs(m.sum(axis=0))
    r, c = int(np.argmax(rows)), int(np.argmax(cols))
    if rows[r] >= cols[c]:
        return f"flow '{FLOW_NAMES[r]}'", "all institutions"
    worst = int(np.argmax(np.abs(m[:, c])))
    return f"column of {INSTITUTIONS[c]}", f"largest entry '{FLOW_NAMES[worst]}'"
