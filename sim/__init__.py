"""sim: an agent-based model of an industrial economy for comparing industrial-policy scenarios."""

__version__ = "0.1.0"

from .api import run, write  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["Scenario", "ScenarioError", "__version__", "load_scenario", "run", "write"]
