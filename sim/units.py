"""Units of the outputs, as pint and cf_xarray read them, and the provenance every output carries.

Every variable's `units` is a unit expression that pint parses with this registry (cf_xarray's
UDUNITS-style registry, plus the few units economics needs that UDUNITS lacks):

- `yuan` is money, a dimension of its own; whether a value is at current or at 2019 prices is in the
  variable's `price_base` attribute, not in the unit;
- `firm`, `person` and `bank` are counts of things, each a dimension of its own so that pint keeps
  firms and banks apart; a `units` of `1` is a ratio or an index (its `reference` attribute says
  which period is 1);
- `capacity_unit` is a sector's physical unit of capacity (Mt of crude steel, Mt of cement, ...),
  named per sector in the Dataset's `capacity_units` attribute.

Quantify a run with pint-xarray (`pip install pint-xarray cf_xarray`):

    ds.pint.quantify(unit_registry=sim.units.registry())

Flows are monthly rates (`yuan/month`, `firm/month`): `cell_methods = "time: mean"` (the month's
rate; its amount is the value times one month); stocks and states at the end of the month are
`time: point`; `sfc_error` is the largest gap within the month, `time: maximum` (CF 1.8, section 7.3).
"""

from __future__ import annotations

import functools
import platform
import subprocess
from pathlib import Path

DEFINITIONS = (
    "yuan = [currency] = CNY",
    "firm = [firms]",
    "person = [persons]",
    "bank = [banks]",
    "capacity_unit = [capacity]",
)


@functools.cache
def registry():
    """A pint UnitRegistry that parses every `units` attribute sim writes (needs pint; cf_xarray's
    registry when cf_xarray is installed, so CF's own unit names parse as well)."""
    try:
        from cf_xarray.units import units as ureg
    except ImportError:
        import pint

        ureg = pint.UnitRegistry()
    for d in DEFINITIONS:
        name = d.split("=")[0].strip()
        if name not in ureg:
            ureg.define(d)
    return ureg


@functools.cache
def git_commit() -> str:
    """The commit of the sim source tree this process runs, `+dirty` when it has uncommitted
    changes; 'unknown' outside a git checkout (an installed wheel)."""
    root = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5)
        if head.returncode:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                str(root)], capture_output=True, text=True, timeout=5)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@functools.cache
def library_versions() -> str:
    """Python and the libraries a run's numbers depend on."""
    from importlib.metadata import PackageNotFoundError, version

    out = [f"python {platform.python_version()}"]
    for pkg in ("numpy", "numba", "llvmlite", "scipy", "xarray", "pandas", "mesa", "pydantic"):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            pass
    return "; ".join(out)


def provenance(title: str, command: str) -> dict[str, str]:
    """CF global attributes every output of `sim` carries."""
    import datetime as _dt

    from . import __version__

    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    return {
        "title": title,
        "history": f"{now}: {command} (sim {__version__})",
        "source": f"sim {__version__}, agent-based model of an industrial economy (numba engine)",
        "Conventions": "CF-1.8",
        "git_commit": git_commit(),
        "library_versions": library_versions(),
        "comment": "Money and counts are economy-wide: each simulated firm stands for firm_weight real firms. "
                   "Parse units with sim.units.registry().",
    }
