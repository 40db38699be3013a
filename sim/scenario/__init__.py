from .load import ScenarioError, load_scenario, scenario_from_toml, scenario_toml
from .schema import SECTORS, Behaviour, Policy, RunConfig, Scenario, SectorParams, month_index

__all__ = [
    "SECTORS",
    "Behaviour",
    "Policy",
    "RunConfig",
    "Scenario",
    "ScenarioError",
    "SectorParams",
    "load_scenario",
    "month_index",
    "scenario_from_toml",
    "scenario_toml",
]
