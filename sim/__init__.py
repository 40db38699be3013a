"""sim: an agent-based model of an industrial economy for comparing industrial-policy scenarios."""

__version__ = "0.1.0"

from . import threads as _threads  # noqa: E402

_threads.configure()  # before numba loads: threads within the cores given, idle threads asleep

from .api import run, write  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from .tidy import tidy  # noqa: E402  (also registers the ds.sim accessor)

__all__ = ["Scenario", "ScenarioError", "__version__", "analyze", "compare", "explore", "load_scenario", "run", "sweep",
           "tidy", "write"]


def __getattr__(name: str):  # load lazily: `import sim` does not import dask, zarr, SALib or solara
    if name in ("sweep", "compare", "explore"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name == "analyze":
        from .sweep import analyze

        return analyze
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
