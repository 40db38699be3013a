"""What the explorer runs, without the page: scenario files, levers from the schema, and one call of
`sim.compare` (no solara here, so a notebook or a test can use it alone).

A choice is a baseline and scenarios picked from files, plus, when levers are set, one scenario of
the user's own (`custom`): a scenario file (the baseline by default) with the levers changed from a
month on (the first month by default). A lever holds from that month to the end: a later dated
change of the same key in the file is overridden too. Bad values raise `sim.ScenarioError` naming
the key, as a file would.
"""

from __future__ import annotations

import numbers
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from ..scenario import Scenario, ScenarioError, load_scenario
from ..scenario.reference import field_constraints
from ..scenario.schema import SECTORS, Policy

# the policy keys offered as levers (any other key stays reachable through a scenario file)
LEVER_KEYS = ("vat_rate", "vat_rate_inputs", "electricity_price_change_general", "electricity_price_change_large",
              "demand_support", "upgrade_subsidy", "entry_barrier", "policy_rate", "guarantee_fund_capital")
# the effects shown by default: those of `sim compare --plot`
DEFAULT_METRICS = ("output", "price_tax_inclusive", "capacity_heavy", "credit_sme", "productivity",
                   "output_emerging")
CUSTOM = "custom"
ALL_SECTORS = "all sectors"
ENV = "SIM_EXPLORE_SCENARIOS"  # the folder of scenario files (`sim explore --scenarios DIR`)


@dataclass(frozen=True)
class Lever:
    """A policy key as the page offers it: its unit, bounds and default come from the schema."""

    key: str
    description: str
    unit: str
    default: Any
    low: float | None
    high: float | None
    per_sector: bool

    @property
    def bounds(self) -> str:
        lo = "" if self.low is None else f"{self.low:g}"
        hi = "" if self.high is None else f"{self.high:g}"
        return f"{lo} to {hi}" if lo and hi else f">= {lo}" if lo else f"<= {hi}" if hi else "any"


def lever(key: str) -> Lever:
    """A policy key's lever, from the schema (sim.scenario.schema.Policy)."""
    f = Policy.model_fields[key]
    low = high = None
    for m in field_constraints(f):
        low = next((v for v in (getattr(m, "ge", None), getattr(m, "gt", None)) if v is not None), low)
        high = next((v for v in (getattr(m, "le", None), getattr(m, "lt", None)) if v is not None), high)
    default = f.default
    if isinstance(default, dict):
        default = default.get(SECTORS[0], 0.0)
    return Lever(key, f.description or "", (f.json_schema_extra or {}).get("unit", ""), default, low, high,
                 "dict[" in str(f.annotation))


def all_levers() -> list[Lever]:
    return [lever(k) for k in LEVER_KEYS]


def scenario_folder() -> Path:
    """Where the scenario files are: $SIM_EXPLORE_SCENARIOS, else ./scenarios, else the repository's."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    here = Path.cwd() / "scenarios"
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "scenarios"


def scenario_files(folder: str | Path | None = None) -> dict[str, Path]:
    """The scenario files of a folder by name (file stem), baseline first."""
    folder = Path(folder) if folder is not None else scenario_folder()
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    return dict(sorted(((p.stem, p) for p in files), key=lambda kv: (kv[0] != "baseline", kv[0])))


@dataclass
class Choice:
    """What to compare. `scenarios` and `baseline` are names of files in `folder` or paths;
    `levers` maps a key (or `key.sector` for a per-sector key) to its value, from `lever_month` on
    ("YYYY-MM"; None: the first month), in a copy of `lever_base` (None: the baseline) named `custom`."""

    baseline: str = "baseline"
    scenarios: Sequence[str] = ("vat_cut",)
    levers: dict[str, Any] = field(default_factory=dict)
    lever_base: str | None = None
    lever_month: str | None = None
    firms: int = 1000
    months: int = 24
    seeds: int = 2
    metrics: Sequence[str] = DEFAULT_METRICS
    folder: str | Path | None = None


def _path(name: str, folder: str | Path | None) -> Path:
    files = scenario_files(folder)
    if name in files:
        return files[name]
    p = Path(name).expanduser()
    if p.suffix.lower() != ".toml" and not p.exists():
        raise ScenarioError(name, None, f"no scenario of that name (known: {', '.join(files) or 'none'}) and no "
                            "such file")
    return p


def custom_scenario(choice: Choice) -> Scenario | None:
    """The user's own scenario: the levers set from their month on in a copy of the base file (None
    without levers)."""
    if not choice.levers:
        return None
    path = _path(choice.lever_base or choice.baseline, choice.folder)
    run = {"firms": choice.firms, "months": choice.months}
    base = load_scenario(path, **run)
    month = choice.lever_month or base.run.start
    over: dict[str, Any] = {}
    for name, value in choice.levers.items():
        key = name.split(".", 1)[0]
        if key not in Policy.model_fields:
            raise ScenarioError("<levers>", name, "not a policy key")
        # from `month` on: at that month and at every later month of the file that sets the key
        later = [m for m, ch in base.schedule.items() if m > month and getattr(ch, key, None) is not None]
        for m in (month, *later):
            over[f"schedule.{m}.{name}"] = value
    try:
        sc = load_scenario(path, **run, **over)
    except ScenarioError as e:
        if e.file != "<arguments>":
            raise
        parts = (e.key or "").split(".", 2)  # schedule.MONTH.key: the lever's own name
        raise ScenarioError(f"levers from {month}", parts[2] if len(parts) == 3 else "from month", e.message) \
            from None
    sc.name = CUSTOM
    return sc


def scenarios(choice: Choice) -> tuple[list[Scenario], str]:
    """The scenarios of a choice, loaded small (firms, months), baseline first, and its name."""
    if isinstance(choice.seeds, bool) or not isinstance(choice.seeds, numbers.Integral) or not 1 <= choice.seeds <= 100:
        raise ScenarioError("<explorer>", "seeds", f"must be 1 to 100 (got {choice.seeds})")
    run = {"firms": choice.firms, "months": choice.months}
    base = load_scenario(_path(choice.baseline, choice.folder), **run)
    out = [base]
    for name in choice.scenarios:
        sc = load_scenario(_path(name, choice.folder), **run)
        if sc.name != base.name and sc.name not in [s.name for s in out]:
            out.append(sc)
    custom = custom_scenario(choice)
    if custom is not None:
        out.append(custom)
    if len(out) < 2:
        raise ScenarioError("<explorer>", "scenarios", "pick a scenario other than the baseline, or set a lever")
    return out, base.name


_ONE_AT_A_TIME = threading.Lock()  # runs of several pages of one server take turns (numba's threads)


def run(choice: Choice, progress: Callable[[int, int], None] | None = None) -> xr.Dataset:
    """Run a choice with `sim.compare` (levels, effects and their bands across seeds) and return the
    comparison; `progress(done, total)` after each run."""
    from .. import compare

    scs, base = scenarios(choice)
    with _ONE_AT_A_TIME:
        return compare.compare(scs, baseline=base, seeds=int(choice.seeds), progress=progress)


def figure(cmp: xr.Dataset, metrics: Sequence[str] = DEFAULT_METRICS):
    """The effects with their bands (sim.plot.effects), a little smaller than a paper's figure so that
    its labels stay readable beside the controls, and closed to pyplot (the page keeps it)."""
    import matplotlib.pyplot as plt

    from ..plot import effects

    fig = effects(cmp, list(metrics) or list(DEFAULT_METRICS))
    w, h = fig.get_size_inches()
    fig.set_size_inches(w * 0.75, h * 0.85)
    plt.close(fig)
    return fig


def table(cmp: xr.Dataset, metrics: Sequence[str] = DEFAULT_METRICS):
    """The effects over the last 12 months, "mean [5%, 95%]" across seeds: a pandas DataFrame, one row
    per metric (its unit in the label), one column per scenario compared with the baseline."""
    import pandas as pd

    from ..compare import summary_rows

    base = cmp.attrs["baseline"]
    names = [str(s) for s in cmp.scenario.values if s != base]
    rows = summary_rows(cmp, list(metrics) or list(DEFAULT_METRICS))
    df = pd.DataFrame([[cells[n] for n in names] for _, cells in rows], index=[label for label, _ in rows],
                      columns=names)
    df.index.name = f"effect against {base}, last 12 months"
    return df
