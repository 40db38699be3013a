"""What the closed economy's accounts cost (issue 19): ms a month at 1:1, open against closed.

    python benchmarks/closed_economy.py [--firms 378000] [--months 12] [--rounds 2] [--write]

Each round builds both models (baseline, seed 1), steps month 1 (compilation and the first month's
calibration), then times months 2 to months+1; the two closures alternate so that a change in the
machine's load hits both. One numba thread (NUMBA_NUM_THREADS=1 is set before numba loads). With
--write the table replaces the "Closed economy" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Closed economy (issue 19)"


def month_ms(closure: str, firms: int, months: int) -> float:
    import sim
    from sim.api import make_model

    sc = sim.load_scenario(ROOT / "scenarios" / "baseline.toml",
                           **{"economy.closure": closure, "run.firms": firms, "run.months": months + 1})
    m = make_model(sc, seed=1)
    m.step()
    t0 = time.perf_counter()
    for _ in range(months):
        m.step()
    return (time.perf_counter() - t0) / months * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--firms", type=int, default=378_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    rows = []
    for r in range(a.rounds):
        for closure in ("open", "closed"):
            ms = month_ms(closure, a.firms, a.months)
            rows.append((r + 1, closure, ms))
            print(f"round {r + 1} {closure:6s} {ms:7.1f} ms/month", flush=True)
    load = os.getloadavg()[0]
    lines = [HEADING, "",
             f"`python benchmarks/closed_economy.py --firms {a.firms} --months {a.months} --rounds {a.rounds}` "
             f"on {platform.node()} ({os.cpu_count()} cores, {platform.python_version()}), "
             f"{_dt.date.today().isoformat()}, load average {load:.1f} at the end, one numba thread.", "",
             f"| round | closure | ms a month (months 2 to {a.months + 1}) |", "|---|---|---:|"]
    lines += [f"| {r} | {c} | {ms:.1f} |" for r, c, ms in rows]
    lines.append("")
    if a.write:
        path = ROOT / "benchmarks" / "RESULTS.md"
        text = path.read_text()
        if HEADING in text:
            head, rest = text.split(HEADING, 1)
            nxt = rest.find("\n## ")
            text = head + "\n".join(lines) + ("\n" + rest[nxt + 1:] if nxt >= 0 else "")
        else:
            text = text.rstrip() + "\n\n" + "\n".join(lines)
        path.write_text(text)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
