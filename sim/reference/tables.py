"""The reference's per-sector tables: agents add their items by name into one dict per sector, and
the dicts become the engine's arrays (same columns as the kernels' tables)."""

from __future__ import annotations

import numpy as np

from ..kernels import accounting as acc
from ..kernels import exit_entry as xe
from ..kernels import investment as inv
from ..scenario.schema import SECTORS

N_S = len(SECTORS)

INCOME_COLUMNS = {
    "revenue": acc.I_REVENUE,
    "wages": acc.I_WAGES,
    "services": acc.I_SERVICES,
    "energy": acc.I_ENERGY,
    "materials": acc.I_MATERIALS,
    "value_added": acc.I_VALUE_ADDED,
    "interest": acc.I_INTEREST,
    "depreciation": acc.I_DEPRECIATION,
    "pretax": acc.I_PRETAX,
    "vat": acc.I_VAT,
    "cit": acc.I_CIT,
    "profit": acc.I_PROFIT,
    "dividends": acc.I_DIVIDENDS,
    "output": acc.I_OUTPUT,
    "capacity": acc.I_CAPACITY,
    "deposit_interest": acc.I_DEPOSIT_INTEREST,
    "cash": acc.I_CASH,
    "workers": acc.I_WORKERS,
    "energy_use": acc.I_ENERGY_USE,
}
# the income items agents report and the sector tables sum (the others follow from these:
# value added, pre-tax and net profit, net cash flow; as `accounting.income_identities`)
INCOME_SUMMED = tuple(k for k in INCOME_COLUMNS if k not in ("value_added", "pretax", "profit", "cash"))
INVEST_COLUMNS = {
    "added": inv.V_ADDED,
    "retired_dep": inv.V_RETIRED_DEP,
    "granted": inv.V_GRANTED,
    "upgrades": inv.V_UPGRADES,
    "upgrades_done": inv.V_UPGRADES_DONE,
    "subsidy": inv.V_SUBSIDY,
    "investment": inv.V_INVESTMENT,
    "cash": inv.V_CASH,
}
EXIT_COLUMNS = {
    "bankrupt": xe.X_BANKRUPT,
    "voluntary": xe.X_VOLUNTARY,
    "forced": xe.X_FORCED,
    "retired": xe.X_RETIRED,
    "write_off": xe.X_WRITE_OFF,
    "residual": xe.X_RESIDUAL,
    "compensation": xe.X_COMPENSATION,
    "loans_repaid": xe.X_LOANS_REPAID,
    "bankrupt_sme": xe.X_BANKRUPT_SME,
    "bankrupt_large": xe.X_BANKRUPT_LARGE,
    "cash": xe.X_CASH,
    "fund_payout": xe.X_FUND_PAYOUT,
    "scrap": xe.X_SCRAP,
    "overdraft": xe.X_OVERDRAFT,
    "default_sme": xe.X_DEFAULT_SME,
    "default_large": xe.X_DEFAULT_LARGE,
    "court_costs": xe.X_COURT_COSTS,
    "trade_credit": xe.X_TRADE_CREDIT,
    "settled": xe.X_SETTLED,
    "claims_settled": xe.X_CLAIMS_SETTLED,
    "evergreen": xe.X_EVERGREEN,
    "evergreened": xe.X_EVERGREENED,
    "support": xe.X_SUPPORT,
    "supported": xe.X_SUPPORTED,
    "zombies": xe.X_ZOMBIES,
    "zombie_loans": xe.X_ZOMBIE_LOANS,
}


def new_tables(columns: dict) -> list[dict]:
    return [dict.fromkeys(columns, 0.0) for _ in range(N_S)]


def to_array(tables: list[dict], columns: dict, out: np.ndarray) -> None:
    out[:, :] = 0.0
    for s, row in enumerate(tables):
        for name, col in columns.items():
            out[s, col] = row[name]
