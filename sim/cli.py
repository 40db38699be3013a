"""Command line: `sim run`, `sim validate`, `sim plan` (CONTRACT.md); `sim hindcast` lives in sim/hindcast/cli.py.

click parses arguments (bad usage exits 2), rich draws the progress bar and the summary table.
Every bad-input path ends in one line naming the file and the key, exit code 2, no traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import numpy as np

from .clicommon import (
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
from .scenario import ScenarioError, load_scenario
from .scenario.errors import in_file


def _with_progress(show: bool, label: str, total: int | None, unit: str, work):
    """Call work(progress) with a rich bar (done/total, rate, time left) when `show`, else with None."""
    if not show:
        return work(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class RateColumn(TextColumn):
        def __init__(self):
            super().__init__("")

        def render(self, task):
            return Text(f"{task.speed or 0:.1f} {unit}/s")

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(label, total=total)
        return work(lambda done, n: bar.update(task, completed=done, total=n))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sim")
def main() -> None:
    """sim: an agent-based model of an industrial economy for comparing policy scenarios."""
    from .outpaths import terminate_on_sigterm

    terminate_on_sigterm()  # a write in progress removes its temporary when killed by `timeout` or SLURM


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=None, help="Seed (overrides [run] seed).")
@click.option("--firms", type=int, default=None, help="Number of simulated firms (378000 = 1:1).")
@click.option("--months", type=int, default=None, help="Number of months to simulate.")
@banks_option
@click.option("--engine", type=click.Choice(["numba", "reference"]), default="numba", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output file: .nc or .zarr.")
@click.option("--panel", type=click.Path(path_type=Path), default=None,
              help="Also write firm-level snapshots (every --panel-every months and at the end): .nc or .zarr.")
@click.option("--panel-every", type=click.IntRange(min=1), default=12, show_default=True,
              help="Months between panel snapshots.")
@click.option("--panel-vars", default=None, metavar="A,B,...",
              help="Panel columns (default all: output, capacity, profit, equity, assets, liabilities, ...).")
@overwrite_option
@threads_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary table.")
def run(scenario: Path, seed, firms, months, banks, engine, out, panel, panel_every, panel_vars, overwrite,
        quiet) -> None:
    """Run one SCENARIO file and print a summary."""
    from . import api

    pvars = [v.strip() for v in panel_vars.split(",") if v.strip()] if panel_vars else None
    with exits():
        check_outputs({"run": out, "panel": panel}, overwrite)
        if pvars is not None:
            from .panel import check_variables

            try:
                check_variables(pvars)
            except ValueError as e:
                raise ScenarioError("--panel-vars", None, str(e)) from None
        sc = load_scenario(scenario, seed=seed, firms=firms, months=months, banks=banks)
    from .scenario.warnings import scenario_warnings

    for w in scenario_warnings(sc):
        click.echo(f"warning: {scenario}: {w}", err=True)
    show = not quiet and sys.stderr.isatty()
    if not quiet:
        click.echo(f"scenario {sc.name}: {sc.run.firms} firms, {sc.run.months} months from {sc.run.start}, "
                   f"seed {sc.run.seed}", err=True)
    with exits():
        try:
            res = _with_progress(show, "simulating", sc.run.months, "months",
                                 lambda progress: api.run(sc, panel=panel is not None, engine=engine,
                                                          progress=progress, quiet=quiet, panel_every=panel_every,
                                                          panel_vars=pvars))
        except ScenarioError as e:
            raise in_file(e, scenario) from None
    ds, pn = res if panel is not None else (res, None)
    with exits():
        if out is not None:
            api.write(ds, out, overwrite=overwrite)
        if pn is not None:
            api.write(pn, panel, overwrite=overwrite)
    if not quiet:
        summary(ds)
        for p in (out, panel):
            if p is not None:
                click.echo(f"wrote {p}", err=True)


def summary(ds) -> None:
    """Last-12-month averages by sector, and the economy's totals."""
    from rich.console import Console
    from rich.table import Table

    last = ds.isel(time=slice(-12, None))
    end = str(ds.time.values[-1])[:7]
    tab = Table(title=f"{ds.attrs['scenario']}: last 12 months to {end} (seed {ds.attrs['seed']})")
    for col in ("sector", "output trn/yr", "util.", "price", "margin", "firms", "entries", "exits",
                "productivity"):
        tab.add_column(col, justify="right" if col != "sector" else "left")
    for s in ds.sector.values:
        x = last.sel(sector=s)
        exits = float((x.exits_bankruptcy + x.exits_forced + x.exits_voluntary).sum())
        tab.add_row(str(s), f"{float(x.output.mean()) * 12 / 1e12:.2f}", f"{float(x.utilization.mean()):.3f}",
                    f"{float(x.price_index[-1]):.3f}", f"{float(x.profit_margin.mean()):.3f}",
                    f"{float(x.n_firms[-1]):,.0f}", f"{float(x.entries.sum()):,.0f}", f"{exits:,.0f}",
                    f"{float(x.productivity_mean[-1]):.3f}")
    con = Console(stderr=False, width=None if sys.stdout.isatty() else 120)
    con.print(tab)
    gdp = float(last.gdp.mean()) * 12 / 1e12
    tax = float(last.tax_revenue.mean()) * 12 / 1e12
    bal = float(last.gov_balance.mean()) * 12 / 1e12
    util = float((last.output.sum("sector") / (last.output / last.utilization).sum("sector")).mean())
    con.print(f"value added {gdp:.2f} trn yuan/yr; utilisation {util:.3f}; taxes {tax:.2f} trn yuan/yr; "
              f"government balance {bal:+.2f} trn yuan/yr; loans {float(ds.credit_total[-1]) / 1e12:.1f} trn yuan")
    if not np.isfinite(util):
        con.print("[red]warning: utilisation is not finite[/red]")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print only the errors.")
def validate(files, quiet) -> None:
    """Check scenario and sweep FILES without running them; exit 0 if all are valid (a file with a
    top-level `base` key is a sweep file)."""
    from .scenario.load import read_toml

    bad = 0
    for f in files:
        try:
            is_sweep = "base" in read_toml(Path(f))[1]
            if is_sweep:
                from .sweep.spec import load_sweep

                sw = load_sweep(f)
                what = f"sweep {sw.name}: {sw.n_runs} runs over {', '.join(sw.lead_dims)}"
            else:
                sc = load_scenario(f)
                what = f"{sc.name}: {len(sc.schedule)} dated policy changes"
        except ScenarioError as e:
            click.echo(f"error: {e}", err=True)
            bad += 1
        else:
            if not quiet:
                click.echo(f"ok: {f} ({what})")
    if bad:
        sys.exit(2)


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--baseline", default="baseline", show_default=True,
              help="Name (or file) of the scenario the others are compared with; baseline.toml next to the "
                   "first file is used when it is not among them.")
@click.option("--seeds", type=Seeds(), default="3", show_default=True,
              help="A count N (seeds 0..N-1) or a list such as 0,3,7.")
@click.option("--firms", type=int, default=None)
@click.option("--months", type=int, default=None)
@banks_option
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Comparison Dataset: .nc or .zarr.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), default=None, help="Figure of the effects (PNG).")
@overwrite_option
@threads_option
@workers_options
@click.option("--quiet", "-q", is_flag=True)
def compare(scenarios, baseline, seeds, firms, months, banks, out, plot_path, overwrite, workers, scheduler,
            quiet) -> None:
    """Run SCENARIOS on the same seeds and report each one's effect against the baseline."""
    from . import api
    from . import compare as cmpmod
    from .sweep.runner import SchedulerError

    show = not quiet and sys.stderr.isatty()
    check_workers(workers, scheduler)
    with exits():
        check_outputs({"compare": out}, overwrite, figures=(plot_path,))
        scs, base = cmpmod.resolve(scenarios, baseline, firms=firms, months=months,  # every file checked first
                                   banks=banks)
        try:
            res = _with_progress(show, "runs", None, "runs",
                                 lambda progress: cmpmod.compare(scs, baseline=base, seeds=seeds, progress=progress,
                                                                 workers=workers, scheduler=scheduler))
        except SchedulerError as e:
            fail(f"--scheduler {scheduler}: {e}", 1)
        if out is not None:
            api.write(res, out, overwrite=overwrite)
        if plot_path is not None:
            cmpmod.plot(res, plot_path, overwrite=overwrite)
    if not quiet:
        compare_table(res)
        for p in (out, plot_path):
            if p is not None:
                click.echo(f"wrote {p}", err=True)


def compare_table(res, per_table: int = 3) -> None:
    """The effects as tables of at most `per_table` scenarios each, so that each fits a terminal
    (nine scenarios side by side made one table 276 characters wide)."""
    from rich.console import Console
    from rich.table import Table

    from . import compare as cmpmod

    base = res.attrs["baseline"]
    names = [s for s in res.scenario.values if s != base]
    con = Console(width=None if sys.stdout.isatty() else 60 + 24 * min(len(names), per_table))
    rows = cmpmod.summary_rows(res)
    for k in range(0, len(names), per_table):
        group = names[k:k + per_table]
        part = f" ({k // per_table + 1} of {-(-len(names) // per_table)})" if len(names) > per_table else ""
        tab = Table(title=f"Effects against {base}, last 12 months: mean [5%, 95%] over seeds "
                          f"{res.attrs['seeds']}{part}")
        tab.add_column("metric")
        for s in group:
            tab.add_column(str(s), justify="right")
        for label, cells in rows:
            tab.add_row(label, *(cells[str(s)] for s in group))
        con.print(tab)


@main.command()
@click.option("--quiet", "-q", is_flag=True)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes compiling at once (default: the cores this process may use).")
def warmup(quiet, jobs) -> None:
    """Compile every kernel into numba's cache now (for a cluster image or a shared $NUMBA_CACHE_DIR)."""
    from .compilecache import dispatchers, engine_kernels
    from .compilecache import warmup as fill
    from .threads import available_cores

    jobs = jobs or available_cores()
    if not quiet:
        where = "$NUMBA_CACHE_DIR=" + os.environ["NUMBA_CACHE_DIR"] if os.environ.get("NUMBA_CACHE_DIR") else \
            "__pycache__ beside the kernels' sources"
        click.echo(f"compiling the kernels into {where} in {jobs} process{'es' if jobs > 1 else ''} ...", err=True)
    n, secs, left = fill(jobs=jobs)
    if not quiet:
        engine = engine_kernels()
        click.echo(f"{n} kernels compiled in {secs:.0f} s; {len(engine) - len(left)} of the engines' {len(engine)} "
                   f"kernels cached ({len(dispatchers())} in all)" + (f"; not reached: {', '.join(left)}" if left
                                                                      else ""), err=True)


@main.command()
@click.argument("run_file", type=click.Path(path_type=Path))
@click.option("--month", default=None, metavar="YYYY-MM", help="Month to print (default: the last).")
@click.option("--balance-sheet", "sheet", is_flag=True, help="The balance sheets instead of the flows.")
def accounts(run_file: Path, month, sheet) -> None:
    """Print one month of a closed-economy run's transaction-flow matrix (or balance sheets)."""
    import xarray as xr

    from .economy.report import matrix_table

    if not run_file.exists():
        fail(f"{run_file}: no such file")
    try:
        ds = xr.open_zarr(run_file) if run_file.suffix == ".zarr" else xr.open_dataset(run_file)
    except (OSError, ValueError) as e:
        fail(f"{run_file}: not a run output ({e})")
    try:
        click.echo(matrix_table(ds, month, "balance_sheet" if sheet else "tfm"))
    except ValueError as e:
        fail(f"{run_file}: {e}")


@main.command()
def plan() -> None:
    """Print the order of one monthly step."""
    from .model import PLAN

    for name, what in PLAN:
        click.echo(f"{name:>20}  {what}")


from .sweep.cli import sweep  # noqa: E402

main.add_command(sweep)

from .validation.cli import check_facts  # noqa: E402

main.add_command(check_facts, name="check-facts")

from .explore.cli import explore  # noqa: E402

main.add_command(explore)

from .hindcast.cli import hindcast, hindcast_fit  # noqa: E402

main.add_command(hindcast)
main.add_command(hindcast_fit)


def entry() -> None:
    """The `sim` command: `main`, and on SIGTERM (exit status 143, after every `finally` block has
    removed its temporary) an exit that skips the interpreter's teardown: tearing down numba's
    worker threads after a signal crashed the process now and then (exit -11 instead of 143)."""
    import signal

    try:
        main()
    except SystemExit as e:
        if e.code == 128 + signal.SIGTERM:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(e.code)
        raise


if __name__ == "__main__":
    entry()
