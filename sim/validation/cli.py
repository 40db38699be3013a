"""`sim check-facts SCENARIO.toml`: run a scenario over several seeds, score the stylized facts and
calibration targets, print a table and optionally write the result as an xarray Dataset."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ..clicommon import (
    Seeds,
    banks_option,
    check_outputs,
    check_workers,
    exits,
    fail,
    overwrite_option,
    threads_option,
    workers_options,
)
from ..scenario import ScenarioError
from .check import DEFAULT_FIRMS, DEFAULT_MONTHS, DEFAULT_SEEDS


@click.command("check-facts")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--seeds",
    default=str(DEFAULT_SEEDS),
    show_default=True,
    type=Seeds(),
    help="A count N (seeds 0..N-1) or a list such as 0,3,7.",
)
@click.option(
    "--firms",
    default=DEFAULT_FIRMS,
    show_default=True,
    type=click.IntRange(100, None),
    help="Simulated firms.",
)
@click.option(
    "--months",
    default=DEFAULT_MONTHS,
    show_default=True,
    type=click.IntRange(36, None),
    help="Months per run (at least 36: growth rates need two full years after the first).",
)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Write the Dataset (.nc or .zarr)."
)
@banks_option
@overwrite_option
@threads_option
@workers_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table; one summary line.")
def check_facts(scenario: Path, seeds: list[int], firms: int, months: int, out: Path | None, banks: int | None,
                overwrite: bool,
                workers: int | None, scheduler: str | None, quiet: bool) -> None:
    """Score SCENARIO against stylized facts and China ~2019 targets (docs/validation.md)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..api import write
    from ..sweep.runner import SchedulerError
    from .check import check, table

    check_workers(workers, scheduler)
    with exits():
        check_outputs({"check-facts": out}, overwrite)
    con = Console() if sys.stdout.isatty() else Console(width=180)  # logs and pipes: one row per line
    t0 = time.perf_counter()
    try:
        if quiet:
            ds = check(scenario, seeds, firms=firms, months=months, banks=banks, workers=workers,
                       scheduler=scheduler)
        else:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=con,
            ) as prog:
                task = prog.add_task(
                    f"{scenario.name}: {len(seeds)} seeds x {firms} firms x {months} months", total=len(seeds)
                )
                ds = check(
                    scenario,
                    seeds,
                    firms=firms,
                    months=months,
                    banks=banks,
                    progress=lambda done, total: prog.update(task, completed=done),
                    workers=workers,
                    scheduler=scheduler,
                )
    except ScenarioError as e:
        fail(str(e))
    except SchedulerError as e:
        fail(f"--scheduler {scheduler}: {e}", 1)
    elapsed = time.perf_counter() - t0
    if not quiet:
        con.print(table(ds))
    n_pass, n = int(ds.attrs["n_passed"]), int(ds.attrs["n_targets"])
    facts = ds.kind == "fact"
    f_pass = int(ds.passed.where(facts, 0).sum())
    con.print(
        f"{n_pass}/{n} targets met (stylized facts {f_pass}/{int(facts.sum())}, China 2019 "
        f"{n_pass - f_pass}/{n - int(facts.sum())}) in {elapsed:.1f} s"
    )
    if out is not None:
        with exits():
            write(ds, out, overwrite=overwrite)
        con.print(f"wrote {out}")
