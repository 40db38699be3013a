"""Regulators: the few agents that own policy instruments (mesa Agents).

Each regulator reads the scenario's dated schedule for the current month and writes the
instruments it owns into the model's policy arrays (MODEL.md step 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from .scenario.schema import PER_SECTOR_POLICY, SECTORS, Policy, Scenario, month_index


def retired_per_unit_built(replacement_ratio: np.ndarray, ban: np.ndarray) -> np.ndarray:
    """Capacity to be retired per unit built, by sector: the replacement ratio, at least one for one
    under a ban (no net new capacity); 0 where no rule applies."""
    return np.maximum(replacement_ratio, np.where(ban > 0, 1.0, 0.0))


class PolicySchedule:
    """The instruments in force each month: the scenario's [policy] table, then every
    [schedule."YYYY-MM"] entry from its month on, in date order. A per-sector instrument written as
    a table changes only the sectors it names."""

    def __init__(self, sc: Scenario):
        self.start = month_index(sc.run.start)
        self.values: dict[str, Any] = {}
        for name in Policy.model_fields:
            self.values[name] = self._expand(name, getattr(sc.policy, name), None)
        self.changes = sorted(
            (month_index(m) - self.start, ch) for m, ch in sc.schedule.items()
        )
        self._next = 0
        self.version = 0  # changes applied so far (the regulators skip a month in which nothing moved)
        # nothing is applied here: the economy is set up under [policy] (the status quo), and the
        # changes dated at or before the start act from the first month (`advance(0)` in the step)

    @staticmethod
    def _expand(name: str, value: Any, current: Any) -> Any:
        if name not in PER_SECTOR_POLICY:
            return value
        if isinstance(value, dict):
            if current is None and len(value) != len(SECTORS):  # the schema completes [policy] tables
                raise ValueError(f"policy.{name}: a table at the start must name every sector")
            base = np.zeros(len(SECTORS), dtype=float) if current is None else current.copy()
            for s, v in value.items():
                base[SECTORS.index(s)] = float(v)
            return base
        return np.full(len(SECTORS), float(value))

    def changes_at_start(self) -> bool:
        """Whether some change acts from the first month (dated at or before the start)."""
        return bool(self.changes) and self.changes[0][0] <= 0

    def advance(self, t: int) -> None:
        while self._next < len(self.changes) and self.changes[self._next][0] <= t:
            _, ch = self.changes[self._next]
            for name, v in ch:
                if v is not None:
                    self.values[name] = self._expand(name, v, self.values[name])
            self._next += 1
            self.version += 1


@dataclass
class PolicyState:
    """Instrument values in force this month (per-sector arrays or scalars), by name in `values`
    and as attributes. The regulators write them with `set`, which keeps both: an instrument read as
    an attribute (`policy.vat_rate`, some sixty reads a month) is then found in the instance's
    dictionary instead of through `__getattr__` (which serves a value put in `values` alone; one
    written there over a value `set` put in force is not seen as an attribute: write with `set`)."""

    values: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)
    quota_reference: np.ndarray | None = None  # sector capacity when a forced-exit quota began

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def set(self, name: str, value: Any) -> None:
        """Put an instrument's value in force."""
        self.values[name] = value
        self.__dict__[name] = value


class Regulator(mesa.Agent):
    instruments: tuple[str, ...] = ()
    _settled: int | None = None  # the schedule's version from which every instrument equals last month's

    def step(self) -> None:
        """The instruments in force this month, last month's kept as `previous`. The schedule's arrays
        are taken as they are, not copied: nothing writes into an instrument's array (a change in the
        schedule makes a new one, `PolicySchedule._expand`), so an instrument that did not change is
        the same object as last month's (IndustryRegulator.step reads that). A month in which the
        schedule changed nothing, after one in which each instrument was last month's, changes
        nothing either (previous and current are the same objects): it is skipped."""
        schedule = self.model.policy_schedule
        if self._settled == schedule.version:
            return
        values = schedule.values
        state: PolicyState = self.model.policy
        settled = True
        for name in self.instruments:
            new = values[name]
            old = state.values.get(name, new)
            state.previous[name] = old
            state.set(name, new)
            settled = settled and old is new
        self._settled = schedule.version if settled else None


class FiscalAuthority(Regulator):
    """VAT by sector (input VAT credited), corporate income tax with a small-firm rate, and how
    government spending responds to revenue."""

    instruments = ("vat_rate", "vat_rate_inputs", "cit_rate", "cit_rate_small", "cit_rate_small_upper",
                   "deficit_financed", "government_spending_response", "purchase_subsidy", "soft_budget",
                   "soft_budget_limit")


class EnergyRegulator(Regulator):
    """Electricity tariffs by tariff class and fuel prices."""

    instruments = ("electricity_price_change_general", "electricity_price_change_large", "fuel_price_change")


class IndustryRegulator(Regulator):
    """Capacity bans, replacement ratios, caps, forced-exit quotas, upgrade subsidies, entry barriers
    and support for emerging sectors."""

    instruments = ("ban_new_capacity", "replacement_ratio", "capacity_cap", "forced_exit_quota",
                   "backward_energy_intensity", "backward_productivity", "exit_compensation", "upgrade_subsidy",
                   "entry_barrier", "demand_support", "forced_exit_zombies_first")

    def __init__(self, model):
        super().__init__(model)
        self._positive: dict[str, tuple[np.ndarray, bool]] = {}  # (`_any_positive`)

    def step(self) -> None:
        super().step()
        state: PolicyState = self.model.policy
        values = state.values
        quota = values["forced_exit_quota"]
        if state.quota_reference is None:
            state.quota_reference = np.zeros_like(quota)
        if self._any_positive("forced_exit_quota", quota):
            before = _previous(state, "forced_exit_quota", quota)
            started = (quota > 0) & ((before <= 0) | (state.quota_reference <= 0))
            if started.any():
                cap = self.model.sector_capacity()
                state.quota_reference[started] = cap[started]
        # projects under construction that break a new ban or replacement rule are halted, as the
        # State Council ordered for non-compliant projects (Guo Fa [2013] No. 41); rules of the status
        # quo ([policy]) are not new: the pipeline at the start complies with them (set-up). Rules that
        # are last month's objects (Regulator.step) did not change: nothing is new
        ratio, ban = values["replacement_ratio"], values["ban_new_capacity"]
        if ratio is not state.previous.get("replacement_ratio") or ban is not state.previous.get("ban_new_capacity"):
            rule = retired_per_unit_built(ratio, ban)
            rule_before = retired_per_unit_built(_previous(state, "replacement_ratio", rule),
                                                 _previous(state, "ban_new_capacity", rule))
            new_rule = (rule > 0) & (rule_before <= 0)
            if new_rule.any():
                self.model.capacity_rules.halt_projects(new_rule)
        if self._any_positive("capacity_cap", values["capacity_cap"]):
            self.model.capacity_rules.enforce_caps(values["capacity_cap"])

    def _any_positive(self, name: str, value: np.ndarray) -> bool:
        """np.any(value > 0) of an instrument's array, worked out again only when the array is
        another object than last time (a change in the schedule makes a new one)."""
        seen = self._positive.get(name)
        if seen is None or seen[0] is not value:
            seen = self._positive[name] = (value, bool(np.any(value > 0)))
        return seen[1]


def _previous(state: PolicyState, name: str, like: np.ndarray) -> np.ndarray:
    """An instrument's value last month (zeros shaped like `like` before the first), made only when
    missing (Regulator.step records every instrument's: the zeros are for the first call)."""
    prev = state.previous.get(name)
    return np.zeros_like(like) if prev is None else prev


class MonetaryRegulator(Regulator):
    """Policy rate, capital rules, inclusive-finance targets, the financing-guarantee fund, collateral
    rules and bank resolution."""

    instruments = ("policy_rate", "min_capital_ratio", "soe_implicit_guarantee", "inclusive_sme_target",
                   "inclusive_concession", "inclusive_unsecured", "targeted_rrr_cut", "targeted_rrr_threshold",
                   "relending_share", "relending_rate", "guarantee_fund_capital", "guarantee_leverage",
                   "risk_share_bank", "guarantee_fee", "guarantee_fee_small", "receivables_pledge", "ip_pledge",
                   "pledge_haircut", "bank_resolution")


class RestOfWorld(Regulator):
    """Not a regulator: the conditions abroad the model does not generate, world demand and the tariffs
    China's exports face, entered as dated scenario inputs the way instruments are (sim.economy.world
    .export_factor)."""

    instruments = ("world_demand", "tariff_abroad")


REGULATORS = (FiscalAuthority, EnergyRegulator, IndustryRegulator, MonetaryRegulator, RestOfWorld)
