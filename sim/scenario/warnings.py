"""Soft checks: values that are valid but extreme get a warning in the run's output and on stderr."""

from __future__ import annotations

from .schema import PER_SECTOR_POLICY, SECTORS, Policy, Scenario

# key: (low, high) outside which a value is unusual for this model's calibration
SOFT = {
    "vat_rate": (0.0, 0.25),
    "vat_rate_inputs": (0.0, 0.25),
    "cit_rate": (0.1, 0.4),
    "electricity_price_change_general": (-0.5, 0.5),
    "electricity_price_change_large": (-0.5, 0.5),
    "fuel_price_change": (-0.5, 1.0),
    "replacement_ratio": (0.0, 3.0),
    "forced_exit_quota": (0.0, 0.2),
    "upgrade_subsidy": (0.0, 0.6),
    "entry_barrier": (0.1, 0.9),
    "demand_support": (-0.2, 0.4),
    "purchase_subsidy": (0.0, 0.3),
    "policy_rate": (0.0, 0.12),
    "world_demand": (0.5, 1.5),
    "tariff_abroad": (0.0, 1.0),
}


def _values(name: str, v) -> list[tuple[str, float]]:
    if name in PER_SECTOR_POLICY:
        if isinstance(v, dict):
            return [(f"{name}.{k}", float(x)) for k, x in v.items()]
        return [(name, float(v))]
    return [(name, float(v))]


def scenario_warnings(sc: Scenario) -> list[str]:
    out = []
    tables = [("policy", sc.policy)] + [(f'schedule."{m}"', ch) for m, ch in sc.schedule.items()]
    for where, table in tables:
        for name, (lo, hi) in SOFT.items():
            v = getattr(table, name, None)
            if v is None or name not in Policy.model_fields:
                continue
            for key, x in _values(name, v):
                if not lo <= x <= hi:
                    out.append(f"{where}.{key} = {x:g} is outside the usual range [{lo:g}, {hi:g}]")
    if sc.behaviour.markup_backlog_response != 0:
        out.append(f"behaviour.markup_backlog_response = {sc.behaviour.markup_backlog_response:g} is retired and "
                   "ignored: prices rise near capacity through overtime costs (behaviour.overtime_premium) and "
                   "the utilisation-driven markup norm")
    per_sector = sc.run.firms / len(SECTORS)
    if per_sector < 300:
        out.append(f"run.firms = {sc.run.firms}: small sectors get few firms; results are noisy")
    if sc.run.firms > 2_000_000:
        out.append(f"run.firms = {sc.run.firms}: needs about {sc.run.firms * 1.5 * 400 / 1e9:.1f} GB of memory")
    return out
