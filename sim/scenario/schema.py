"""Scenario schema: every key a user can write, with unit, default, range and source.

The pydantic models below are the single place where scenario keys, defaults and bounds live;
`sim.scenario.reference` renders them to docs/scenario-reference.md, so the reference cannot
drift from the code. pydantic is used (rather than hand-written checks) because it gives typed
models, precise error locations for nested keys, and a machine-readable schema for free.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

SECTORS: tuple[str, ...] = (
    "steel",
    "nonferrous",
    "cement",
    "flat_glass",
    "chemicals",
    "machinery",
    "autos",
    "nev",
    "electronics",
    "textiles",
)
SectorId = Literal[
    "steel",
    "nonferrous",
    "cement",
    "flat_glass",
    "chemicals",
    "machinery",
    "autos",
    "nev",
    "electronics",
    "textiles",
]

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def _to_month(v: Any) -> str:
    """Accept "YYYY-MM", "YYYY-MM-01" or a TOML date; return "YYYY-MM"."""
    if isinstance(v, _dt.datetime | _dt.date):
        return f"{v.year:04d}-{v.month:02d}"
    if isinstance(v, str):
        s = v.strip()
        if len(s) == 10 and s[7] == "-":
            s = s[:7]
        m = _MONTH_RE.match(s)
        if m and 1 <= int(m.group(2)) <= 12 and 1900 <= int(m.group(1)) <= 2200:
            return s
    raise ValueError(f"{v!r} is not a month; write it as \"YYYY-MM\", e.g. \"2019-04\"")


Month = Annotated[str, BeforeValidator(_to_month)]


def month_index(month: str) -> int:
    y, m = month.split("-")
    return int(y) * 12 + int(m) - 1


def meta(default: Any, desc: str, unit: str, source: str, **bounds: Any) -> Any:
    """A documented field: description, unit and source end up in the generated reference."""
    return Field(default, description=desc, json_schema_extra={"unit": unit, "source": source}, **bounds)


class Strict(BaseModel):
    """Every scenario table: unknown keys are errors, values keep their TOML type (no `true` read as 1, no
    "0.13" read as a number: pydantic's strict mode), numbers are finite (`inf` and `nan` are refused;
    no key documents them), and an assignment in Python is validated like a value in a file."""

    model_config = ConfigDict(extra="forbid", frozen=False, strict=True, allow_inf_nan=False,
                              validate_assignment=True)
    _section: ClassVar[str] = ""

    def __setattr__(self, name: str, value: Any) -> None:
        """`sc.policy.vat_rate = 1.5` raises ScenarioError naming the key, as the same line in a file does."""
        try:
            super().__setattr__(name, value)
        except ValidationError as e:
            from .errors import ScenarioError

            err = e.errors()[0]
            got = repr(value) if len(repr(value)) <= 60 else repr(value)[:60] + "..."
            key = ".".join(p for p in (self._section, name) if p)
            raise ScenarioError("<python>", key, f"{err['msg']} (got {got})") from None


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------
class RunConfig(Strict):
    _section: ClassVar[str] = "run"

    start: Month = meta("2019-01", "First simulated month.", "YYYY-MM", "MODEL.md: runs start in 2019")
    months: int = meta(60, "Number of monthly steps.", "months", "choice", ge=1, le=1200)
    firms: int = meta(
        20000,
        "Number of simulated firm rows at the start. Each firm stands for population/firms real firms "
        "(dataset attribute firm_weight); 378000 is the 1:1 economy.",
        "firms",
        "choice; 1:1 population from NBS Statistical Yearbook 2015 table 13-3",
        ge=200,
        le=20_000_000,
    )
    banks: int = meta(0, "Number of simulated banks; 0: as many as keep the 1:1 ratio of firms to banks "
                      "(banking.banks_total x firms / the 1:1 population of firms, at least 10; 4000 at 1:1).",
                      "banks", "choice", ge=0, le=100_000)
    seed: int = meta(0, "Seed of every random stream of the run.", "-", "choice", ge=0, le=2**63 - 1)
    calibration: Literal["2019", "2016"] = meta(
        "2019", "Which starting state the sector tables hold: \"2019\" (sim/data/sectors.toml) or \"2016\", the "
        "state at 2016-01 from 2015 figures (sim/data/sectors_2016.toml over the 2019 table's structural "
        "parameters). A run must start in a year the calibration describes: \"2016\" in 2016, \"2019\" in 2019 or "
        "later.", "year",
        "sim/data/sectors.toml; sim/data/sectors_2016.toml (docs/calibration-research.md section 12)",
        validate_default=True)
    headroom: float = meta(
        0.05, "Spare firm rows preallocated for entrants, as a share of the starting firms (entrants take the "
        "rows of exited firms first; when none is free the rows grow by at least 5%).",
        "share", "choice",
        ge=0.05, le=5.0)

    @field_validator("calibration")
    @classmethod
    def _start_in_calibration_year(cls, v: str, info: ValidationInfo) -> str:
        """The start must lie in a year the sector tables describe (a 2016 run from the 2019 tables
        would start from figures of a later year)."""
        start = info.data.get("start")
        if start is None:
            return v
        year = int(start[:4])
        if v == "2016" and year != 2016:
            raise ValueError(f"the 2016 calibration is the state at 2016-01 but run.start is {start}; start in 2016 "
                             f"or use calibration \"2019\"")
        if v == "2019" and year < 2019:
            raise ValueError(f"run.start is {start} but the sector tables are the 2019 calibration; set "
                             f"run.calibration = \"2016\" for a run from 2016")
        return v


# --------------------------------------------------------------------------------------------
# sectors (defaults live in sim/data/sectors.toml, each with its source)
# --------------------------------------------------------------------------------------------
def _sfield(desc: str, unit: str, **bounds: Any) -> Any:
    return Field(..., description=desc, json_schema_extra={"unit": unit, "source": "sim/data/sectors.toml"},
                 **bounds)


class SectorParams(Strict):
    _section: ClassVar[str] = "sectors"

    label: str = _sfield("Display name.", "-", max_length=80)
    firms_2019: int = _sfield("Industrial enterprises above designated size in 2019, or in the year of run.calibration "
                              "(1:1 population).",
                              "firms", ge=1)
    revenue_2019: float = _sfield("Gross revenue in 2019 (or run.calibration's year, at 2019 prices).",
                                  "trn yuan/yr", gt=0, le=200)
    profit_margin: float = _sfield("Total profits over revenue in the calibration year (sets the starting "
                                   "markup).", "share", ge=-0.2, le=0.5)
    utilisation_2019: float = _sfield("Capacity utilisation in 2019 (or run.calibration's year); firms aim at it "
                                      "when they invest.", "share", gt=0.2, le=1.0)
    capacity_unit: str = _sfield("Physical unit of capacity used by capacity caps.", "-", max_length=40)
    capacity_2019: float = _sfield("Sector capacity in 2019 (or run.calibration's year) in capacity_unit.",
                                   "capacity_unit", gt=0)
    rules_share: float = _sfield("Share of the sector's capacity (at 2019 prices) that the capacity rules "
                                 "(ban_new_capacity, replacement_ratio, capacity_cap) cover, the product they name; "
                                 "capacity_2019 is that part's physical capacity. The rest of the sector expands "
                                 "freely; the share of the request for new capacity is held at this value.",
                                 "share", ge=0, le=1)
    labour_share: float = _sfield("Labour compensation over revenue.", "share", ge=0, le=0.6)
    services_share: float = _sfield("Purchased services and overheads over revenue (scaled by productivity "
                                    "like labour).", "share", ge=0, le=0.6)
    energy_share: float = _sfield("Energy purchases over revenue.", "share", ge=0, le=0.8)
    electricity_share: float = _sfield("Electricity's share of the energy bill.", "share", ge=0, le=1)
    large_tariff_share: float = _sfield("Share of electricity bought on the large-industry tariff.", "share",
                                        ge=0, le=1)
    capital_output: float = _sfield("Fixed assets over annual revenue.", "yr", gt=0, le=5)
    depreciation: float = _sfield("Depreciation of fixed capital and physical capacity.", "1/yr", ge=0, le=0.5)
    build_lag: int = _sfield("Months from the start of a capacity project to its operation.", "months", ge=0,
                             le=60)
    price_elasticity: float = _sfield("Price elasticity of final demand (absolute value), on tax-inclusive "
                                      "prices.", "-", ge=0, le=10)
    income_elasticity: float = _sfield("Elasticity of the sector's whole final demand (exports and construction "
                                       "included) to household and government income: the income-driven "
                                       "share of final demand times the income elasticity of that share.", "-",
                                       ge=0, le=5)
    investment_share: float = _sfield("Share of all firms' investment spending bought from this sector.",
                                      "share", ge=0, le=1)
    demand_growth: float = _sfield("Trend growth of final demand.", "1/yr", ge=-0.5, le=1.0)
    input_intensity_trend: float = _sfield(
        "Trend of the quantity of this sector's goods its buyers use per unit of their output (intensity of use, "
        "Malenbaum 1978), a year in logs; what is saved is bought from the rest of the economy instead, so unit "
        "costs at 2019 prices are unchanged.", "1/yr", ge=-0.2, le=0.2)
    vat_pass_through: float = _sfield("Share of a VAT change passed to tax-inclusive prices on impact.",
                                      "share", ge=0, le=1)
    soe_share: float = _sfield("Share of firms that are state-owned.", "share", ge=0, le=1)
    productivity_dispersion: float = _sfield("Standard deviation of log productivity at start.", "log points",
                                             ge=0, le=3)
    energy_intensity_dispersion: float = _sfield("Standard deviation of log energy intensity at start.",
                                                 "log points", ge=0, le=3)
    size_dispersion: float = _sfield("Standard deviation of log firm size at start.", "log points", ge=0,
                                     le=4)
    entry_rate: float = _sfield("Entry rate at 2019 barriers and normal profitability.", "1/yr", ge=0, le=2)
    frontier_growth: float = _sfield("Growth of the sector's productivity frontier.", "1/yr", ge=-0.2, le=0.5)
    energy_frontier_decline: float = _sfield("Decline of the frontier's energy intensity.", "1/yr", ge=-0.2,
                                             le=0.5)
    inputs: dict[SectorId, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="Input-output coefficients: yuan bought from each sector per yuan of output.",
        json_schema_extra={"unit": "yuan/yuan", "source": "sim/data/sectors.toml"},
    )


# --------------------------------------------------------------------------------------------
# policy instruments (values in force at the start; [schedule."YYYY-MM"] changes them)
# --------------------------------------------------------------------------------------------
def _per_sector(tp: Any, **bounds: Any) -> Any:
    item = Annotated[tp, Field(**bounds)]
    return item | dict[SectorId, item]


RateBySector = _per_sector(float, ge=0, le=1)
ShareBySector = _per_sector(float, ge=0, lt=1)
BoolBySector = _per_sector(bool)


class Policy(Strict):
    model_config = ConfigDict(validate_default=True)  # table defaults are completed like tables in files
    _section: ClassVar[str] = "policy"

    # fiscal authority
    vat_rate: RateBySector = meta(0.16, "VAT rate on the sector's sales (input VAT is credited).", "share",
                                  "DLA Piper via Lexology 2019: 16% until 2019-03")
    vat_rate_inputs: float = meta(0.16, "VAT rate on energy, services and other inputs bought outside the "
                                  "modelled sectors.", "share", "DLA Piper via Lexology 2019", ge=0, le=1)
    cit_rate: float = meta(0.25, "Corporate income tax rate.", "share", "Enterprise Income Tax Law", ge=0,
                           le=1)
    cit_rate_small: float = meta(0.05, "Effective CIT rate of small low-profit firms on taxable profit up to "
                                 "the lower band (1 m yuan a year).", "share",
                                 "Caishui [2019] No. 13: 5% on the first 1 m yuan", ge=0, le=1)
    cit_rate_small_upper: float = meta(0.10, "Effective CIT rate of small low-profit firms on taxable profit "
                                       "between 1 m and 3 m yuan a year.", "share",
                                       "Caishui [2019] No. 13: 10% from 1 m to 3 m yuan", ge=0, le=1)
    deficit_financed: bool = meta(True, "Tax cuts are deficit-financed (government spending does not follow "
                                  "revenue).", "-", "assumption")
    government_spending_response: float = meta(1.0, "Share of a revenue change passed to government spending "
                                               "when not deficit-financed.", "share", "assumption", ge=0, le=2)
    soft_budget: bool = meta(True, "Local governments keep state-owned firms that would default (unable to pay, "
                             "negative equity, or leaving with assets short of their loans): a transfer brings "
                             "the firm's deposits and equity back to zero, up to soft_budget_limit (the soft "
                             "budget constraint; kernels.exit_entry._rescue). On by default since 2026-12: with "
                             "evergreening it holds the state-owned share of firms at 5.6-7.1% for ten years "
                             "(without both it falls from 6.9% to 4.1%; NBS 2019 band 4-7%) and the NPL ratio at "
                             "2.1% (3.2% without; CBIRC 2019: 1.86%) (5,000 firms, docs/zombies.md).", "-",
                             "Kornai (1986); for China Lam et al. (IMF WP/17/266, 2017): government subsidies "
                             "sustain zombie firms")
    soft_budget_limit: float = meta(0.05, "Largest soft-budget transfer to one firm in a month, share of its "
                                    "annual sales.", "share",
                                    "assumption (docs/zombies.md: the measured support and zombie shares)",
                                    ge=0, le=10)
    # energy regulator
    electricity_price_change_general: float = meta(
        0.0, "Change of the general industrial and commercial electricity tariff relative to 2019-01.", "share",
        "CEC via gov.cn 2018; gov.cn 2019 (-10% target)", ge=-0.9, le=3)
    electricity_price_change_large: float = meta(
        0.0, "Change of the large-industry electricity tariff relative to 2019-01.", "share", "gov.cn 2019",
        ge=-0.9, le=3)
    fuel_price_change: float = meta(0.0, "Change of coal, coke, gas and oil prices relative to 2019-01.",
                                    "share", "assumption", ge=-0.9, le=3)
    # industry regulator
    ban_new_capacity: BoolBySector = meta(False, "No net new capacity: projects need retired capacity as "
                                          "replacement (ratio at least 1), entry is closed.", "-",
                                          "MIIT via Reuters 2019")
    replacement_ratio: _per_sector(float, ge=0, le=10) = meta(
        0.0, "Units of capacity to retire per unit built (0 = no replacement rule).", "ratio",
        "MIIT capacity replacement rules 2018: 1.25-1.5")
    capacity_cap: _per_sector(float, ge=0) = meta(
        {"nonferrous": 45.0}, "Ceiling on sector capacity in the sector's capacity_unit (0 = none).",
        "capacity_unit", "Reuters 2017: electrolytic aluminium 45 Mt")
    forced_exit_quota: _per_sector(float, ge=0, le=0.5) = meta(
        0.0, "Backward capacity to close each year, share of the sector's capacity when the quota starts.",
        "1/yr", "State Council 2016: steel 100-150 Mt over 5 years")
    backward_energy_intensity: _per_sector(float, gt=0, le=10) = meta(
        1.3, "Energy intensity (relative to the sector mean at start) at or above which capacity is backward.",
        "ratio", "assumption")
    backward_productivity: _per_sector(float, ge=0, le=1) = meta(
        0.35, "Productivity (relative to the frontier) at or below which capacity is backward.", "ratio",
        "assumption")
    forced_exit_zombies_first: bool = meta(
        False, "Forced closure closes zombie firms (OECD definition) of the sector first, backward or not, then "
        "backward capacity, as the 2016-18 programme ordered zombie enterprises disposed of first.", "-",
        "State Council 2016, Guo Fa [2016] No. 6 (steel) and No. 7 (coal): dispose of zombie enterprises")
    exit_compensation: _per_sector(float, ge=0, le=1) = meta(
        0.0, "Share of the book value of closed capacity paid by the government on forced exit.", "share",
        "assumption; the 2016 special award fund paid part")
    upgrade_subsidy: _per_sector(float, ge=0, le=0.95) = meta(
        0.0, "Share of technology-upgrade cost paid by the government.", "share", "assumption")
    entry_barrier: _per_sector(float, ge=0, lt=1) = meta(
        0.5, "Entry barrier: entry scales with (1 - barrier) / (1 - 0.5).", "share",
        "normalisation: 0.5 stands for 2019 market access")
    demand_support: _per_sector(float, ge=-0.95, le=1) = meta(
        0.0, "Extra growth of final demand from sector support (5G roll-out, NEV promotion).", "1/yr",
        "assumption")
    purchase_subsidy: _per_sector(float, ge=0, lt=1) = meta(
        {"nev": 0.08}, "Share of the tax-inclusive price paid by the government for final buyers.", "share",
        "MOF 2019 NEV subsidy notice: up to 25,000 yuan per car (~8% of price)")
    # monetary and banking regulator
    policy_rate: float = meta(0.0431, "Policy lending rate (one-year loan prime rate).", "1/yr",
                              "PBOC via SCMP 2019: LPR 4.31%", ge=-0.05, le=0.5)
    min_capital_ratio: float = meta(0.105, "Minimum capital adequacy ratio.", "share",
                                    "CBRC 2012: 10.5% (11.5% for systemic banks)", ge=0, le=0.5)
    soe_implicit_guarantee: float = meta(0.5, "Share by which banks scale down the default probability of "
                                         "state-owned firms (implicit state guarantee); 0 removes it.", "share",
                                         "assumption; Song, Storesletten and Zilibotti (AER 2011)", ge=0, le=1)
    inclusive_sme_target: float = meta(0.0, "Target annual growth of each bank's SME lending; banks short of "
                                       "it relax SME screening and pricing.", "1/yr",
                                       "CBIRC 2019: large banks' inclusive small/micro loans > 30%", ge=0, le=2)
    inclusive_concession: float = meta(0.5, "How far a bank fully short of its SME target relaxes: share of "
                                       "pd_max added and of the SME premium waived.", "share", "assumption",
                                       ge=0, le=1)
    inclusive_unsecured: float = meta(0.0, "How far beyond a private SME's borrowing limit a bank fully short of "
                                      "its SME target lends, share of the firm's assets (scaled by the shortfall; "
                                      "docs/credit.md).", "share of assets", "assumption; CBIRC 2019: banks "
                                      "assessed on inclusive loan growth, met with unsecured credit loans", ge=0, le=1)
    targeted_rrr_cut: float = meta(0.0, "Targeted cut of the required reserve ratio for banks that meet "
                                   "targeted_rrr_threshold (docs/credit.md).", "share of deposits",
                                   "PBOC 2017-09-30: 0.5 pp (first tier) to 1.5 pp (second tier); dynamic evaluation "
                                   "from 2019-01-25 (PBOC via Xinhua)", ge=0, le=0.2)
    targeted_rrr_threshold: float = meta(0.1, "SME loans over all loans a bank needs for the targeted RRR cut.",
                                         "share", "PBOC 2017-09-30: inclusive loans 1.5% (first tier) or 10% (second "
                                         "tier) of the balance or of the year's new loans", ge=0, le=1)
    relending_share: float = meta(0.0, "Share of each bank's SME loans funded by central-bank re-lending at "
                                  "relending_rate (docs/credit.md).", "share", "PBOC 2019-07-31: quota 369.5 bn "
                                  "yuan (226.7 bn drawn end-June 2019); CBIRC 2020: inclusive loans 11.6 trn at "
                                  "end-2019; 369.5 / 11,600 = 0.032", ge=0, le=1)
    relending_rate: float = meta(0.0275, "Rate the central bank charges on re-lending for small and micro loans.",
                                 "1/yr", "PBOC via China Daily 2020-02-27: one-year rate cut by 0.25 pp to 2.5% "
                                 "(2.75% in 2019)", ge=0, le=0.3)
    guarantee_fund_capital: float = meta(66.1, "Capital of the financing-guarantee fund (0 = no fund).",
                                         "bn yuan", "MOF 2018: National Financing Guarantee Fund 66.1 bn", ge=0)
    guarantee_leverage: float = meta(10.0, "Guarantees outstanding the fund may write per yuan of capital.",
                                     "ratio", "State Council 2017 financing-guarantee rules: up to 10x", ge=0,
                                     le=50)
    risk_share_bank: float = meta(0.2, "Share of a guaranteed loan's loss the bank keeps (the rest falls on the "
                                  "fund and guarantors).", "share",
                                  "MOF 2018 risk-sharing scheme: bank at least 20%", ge=0, le=1)
    guarantee_fee: float = meta(0.02, "Annual guarantee fee on the covered amount.", "1/yr",
                                "assumption: ~2% before the 2019 fee-cut awards", ge=0, le=0.2)
    guarantee_fee_small: float = meta(0.02, "Annual guarantee fee for loans of at most 5 m yuan.", "1/yr",
                                      "State Council 2019: at most 1% for small/micro loans <= 5 m", ge=0,
                                      le=0.2)
    receivables_pledge: float = meta(0.0, "Share of receivables and inventories that counts as collateral.",
                                     "share", "assumption; receivables pledge financing (PBOC 2019)", ge=0, le=1)
    ip_pledge: float = meta(0.0, "Intellectual property that counts as collateral, share of fixed capital.",
                            "share", "CNIPA 2019: IP pledge financing 151.5 bn yuan", ge=0, le=1)
    pledge_haircut: float = meta(0.5, "Haircut on pledged receivables and IP.", "share", "assumption", ge=0,
                                 le=1)
    # the rest of the world: conditions abroad the model does not generate (dated inputs, never fitted)
    world_demand: _per_sector(float, ge=0, le=10) = meta(
        1.0, "Volume of world imports relative to the path the sectors' trend demand growth assumes (1: on that "
        "path, as calibrated; 0.95: 5% below it). Exports scale with it: X = X_trend x world_demand x "
        "(1 + tariff_abroad)^(-economy.export_elasticity) (sim.economy.world.export_factor); in the open "
        "closure the factor applies to the export share of final demand (economy.export_share). One number for "
        "every sector or a table by sector.", "index",
        "standard export demand (Goldstein and Khan, Handbook of International Economics 1985): exports follow "
        "foreign demand with unit income elasticity and the foreign buyer's relative price; history data: WTO "
        "merchandise trade volume (scenarios/history/decapacity_2016.toml)")
    tariff_abroad: _per_sector(float, ge=0, le=5) = meta(
        0.0, "Average additional tariff China's exports of the sector face abroad (ad valorem, averaged over all "
        "the sector's exports: the tariff times the share of exports it covers). It raises the foreign buyer's "
        "price by (1 + tariff) with the Chinese ex-VAT price unchanged (full pass-through to buyers), so exports "
        "fall by (1 + tariff)^(-economy.export_elasticity).", "share",
        "Amiti, Redding and Weinstein (JEP 2019) and Fajgelbaum et al. (QJE 2020): near-complete pass-through of "
        "the 2018-19 US tariffs to US buyers' prices; history data: Bown, PIIE 2019-20 and USTR notices")
    bank_resolution: Literal["recapitalise", "merge", "deposit_insurance"] = meta(
        "recapitalise", "What happens to a failed bank: the government recapitalises it; or the soundest bank "
        "takes it over (the government covers negative equity); or the deposit insurance fund pays the soundest "
        "bank to take over its loans and deposits with capital at the minimum ratio plus "
        "banking.recapitalisation_target (purchase and assumption).", "-",
        "Deposit Insurance Regulations (State Council 2015); Baoshang Bank's resolution by the fund and Huishang "
        "Bank (PBOC 2020); CBIRC 2019: three banks resolved (Baoshang, Jinzhou, Hengfeng)")

    @field_validator("*", mode="after")
    @classmethod
    def _complete_sector_table(cls, v: Any, info: ValidationInfo) -> Any:
        """A per-sector table changes only the sectors it names: the others keep the key's default
        (a table default, such as capacity_cap's, for the sectors it names and 0 elsewhere). The
        result names every sector, in SECTORS order. (A table over a value inherited through
        `extends` is completed from that value by the loader, before this runs.)"""
        if not isinstance(v, dict):
            return v
        default = cls.model_fields[info.field_name].default
        if isinstance(default, dict):  # tables of numbers
            full = {s: default.get(s, 0.0) for s in SECTORS}
        else:
            full = dict.fromkeys(SECTORS, default)
        full.update(v)
        return full


def _optional_model(base: type[BaseModel], name: str) -> type[BaseModel]:
    """The same fields, each optional (None = unchanged), with the same types and bounds."""
    fields: dict[str, Any] = {}
    for fname, f in base.model_fields.items():
        tp = Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation
        fields[fname] = (tp | None, Field(None, description=f.description))
    return create_model(name, __base__=Strict, **fields)


PolicyChange = _optional_model(Policy, "PolicyChange")
PER_SECTOR_POLICY = tuple(
    n for n, f in Policy.model_fields.items() if "dict[" in str(f.annotation)
)


from .banking import Banking  # noqa: E402  (the sections in their own modules build on Strict and meta above)
from .behaviour import Behaviour  # noqa: E402
from .economy import Economy  # noqa: E402


class Scenario(Strict):
    name: str = meta("scenario", "Scenario name (defaults to the file name).", "-", "-", min_length=1,
                     max_length=120)
    description: str = meta("", "What the scenario is.", "-", "-", max_length=4000)
    run: RunConfig = Field(default_factory=RunConfig)
    sectors: dict[SectorId, SectorParams]
    behaviour: Behaviour = Field(default_factory=Behaviour)
    banking: Banking = Field(default_factory=Banking)
    policy: Policy = Field(default_factory=Policy)
    economy: Economy = Field(default_factory=Economy)
    schedule: dict[Month, PolicyChange] = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description='Dated policy changes: [schedule."YYYY-MM"] sets instruments from that month on.',
    )

    @field_validator("sectors")
    @classmethod
    def _all_sectors(cls, v: dict[str, SectorParams]) -> dict[str, SectorParams]:
        missing = [s for s in SECTORS if s not in v]
        if missing:
            raise ValueError(f"sectors missing: {missing}")
        return {s: v[s] for s in SECTORS}

    @model_validator(mode="after")
    def _cost_shares(self) -> Scenario:
        b = self.behaviour
        for s, p in self.sectors.items():
            if materials_share(p, b) < 0:
                raise ValueError(
                    f"sectors.{s}: labour, services, energy, inputs, depreciation, interest and profit "
                    f"exceed revenue (materials share {materials_share(p, b):.3f} < 0)"
                )
        return self

    @property
    def months(self) -> int:
        return self.run.months


def interest_share(p: SectorParams, b: Behaviour, rate: float = 0.0431 + 0.012) -> float:
    """Interest over revenue at start: loans = interest-bearing share of debt x assets."""
    assets = p.capital_output + 0.67  # fixed capital + current assets (cash 0.12, other 0.55)
    return b.debt_to_assets * b.interest_bearing_share * assets * rate


def materials_share(p: SectorParams, b: Behaviour) -> float:
    """Other material inputs over revenue, the residual of the cost structure."""
    used = (
        p.labour_share
        + p.services_share
        + p.energy_share
        + sum(p.inputs.values())
        + p.capital_output * p.depreciation
        + interest_share(p, b)
        + p.profit_margin
    )
    return 1.0 - used
