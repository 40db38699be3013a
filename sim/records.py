"""Output variables: names, dimensions, units and long names (CONTRACT.md), preallocated
(time, ...) arrays written each step and turned into one xarray Dataset at the end."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .scenario.schema import SECTORS

SIZE_CLASSES = ("sme", "large")
Y = "yuan/month (economy-wide)"

# name: (dims, units, long_name)
VARIABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    # (time, sector)
    "output": (("time", "sector"), "yuan/month at 2019 prices", "Gross output, real"),
    "capacity": (("time", "sector"), "yuan/month at 2019 prices", "Productive capacity (maximum monthly output)"),
    "capacity_physical": (("time", "sector"), "sector capacity_unit (see attribute capacity_units)",
                          "Productive capacity in physical units (annual rate)"),
    "utilization": (("time", "sector"), "1", "Capacity utilisation: output over capacity"),
    "price_index": (("time", "sector"), "1 (2019-01 = 1)", "Producer price index, ex-VAT, output-weighted"),
    "price_index_tax_inclusive": (("time", "sector"), "1 (start = 1)",
                                  "Price paid by final buyers incl. VAT net of purchase subsidies"),
    "demand": (("time", "sector"), "yuan/month at 2019 prices", "Demand for the sector's output, real"),
    "final_demand": (("time", "sector"), "yuan/month at 2019 prices", "Final demand (households, government, "
                     "exports, construction), real"),
    "value_added": (("time", "sector"), Y, "Value added: sales less energy, services and material inputs"),
    "revenue": (("time", "sector"), Y, "Sales ex-VAT"),
    "profit": (("time", "sector"), Y, "Net profit after corporate income tax"),
    "profit_margin": (("time", "sector"), "1", "Net profit over sales"),
    "employment": (("time", "sector"), "persons", "Employment"),
    "wages": (("time", "sector"), Y, "Labour compensation"),
    "energy_use": (("time", "sector"), "MWh/month electricity-equivalent", "Energy use"),
    "energy_cost": (("time", "sector"), Y, "Energy purchases"),
    "unit_energy_cost": (("time", "sector"), "yuan per yuan of output", "Energy cost per unit of real output"),
    "vat_revenue": (("time", "sector"), Y, "VAT remitted: output VAT less input VAT"),
    "cit_revenue": (("time", "sector"), Y, "Corporate income tax"),
    "n_firms": (("time", "sector"), "firms (economy-wide)", "Number of active firms"),
    "entries": (("time", "sector"), "firms/month (economy-wide)", "Entrants"),
    "exits_bankruptcy": (("time", "sector"), "firms/month (economy-wide)", "Exits by bankruptcy"),
    "exits_forced": (("time", "sector"), "firms/month (economy-wide)", "Firms closed as backward capacity"),
    "exits_voluntary": (("time", "sector"), "firms/month (economy-wide)", "Exits after sustained losses"),
    "capacity_added": (("time", "sector"), "yuan/month at 2019 prices, per month",
                       "Capacity coming into operation (projects completed, entrants)"),
    "capacity_retired": (("time", "sector"), "yuan/month at 2019 prices, per month",
                         "Capacity retired (depreciation, exits, forced closures)"),
    "capacity_pipeline": (("time", "sector"), "yuan/month at 2019 prices", "Capacity under construction"),
    "productivity_mean": (("time", "sector"), "1 (2019 sector mean = 1)", "Capacity-weighted mean productivity"),
    "productivity_frontier": (("time", "sector"), "1 (2019 sector mean = 1)", "Sector productivity frontier"),
    "energy_intensity_mean": (("time", "sector"), "1 (2019 sector mean = 1)",
                              "Output-weighted mean energy intensity"),
    "markup_mean": (("time", "sector"), "1", "Output-weighted mean markup over unit cost"),
    "upgrades": (("time", "sector"), "firms/month (economy-wide)", "Technology upgrades started"),
    "upgrades_completed": (("time", "sector"), "firms/month (economy-wide)", "Technology upgrades completed"),
    "investment": (("time", "sector"), Y, "Investment spending (capacity and upgrades)"),
    "loans": (("time", "sector"), "yuan (economy-wide)", "Bank loans outstanding"),
    "net_worth": (("time", "sector"), "yuan (economy-wide)", "Net worth of firms"),
    # (time, size_class)
    "credit": (("time", "size_class"), "yuan (economy-wide)", "Bank loans outstanding by size class"),
    "loan_rate": (("time", "size_class"), "1/yr", "Loan-weighted average interest rate"),
    "bankruptcies": (("time", "size_class"), "firms/month (economy-wide)", "Bankruptcies by size class"),
    # (time,)
    "gdp": (("time",), Y, "Value added of the modelled industry"),
    "credit_total": (("time",), "yuan (economy-wide)", "Bank loans outstanding, all firms"),
    "loan_losses": (("time",), Y, "Loans written off by banks on exits (net of guarantee payouts)"),
    "credit_new": (("time", "size_class"), "yuan/month (economy-wide)", "New loans granted (rollovers included)"),
    "loan_rate_new": (("time", "size_class"), "1/yr", "Average interest rate on new loans (NaN: no new loans)"),
    "credit_denied": (("time", "size_class"), "firms/month (economy-wide)",
                      "Firms whose credit request was refused"),
    "credit_guaranteed": (("time",), "yuan (economy-wide)", "Loans covered by the financing-guarantee fund"),
    "npl_ratio": (("time",), "1", "Non-performing loans over loans"),
    "bank_capital_ratio": (("time",), "1", "Bank capital over risk-weighted assets (all banks)"),
    "bank_equity": (("time",), "yuan (economy-wide)", "Bank equity"),
    "bank_profit": (("time",), Y, "Bank net profit"),
    "bank_failures": (("time",), "banks/month", "Banks that failed and were resolved"),
    "banks_active": (("time",), "banks", "Banks operating (simulated)"),
    "guarantee_payouts": (("time",), Y, "Payouts of the financing-guarantee fund on defaulted loans"),
    "guarantee_fees": (("time",), Y, "Guarantee fees paid to the fund"),
    "bank_recapitalisation": (("time",), Y, "Government spending to resolve failed banks"),
    "gov_debt": (("time",), "yuan (economy-wide)", "Cumulative government deficit since the start"),
    "sfc_error": (("time",), "yuan", "Largest stock-flow gap this step (bank vs firm loans, firm deposits vs "
                  "recorded flows); rounding level"),
    "gov_balance": (("time",), Y, "Government budget balance: taxes less spending, subsidies and compensation"),
    "tax_revenue": (("time",), Y, "VAT and corporate income tax"),
    "gov_spending": (("time",), Y, "Government final spending"),
    "subsidies": (("time",), Y, "Upgrade and purchase subsidies and exit compensation"),
    "household_income": (("time",), Y, "Wages and firms' dividends"),
    "income_index": (("time",), "1", "Household and government income relative to trend"),
    "policy_rate": (("time",), "1/yr", "Policy lending rate"),
}


class Recorder:
    def __init__(self, months: int):
        self.months = months
        self.data: dict[str, np.ndarray] = {}
        for name, (dims, _, _) in VARIABLES.items():
            shape = [months] + [len(SECTORS) if d == "sector" else len(SIZE_CLASSES) for d in dims[1:]]
            self.data[name] = np.full(shape, np.nan)

    def __setitem__(self, key: tuple[str, int], value) -> None:
        name, t = key
        self.data[name][t] = value

    def to_dataset(self, start: str, attrs: dict) -> xr.Dataset:
        t0 = np.datetime64(start, "M")
        time = (t0 + np.arange(self.months)).astype("datetime64[ns]")
        coords = {"time": time, "sector": np.array(SECTORS), "size_class": np.array(SIZE_CLASSES)}
        ds = xr.Dataset(
            {
                name: xr.DataArray(self.data[name], dims=dims, attrs={"units": units, "long_name": long})
                for name, (dims, units, long) in VARIABLES.items()
            },
            coords=coords,
            attrs=attrs,
        )
        ds["time"].attrs.update(long_name="Month (start of month)")
        ds["sector"].attrs.update(long_name="Sector id")
        ds["size_class"].attrs.update(long_name="Firm size class (NBS 2017 classification by revenue)")
        return ds
