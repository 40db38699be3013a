"""Render the scenario schema to Markdown: `python -m sim.scenario.reference > docs/scenario-reference.md`.

The reference is generated from the pydantic models and the calibrated sector table, so it cannot
drift from the code; tests/test_docs.py fails when the committed file is stale.
"""

from __future__ import annotations

from typing import Any

from .banking import Banking
from .economy import Economy
from .load import sector_defaults
from .schema import Behaviour, Policy, RunConfig, SectorParams


def field_constraints(f: Any) -> list[Any]:
    """A field's bound constraints (annotated_types Ge, Gt, Le, Lt), through a per-sector union:
    the bounds of `x` in `x | dict[sector, x]` are the field's."""
    metas = list(f.metadata)
    for arg in getattr(f.annotation, "__args__", ()):
        for m in getattr(arg, "__metadata__", ()):
            metas += list(getattr(m, "metadata", ()))
    return metas


def _bounds(f: Any) -> str:
    parts = []
    for m in field_constraints(f):
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v:g}" if isinstance(v, int | float) else f"{sym} {v}")
    return ", ".join(parts)


def _table(model: type, prefix: str, per_sector: bool = False) -> list[str]:
    rows = ["| key | unit | default | range | description | source |", "|---|---|---|---|---|---|"]
    for name, f in model.model_fields.items():
        extra = f.json_schema_extra or {}
        default = f.default if not f.is_required() else "(sector table)"
        if callable(getattr(f, "default_factory", None)):
            default = "{}"
        rng = _bounds(f)
        ann = str(f.annotation)
        if "dict[" in ann and prefix.startswith("policy"):
            rng = (rng + "; " if rng else "") + "a number for all sectors or a table {sector = value}"
        rows.append(f"| `{prefix}{name}` | {extra.get('unit', '')} | {default!r} | {rng} | {f.description or ''} | "
                    f"{extra.get('source', '')} |".replace("\n", " "))
    return rows


def render() -> str:
    out = [
        "# Scenario reference",
        "",
        "Generated from `sim/scenario/schema.py` and `sim/data/sectors.toml` by",
        "`python -m sim.scenario.reference > docs/scenario-reference.md`; do not edit by hand.",
        "",
        "A scenario file is TOML. `extends = \"other.toml\"` starts from another file (tables merge key by",
        "key, anything else is replaced). Unknown keys, wrong types and values out of range are errors that",
        "name the file and the key path. Values keep their TOML type (`true` is not 1, `\"0.13\"` is not a",
        "number, `12.0` is not a count of months) and numbers are finite (`inf` and `nan` are refused).",
        "",
        "## `[run]`",
        "",
        *_table(RunConfig, "run."),
        "",
        "## `[policy]`: instruments in force at the start",
        "",
        "A dated change is written `[schedule.\"YYYY-MM\"]` with any of these keys; it holds from that month",
        "on. A per-sector instrument given as a table changes only the sectors it names: under `[policy]`",
        "the others keep the value inherited through `extends` or, failing that, the default; under a",
        "schedule month, the value in force that month.",
        "",
        *_table(Policy, "policy."),
        "",
        "## `[behaviour]`",
        "",
        *_table(Behaviour, "behaviour."),
        "",
        "## `[banking]`: banks and the credit market",
        "",
        "docs/credit.md lists the calibration targets; docs/model.md §7, §9 and §11 the equations.",
        "",
        *_table(Banking, "banking."),
        "",
        "## `[economy]`: households, government, central bank, rest of the world",
        "",
        "Used when `closure = \"closed\"` (docs/model.md, \"The whole economy\"). The share tables take",
        "one entry per sector; a table that names some sectors keeps the defaults of the others.",
        "",
        *_table(Economy, "economy."),
        "",
        "## `[sectors.NAME]`: the calibrated sector table",
        "",
        *_table(SectorParams, "sectors.NAME."),
        "",
        "Calibrated values (each with its source in `sim/data/sectors.toml`):",
        "",
    ]
    d = sector_defaults()
    keys = [k for k in SectorParams.model_fields if k not in ("label", "inputs", "capacity_unit")]
    out.append("| key | " + " | ".join(d) + " |")
    out.append("|---|" + "---|" * len(d))
    for k in keys:
        out.append(f"| `{k}` | " + " | ".join(f"{d[s][k]:g}" for s in d) + " |")
    out.append("")
    out.append("Input-output coefficients (`sectors.NAME.inputs`; row: seller, column: buyer):")
    out.append("")
    out.append("| seller \\ buyer | " + " | ".join(d) + " |")
    out.append("|---|" + "---|" * len(d))
    for k in d:
        out.append(f"| {k} | " + " | ".join(f"{d[s].get('inputs', {}).get(k, 0):g}" for s in d) + " |")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
