"""Are two checkouts' results the same, bit for bit? The check every speed change must pass.

Runs every shipped scenario (scenarios/*.toml and scenarios/history/*.toml) and the open-economy
baseline at 3,000 firms for 24 months, seed 0, with the firm panel, and saves every numeric output
array (about 1,500) to an .npz file; `--compare` then lists the arrays that differ in any bit (NaN
equal to NaN). At 3,000 firms the rows fit in one chunk: a change to a parallel kernel is also to be
checked with more rows than one chunk (`sim._numba.CHUNK`) on two threads (`--firms`, `--months`,
`--only`, below).

    python benchmarks/bitwise.py --out /tmp/before.npz                  # in the checkout before
    python benchmarks/bitwise.py --out /tmp/after.npz --compare /tmp/before.npz

It takes about a minute on one core. The checkout whose `sim` is imported is the one measured (run
it from the checkout's root, or with PYTHONPATH pointing there).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def outputs(firms: int = 3000, months: int = 24, only: list[str] | None = None) -> dict[str, np.ndarray]:
    """Every numeric array of every shipped scenario's run and panel, by 'scenario/variable' (with
    `only`, of the scenarios named, paths under scenarios/, and no open-economy run)."""
    from sim import api
    from sim.scenario.load import validate_document

    if only:
        runs = [(ROOT / "scenarios" / name, name, None) for name in only]
    else:
        files = sorted((ROOT / "scenarios").glob("*.toml")) + sorted((ROOT / "scenarios" / "history").glob("*.toml"))
        runs = [(f, f.name, None) for f in files]
        runs.append((ROOT / "scenarios" / "baseline.toml", "baseline.toml+open", "open"))
    out = {}
    for path, tag, closure in runs:
        sc = api.resolve_scenario(path, firms=firms, months=months, seed=0)
        if closure:
            doc = sc.model_dump()
            doc["economy"]["closure"] = closure
            sc = validate_document(doc, "<bitwise>")
        ds, panel = api.run(sc, panel=True, quiet=True)
        for prefix, data in (("", ds), ("panel/", panel)):
            for name, v in data.data_vars.items():
                if v.dtype.kind in "fiub":
                    out[f"{tag}/{prefix}{name}"] = v.values
    return out


def differences(base: dict[str, np.ndarray], now: dict[str, np.ndarray]) -> list[str]:
    """The names whose arrays are missing on one side or differ in shape or in any value."""
    bad = []
    for k in sorted(set(base) | set(now)):
        a, b = base.get(k), now.get(k)
        if a is None or b is None or a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            bad.append(k)
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="where to save this checkout's arrays (.npz)")
    ap.add_argument("--compare", help="an .npz saved before: list the arrays that differ")
    ap.add_argument("--firms", type=int, default=3000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--only", help="comma-separated scenario paths under scenarios/ (for a large check of a "
                    "parallel kernel: --firms 150000 --months 8 --only baseline.toml,history/decapacity_2016.toml, "
                    "with SIM_THREADS=2)")
    a = ap.parse_args()
    import sim

    print(f"sim from {Path(sim.__file__).parent}", file=sys.stderr)
    now = outputs(a.firms, a.months, a.only.split(",") if a.only else None)
    np.savez(a.out, **now)
    if a.compare:
        with np.load(a.compare) as f:
            base = {k: f[k] for k in f.files}
        bad = differences(base, now)
        for k in bad[:30]:
            print("differs:", k)
        print(f"{len(bad)} differences in {len(now)} arrays")
        sys.exit(1 if bad else 0)
    print(f"{len(now)} arrays saved to {a.out}")


if __name__ == "__main__":
    main()
