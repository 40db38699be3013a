"""The bundles the kernels take, field by field, rendered from their declarations (issue 18): the
state (`sim.state`: FIRM_FIELDS, BANK_FIELDS, SCRATCH_FIELDS, SECTOR_FIELDS) and each kernel module's
named tuples of this month's prices and settings (`*_FIELDS` beside the kernels). The page cannot
drift from the code: `python -m sim.state_reference > docs/state-reference.md`, checked by a test."""

from __future__ import annotations

import importlib

import numpy as np

from . import state

KERNEL_MODULES = ("market", "production", "accounting", "credit", "credit_allocation", "investment",
                  "exit_entry", "payout")


def _kind(t) -> str:
    if isinstance(t, type) and issubclass(t, np.generic):
        return np.dtype(t).name
    return getattr(t, "__name__", str(t))


def _table(fields: dict) -> list[str]:
    if all(len(v) == 3 for v in fields.values()):  # the state's tables: (dtype, units, meaning)
        out = ["| field | type | units | meaning |", "|---|---|---|---|"]
        return out + [f"| `{name}` | {_kind(kind)} | {units} | {desc} |"
                      for name, (kind, units, desc) in fields.items()]
    out = ["| field | type | meaning |", "|---|---|---|"]
    out += [f"| `{name}` | {_kind(kind)} | {desc} |" for name, (kind, desc) in fields.items()]
    return out


def _bundles(module) -> list[tuple[str, dict]]:
    """(named tuple's name, its FIELDS dict) for every `*_FIELDS` dict of the module that a named
    tuple of the module is made from."""
    tuples = {tuple(v._fields): name for name, v in vars(module).items()
              if isinstance(v, type) and issubclass(v, tuple) and hasattr(v, "_fields")}
    found = []
    for name, v in vars(module).items():
        if name.endswith("_FIELDS") and isinstance(v, dict) and tuple(v) in tuples:
            found.append((tuples[tuple(v)], v))
    return found


def render() -> str:
    out = ["# The kernels' bundles, field by field", "",
           "Generated from the declarations in `sim/state.py` and beside each kernel in `sim/kernels/` by",
           "`python -m sim.state_reference > docs/state-reference.md`; do not edit by hand.", "",
           "Kernels take the state as named tuples of arrays (one row per firm or bank, docs/model.md) and",
           "this month's prices and settings as named tuples built by a function beside each kernel. Money is",
           "yuan, economy-wide for banks and per model firm for firms (a model firm stands for `weight` real",
           "ones).", ""]
    for title, name, fields in (("Firms", "FirmState", state.FIRM_FIELDS), ("Banks", "BankState", state.BANK_FIELDS),
                                ("The credit step's scratch", "ScratchState", state.SCRATCH_FIELDS),
                                ("Sector tables", "SectorTables", state.SECTOR_FIELDS)):
        out += [f"## {title} (`{name}`)", "", *_table(fields), ""]
    for mod_name in KERNEL_MODULES:
        module = importlib.import_module(f"sim.kernels.{mod_name}")
        bundles = _bundles(module)
        if not bundles:
            continue
        out += [f"## `sim/kernels/{mod_name}.py`", ""]
        for name, fields in bundles:
            out += [f"### `{name}`", "", *_table(fields), ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
