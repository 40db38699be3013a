"""Speed on a busy machine (issue 22): runs and a sweep beside processes that keep every core busy.

    python benchmarks/busy_machine.py [--repeat 3] [--write]

Each case runs in a fresh process, first on the quiet machine, then beside one CPU-bound process
per core (`python -c "while True: pass"`). A run should slow down by about its fair share of the
cores (2x when the cores are shared with as many busy processes), not collapse. Cases: a
20,000-firm, 36-month `sim.run` with the thread policy's choice and with threads forced to every
core; `sim sweep scenarios/sweeps/quick.toml` (12 runs on local workers). Warm numba cache.
With --write the table replaces the "Busy machine" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = ("import time, sim; sc = sim.load_scenario('{root}/scenarios/baseline.toml', firms=20000, months=36); "
       "sim.run(sc, seed=0, months=2, quiet=True); t = time.perf_counter(); sim.run(sc, seed=0, quiet=True); "
       "print(time.perf_counter() - t)")


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def run_case(env_extra: dict[str, str]) -> float:
    env = {**os.environ, **env_extra}
    r = subprocess.run([sys.executable, "-c", RUN.format(root=ROOT)], capture_output=True, text=True, env=env,
                       check=True)
    return float(r.stdout.strip().splitlines()[-1])


def sweep_case() -> float:
    folder = Path(tempfile.mkdtemp())
    try:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(ROOT / "scenarios/sweeps/quick.toml"), "--out",
                        str(folder / "q.zarr"), "-q"], check=True, capture_output=True)
        return time.perf_counter() - t
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def burners(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def measure(repeat: int) -> list[tuple[str, list[float], list[float]]]:
    cases = [("20,000 firms x 36 months, threads by policy", lambda: run_case({})),
             (f"20,000 firms x 36 months, {_cores()} threads forced", lambda: run_case({"SIM_THREADS": str(_cores())})),
             ("sweep quick.toml (12 runs, local workers)", sweep_case)]
    rows = []
    for name, fn in cases:
        quiet = [fn() for _ in range(repeat)]
        procs = burners(_cores())
        try:
            time.sleep(1.0)
            busy = [fn() for _ in range(repeat)]
        finally:
            for p in procs:
                p.kill()
                p.wait()
        rows.append((name, quiet, busy))
        print(f"{name}: quiet {quiet}, busy {busy}", flush=True)
    return rows


def table(rows, repeat: int) -> str:
    head = [
        "## Busy machine (issue 22)",
        "",
        f"- date: {_dt.date.today()}; machine: {_cores()} cores ({platform.processor() or platform.machine()}); "
        f"Python {platform.python_version()}",
        f"- command: `python benchmarks/busy_machine.py --repeat {repeat} --write` (warm numba cache; busy = one "
        "CPU-bound process per core beside the case; median of the repeats, all in seconds)",
        "",
        "| case | quiet (s) | busy (s) | slow-down | runs (quiet; busy) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, q, b in rows:
        mq, mb = statistics.median(q), statistics.median(b)
        head.append(f"| {name} | {mq:.2f} | {mb:.2f} | {mb / mq:.1f}x | "
                    f"{' / '.join(f'{x:.2f}' for x in q)}; {' / '.join(f'{x:.2f}' for x in b)} |")
    head += ["", "Fair share with one busy process per core is about 2x. The thread policy is in "
             "`sim/threads.py` (a run takes the cores idle when it starts; sweep workers one thread each).", ""]
    return "\n".join(head)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    text = table(measure(args.repeat), args.repeat)
    print(text)
    if args.write:
        path = ROOT / "benchmarks" / "RESULTS.md"
        old = path.read_text()
        start = old.find("## Busy machine")
        if start >= 0:
            end = old.find("\n## ", start + 1)
            old = old[:start] + (old[end + 1:] if end >= 0 else "")
        path.write_text(old.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    main()
