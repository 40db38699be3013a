"""`sim hindcast SCENARIO.toml`: run a scenario over seeds up to the last observed year and score
it against the observed series of sim/data/history (docs/history.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..clicommon import Seeds, check_outputs, exits, overwrite_option, say_written, threads_option


@click.command("hindcast")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--seeds", type=Seeds(), default="4", show_default=True,
              help="A count N (seeds 0..N-1) or a list such as 0,3,7.")
@click.option("--firms", type=click.IntRange(min=100), default=None,
              help="Simulated firms (default: the scenario's).")
@click.option("--series", default=None, metavar="A,B,...",
              help="Score only these observed series (default: every series the model maps onto).")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="Folder of history *.toml files (default: the packaged sim/data/history).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Scores Dataset: .nc or .zarr.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), default=None,
              help="Figure, one row of panels per group of series (.png, .pdf or .svg).")
@overwrite_option
@threads_option
@click.option("--quiet", "-q", is_flag=True, help="No table.")
def hindcast(scenario: Path, seeds, firms, series, data, out, plot_path, overwrite, quiet) -> None:
    """Run SCENARIO over seeds from its start to the last observed year and score each observed
    series: the seeds' band, RMSE and MAE, the sign of each year's change, and the random-walk and
    AR(1) benchmarks on the same years."""
    from ..api import write
    from .core import hindcast as run_hindcast

    names = [s.strip() for s in series.split(",") if s.strip()] if series is not None else None
    with exits():
        check_outputs({"hindcast": out}, overwrite, figures=(plot_path,))
        ds = run_hindcast(scenario, seeds, firms=firms, series=names, data=data)
        if out is not None:
            write(ds, out, overwrite=overwrite)
        if plot_path is not None:
            from .figure import plot

            plot(ds, plot_path, overwrite=overwrite)
    if not quiet:
        table(ds)
        say_written(out, plot_path)


def table(ds) -> None:
    from rich.console import Console
    from rich.table import Table

    from .page import SCORE_HEADER, score_rows

    con = Console(width=None if sys.stdout.isatty() else 140)
    tab = Table(title=f"{ds.attrs['scenario']} against history: scored years (not calibrated), errors in "
                      f"percentage points; seeds {ds.attrs['seeds']}")
    for col in SCORE_HEADER:
        tab.add_column(col, justify="left" if col == "series" else "right")
    for row in score_rows(ds):
        tab.add_row(*row)
    con.print(tab)
