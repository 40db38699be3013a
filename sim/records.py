"""Output variables: names, dimensions, units and long names (CONTRACT.md), preallocated
(time, ...) arrays written each step and turned into one xarray Dataset at the end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .scenario.schema import SECTORS

SIZE_CLASSES = ("sme", "large")
# loan categories (CBIRC five-category classification; kernels.exposure.CATEGORIES)
CATEGORIES = ("normal", "special_mention", "substandard", "doubtful", "loss")
Y = "yuan/month"  # money flows: economy-wide, a monthly rate (units parse with sim.units.registry())

REAL = {"price_base": "constant 2019 prices"}
NOMINAL = {"price_base": "current prices"}
REAL_CAPACITY_FLOW = {"price_base": "constant 2019 prices",
                      "comment": "capacity (monthly output at 2019 prices) coming into operation or retired "
                                 "during the month"}
PHYSICAL = {"comment": "each sector's physical unit is in the Dataset attribute capacity_units"}
BASE_2019_01 = {"reference": "2019-01 = 1"}
BASE_START = {"reference": "first month of the status quo = 1 (docs/model.md, reference month)"}
BASE_SECTOR_2019 = {"reference": "2019 sector mean = 1"}
ELECTRICITY_EQ = {"comment": "electricity-equivalent"}
PER_REAL_OUTPUT = {"comment": "yuan of energy purchases per yuan of output at 2019 prices"}

# name: (dims, units, long_name); units are pint expressions (sim/units.py)
VARIABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "output": (("time", "sector"), Y, "Gross output, real"),
    "capacity": (("time", "sector"), Y, "Productive capacity (maximum monthly output)"),
    "capacity_physical": (("time", "sector"), "capacity_unit/year",
                          "Productive capacity in physical units (annual rate)"),
    "utilization": (("time", "sector"), "1", "Capacity utilisation: output over capacity"),
    "price_index": (("time", "sector"), "1", "Producer price index, ex-VAT, output-weighted"),
    "price_index_tax_inclusive": (("time", "sector"), "1",
                                  "Price paid by final buyers incl. VAT net of purchase subsidies"),
    "demand": (("time", "sector"), Y, "Demand for the sector's output, real"),
    "final_demand": (("time", "sector"), Y, "Final demand (households, government, exports, construction), real"),
    "unfilled_orders": (("time", "sector"), Y, "Orders the sector's firms did not fill (at capacity or short of "
                                               "inputs), real"),
    "input_fill": (("time", "sector"), "1", "Share of its orders the sector could fill given the supply of its "
                                            "critical inputs"),
    "value_added": (("time", "sector"), Y, "Value added: sales less energy, services and material inputs"),
    "revenue": (("time", "sector"), Y, "Sales ex-VAT"),
    "profit": (("time", "sector"), Y, "Net profit after corporate income tax"),
    "profit_margin": (("time", "sector"), "1", "Net profit over sales"),
    "employment": (("time", "sector"), "person", "Employment"),
    "wages": (("time", "sector"), Y, "Labour compensation"),
    "energy_use": (("time", "sector"), "MWh/month", "Energy use"),
    "energy_cost": (("time", "sector"), Y, "Energy purchases"),
    "unit_energy_cost": (("time", "sector"), "yuan/yuan", "Energy cost per unit of real output"),
    "vat_revenue": (("time", "sector"), Y, "VAT remitted: output VAT less input VAT"),
    "cit_revenue": (("time", "sector"), Y, "Corporate income tax"),
    "n_firms": (("time", "sector"), "firm", "Number of active firms"),
    "entries": (("time", "sector"), "firm/month", "Entrants"),
    "exits_bankruptcy": (("time", "sector"), "firm/month", "Exits by bankruptcy"),
    "exits_forced": (("time", "sector"), "firm/month", "Firms closed as backward capacity"),
    "exits_voluntary": (("time", "sector"), "firm/month", "Exits after sustained losses"),
    "capacity_added": (("time", "sector"), Y, "Capacity coming into operation (projects completed, entrants)"),
    "capacity_retired": (("time", "sector"), Y, "Capacity retired (depreciation, exits, forced closures)"),
    "capacity_pipeline": (("time", "sector"), Y, "Capacity under construction"),
    "productivity_mean": (("time", "sector"), "1", "Capacity-weighted mean productivity"),
    "productivity_frontier": (("time", "sector"), "1", "Sector productivity frontier"),
    "energy_intensity_mean": (("time", "sector"), "1", "Output-weighted mean energy intensity"),
    "markup_mean": (("time", "sector"), "1", "Output-weighted mean markup over unit cost"),
    "upgrades": (("time", "sector"), "firm/month", "Technology upgrades started"),
    "upgrades_completed": (("time", "sector"), "firm/month", "Technology upgrades completed"),
    "investment": (("time", "sector"), Y, "Investment spending (capacity and upgrades)"),
    "loans": (("time", "sector"), "yuan", "Bank loans outstanding"),
    "net_worth": (("time", "sector"), "yuan", "Net worth of firms"),
    "loss_making_share": (("time", "sector"), "1", "Loss-making firms: share of active firms whose net profit "
                          "over about the last 12 months (exponentially weighted) is negative"),
    "credit": (("time", "size_class"), "yuan", "Bank loans outstanding by size class"),
    "loan_rate": (("time", "size_class"), "1/year", "Loan-weighted average interest rate"),
    "bankruptcies": (("time", "size_class"), "firm/month", "Bankruptcies by size class"),
    "defaults": (("time", "size_class"), "firm/month",
                 "Firms defaulting (unable to pay, negative equity, or leaving with assets short of their loans), "
                 "entering the court procedure"),
    "default_rate": (("time", "size_class"), "1/month",
                     "Defaults over the firms of the size class alive at the end of the month plus those that "
                     "defaulted in it"),
    "npl_by_category": (("time", "category"), "yuan",
                        "Bank loans by CBIRC category (normal, special mention; substandard, doubtful and loss are "
                        "non-performing), estates in the court procedure included"),
    "loans_in_court": (("time",), "yuan", "Loans of defaulted firms whose estates are in the court procedure"),
    "court_costs": (("time",), Y, "Costs of the court procedures of estates liquidated this month"),
    "recovery_rate_defaulted": (("time",), "1",
                                "Share of the banks' claims on the estates liquidated this month that they "
                                "recovered (NaN: none liquidated)"),
    "zombie_share": (("time", "sector"), "1",
                     "Zombie firms (OECD: at least ten years old, interest coverage below one for three consecutive "
                     "years), share of active firms"),
    "zombie_loans": (("time",), "yuan", "Bank loans to zombie firms"),
    "zombie_loan_share": (("time",), "1", "Bank loans to zombie firms over bank loans to active firms"),
    "evergreen_credit": (("time",), Y, "Credit banks extended to keep borrowers that would default current "
                                       "(evergreening; the loans stay performing)"),
    "firms_evergreened": (("time",), "firm/month", "Firms that would have defaulted kept alive by their bank"),
    "soft_budget_support": (("time",), Y, "Local governments' transfers to state-owned firms that would have "
                                          "defaulted (soft budget constraint)"),
    "firms_supported": (("time",), "firm/month", "State-owned firms that would have defaulted kept alive by a "
                                                 "government transfer"),
    "gdp": (("time",), Y, "Value added of the modelled industry"),
    "credit_total": (("time",), "yuan", "Bank loans outstanding, all firms"),
    "loan_losses": (("time",), Y, "Loans written off by banks when defaulted firms' estates are liquidated (net "
                                  "of guarantee payouts)"),
    "credit_new": (("time", "size_class"), Y, "New loans granted (rollovers included)"),
    "loan_rate_new": (("time", "size_class"), "1/year", "Average interest rate on new loans (NaN: no new loans)"),
    "credit_denied": (("time", "size_class"), "firm/month", "Firms whose credit request was refused"),
    "credit_guaranteed": (("time",), "yuan", "Loans covered by the financing-guarantee fund"),
    "npl_ratio": (("time",), "1", "Non-performing loans over loans"),
    "bank_capital_ratio": (("time",), "1", "Bank capital over risk-weighted assets (all banks)"),
    "bank_equity": (("time",), "yuan", "Bank equity"),
    "bank_profit": (("time",), Y, "Bank net profit"),
    "bank_failures": (("time",), "bank/month", "Banks that failed and were resolved"),
    "banks_active": (("time",), "bank", "Banks operating (simulated)"),
    "guarantee_payouts": (("time",), Y, "Payouts of the financing-guarantee fund on defaulted loans"),
    "guarantee_fees": (("time",), Y, "Guarantee fees paid to the fund"),
    "bank_recapitalisation": (("time",), Y, "Government spending to resolve failed banks (the deposit "
                              "insurance fund's payments included)"),
    "deposit_insurance_payouts": (("time",), Y, "Deposit insurance fund's payments to banks that take over "
                                  "failed banks"),
    "gov_debt": (("time",), "yuan", "Cumulative government deficit since the start"),
    "sfc_error": (("time",), "yuan",
                  "Largest stock-flow gap this step (bank vs firm loans, firm deposits vs recorded flows); "
                  "rounding level"),
    "gov_balance": (("time",), Y, "Government budget balance: taxes less spending, subsidies, compensation and "
                                  "soft-budget support"),
    "tax_revenue": (("time",), Y, "VAT and corporate income tax"),
    "gov_spending": (("time",), Y, "Government final spending"),
    "subsidies": (("time",), Y, "Upgrade and purchase subsidies and exit compensation"),
    "household_income": (("time",), Y, "Wages and firms' dividends"),
    "income_index": (("time",), "1", "Household and government income relative to trend"),
    "policy_rate": (("time",), "1/year", "Policy lending rate"),
    # inclusive finance (docs/credit.md): the guarantee fund's capacity, the supervisor's target, the central bank
    "guarantee_fund_used": (("time",), "1", "Guarantees outstanding over the guarantee fund's capacity (capital "
                            "times leverage); at 1 the fund writes no more (NaN: no fund)"),
    "inclusive_target_gap": (("time",), "1", "Share of the inclusive-lending target the banks miss: each bank's "
                             "shortfall of SME lending growth over the last 12 months, weighted by its SME loans "
                             "(0: every bank meets it; NaN: no target)"),
    "relending_outstanding": (("time",), "yuan", "Central-bank re-lending for small and micro loans held by banks"),
    "targeted_rrr_banks": (("time",), "1", "Share of operating banks that receive the inclusive-finance targeted "
                           "cut of the required reserve ratio"),
}

# more attributes by variable: the price base of money, the reference of an index
EXTRA_ATTRS: dict[str, dict[str, str]] = {
    **dict.fromkeys(("output", "capacity", "demand", "final_demand", "unfilled_orders", "capacity_pipeline"), REAL),
    **dict.fromkeys(("capacity_physical",), PHYSICAL),
    **dict.fromkeys(("price_index",), BASE_2019_01),
    **dict.fromkeys(("price_index_tax_inclusive",), BASE_START),
    **dict.fromkeys((
        "value_added", "revenue", "profit", "wages", "energy_cost", "vat_revenue", "cit_revenue", "investment",
        "loans", "net_worth", "credit", "gdp", "credit_total", "loan_losses", "npl_by_category", "loans_in_court",
        "court_costs", "credit_new", "credit_guaranteed",
        "bank_equity", "bank_profit", "guarantee_payouts", "guarantee_fees", "bank_recapitalisation",
        "deposit_insurance_payouts", "gov_debt", "relending_outstanding",
        "gov_balance", "tax_revenue", "gov_spending", "subsidies", "household_income",
        "zombie_loans", "evergreen_credit", "soft_budget_support",
    ), NOMINAL),
    **dict.fromkeys(("energy_use",), ELECTRICITY_EQ),
    **dict.fromkeys(("unit_energy_cost",), PER_REAL_OUTPUT),
    **dict.fromkeys(("capacity_added", "capacity_retired"), REAL_CAPACITY_FLOW),
    **dict.fromkeys(("productivity_mean", "productivity_frontier", "energy_intensity_mean"), BASE_SECTOR_2019),
}


# stocks and states at the end of the month; every other variable is the month's rate or mean
POINT = {"capacity", "capacity_physical", "capacity_pipeline", "n_firms", "loans", "net_worth", "credit",
         "credit_total", "credit_guaranteed", "bank_equity", "banks_active", "gov_debt", "productivity_mean",
         "productivity_frontier", "energy_intensity_mean", "markup_mean", "price_index", "price_index_tax_inclusive",
         "loan_rate", "npl_ratio", "bank_capital_ratio", "income_index", "policy_rate", "npl_by_category",
         "loans_in_court", "loss_making_share", "zombie_share", "zombie_loans", "zombie_loan_share"}
POINT |= {"guarantee_fund_used", "inclusive_target_gap", "relending_outstanding", "targeted_rrr_banks"}


def cell_methods(name: str) -> str:
    """CF cell_methods of an output: `time: point` for stocks, `time: maximum` for the stock-flow
    gap, `time: mean` for monthly rates and means (sim/units.py)."""
    if name == "sfc_error":
        return "time: maximum"
    return "time: point" if name in POINT else "time: mean"


def variable_attrs(name: str) -> dict[str, str]:
    dims, units, long = _all_variables()[name]
    return {"units": units, "long_name": long, "cell_methods": cell_methods(name), **EXTRA_ATTRS.get(name, {})}


# the closed economy's accounts (sim.economy; `[economy] closure = "closed"`), in its runs only
CLOSED_VARIABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "tfm": (("time", "flow", "institution"), Y,
            "Transaction-flow matrix: what each institution receives (+) or pays (-); financial rows: change in "
            "stocks, a source of funds +"),
    "balance_sheet": (("time", "item", "institution"), "yuan",
                      "Balance sheets at the end of the month: assets +, liabilities -, net worth balancing"),
    "household_deposits": (("time",), "yuan", "Households' bank deposits"),
    "household_consumption": (("time",), Y, "Households' spending (goods of all sectors, imports included)"),
    "household_disposable_income": (("time",), Y, "Households' disposable income"),
    "government_purchases": (("time",), Y, "Government purchases of goods and services"),
    "exports": (("time",), Y, "Exports of the modelled industries, ex-VAT"),
    "imports": (("time",), Y, "Imports of goods, ex-VAT"),
    "central_bank_foreign_assets": (("time",), "yuan", "Foreign assets of the central bank"),
    "tax_rate_rest": (("time",), "1", "Tax rate on the rest of the economy's value added (calibrated at start)"),
}
POINT |= {"household_deposits", "central_bank_foreign_assets", "balance_sheet", "tax_rate_rest"}
EXTRA_ATTRS.update(dict.fromkeys(CLOSED_VARIABLES, NOMINAL))


def _all_variables() -> dict[str, tuple[tuple[str, ...], str, str]]:
    return {**VARIABLES, **CLOSED_VARIABLES}


class Recorder:
    """The records: an array (time, ...) for each variable, written month by month. The variables of
    one shape are rows of one array (variables, time, ...), so that a month's values of several of
    them go in with one assignment (`put`): a hundred assignments a month, one a variable, were a
    tenth of a millisecond of a small economy's month (benchmarks/RESULTS.md, "The closed economy's
    accounts in compiled calls")."""

    def __init__(self, months: int, closed: bool = False):
        from .economy import FLOW_NAMES, INSTITUTIONS, ITEM_NAMES

        self.months = months
        self.sizes = {"sector": len(SECTORS), "size_class": len(SIZE_CLASSES), "category": len(CATEGORIES),
                      "flow": len(FLOW_NAMES),
                      "institution": len(INSTITUTIONS), "item": len(ITEM_NAMES)}
        self.variables = {**VARIABLES, **(CLOSED_VARIABLES if closed else {})}
        by_dims: dict[tuple[str, ...], list[str]] = {}
        for name, (dims, _, _) in self.variables.items():
            by_dims.setdefault(dims, []).append(name)
        self._row: dict[str, tuple[np.ndarray, int]] = {}  # each variable's array of its shape, and its row
        for dims, names in by_dims.items():
            rows = np.full([len(names), months] + [self.sizes[d] for d in dims[1:]], np.nan)
            self._row.update((name, (rows, k)) for k, name in enumerate(names))
        self.data: dict[str, np.ndarray] = {name: self._row[name][0][self._row[name][1]] for name in self.variables}
        self._puts: dict[tuple[str, ...], tuple[np.ndarray, slice | np.ndarray]] = {}

    def __setitem__(self, key: tuple[str, int], value) -> None:
        name, t = key
        self.data[name][t] = value

    def put(self, t: int, names: tuple[str, ...], values) -> None:
        """Month t of the variables `names`, all of one shape, from `values` (one value or row a
        variable, in the order of `names`), in one assignment."""
        try:
            rows, at = self._puts[names]
        except KeyError:
            rows, first = self._row[names[0]]
            ks = [k for name in names for array, k in (self._row[name],) if array is rows]
            if len(ks) != len(names):
                raise ValueError(f"records {names} are not all of one shape") from None
            at = slice(first, first + len(ks)) if ks == list(range(first, first + len(ks))) else np.array(ks)
            self._puts[names] = rows, at
        rows[at, t] = values

    def to_dataset(self, start: str, attrs: dict) -> xr.Dataset:
        t0 = np.datetime64(start, "M")
        time = (t0 + np.arange(self.months)).astype("datetime64[ns]")
        coords = {"time": time, "sector": np.array(SECTORS), "size_class": np.array(SIZE_CLASSES),
                  "category": np.array(CATEGORIES)}
        if len(self.variables) > len(VARIABLES):
            from .economy import FLOW_NAMES, INSTITUTIONS, ITEM_NAMES

            coords.update(flow=np.array(FLOW_NAMES), institution=np.array(INSTITUTIONS), item=np.array(ITEM_NAMES))
        # The variables and indexes are built ready-made (numpy arrays, pandas indexes keeping the coordinates'
        # numpy dtypes): handed plain arrays, xarray asks of each whether it is a dask, pint or cupy array,
        # which imports dask and pint (~0.25 s of a run's records, for arrays that are numpy's own).
        # The same Dataset, bit for bit (xarray.testing.assert_identical; tests/test_records.py).
        ds = xr.Dataset(
            {
                name: xr.Variable(dims, self.data[name], attrs=variable_attrs(name), fastpath=True)
                for name, (dims, _, _) in self.variables.items()
            },
            coords=index_coords(coords),
            attrs=attrs,
        )
        ds["time"].attrs.update(long_name="Month (start of month)", standard_name="time", axis="T")
        ds["sector"].attrs.update(long_name="Sector")
        ds["size_class"].attrs.update(long_name="Firm size class (NBS 2017 classification by revenue)")
        ds["category"].attrs.update(long_name="Loan category (CBIRC five-category loan classification)")
        return ds


def index_coords(coords: dict[str, np.ndarray]) -> xr.Coordinates:
    """Dimension coordinates with their pandas indexes, from 1-d numpy arrays (dtypes kept: '<U' stays '<U')."""
    from xarray.indexes import PandasIndex

    indexes = {k: PandasIndex(pd.Index(v), k, coord_dtype=v.dtype) for k, v in coords.items()}
    variables = {}
    for index in indexes.values():
        variables.update(index.create_variables())
    return xr.Coordinates(variables, indexes=indexes)
