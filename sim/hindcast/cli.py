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


@click.command("hindcast-fit")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--fit-until", "until", type=int, default=2018, show_default=True,
              help="Last year the estimation sees; the years after it are judged.")
@click.option("--param", "params", multiple=True, metavar="NAME[=LO:HI]",
              help="A behavioural assumption to estimate, with its search bounds (repeat; default: "
                   "markup_utilisation_response, expectation_speed, investment_adjustment of [behaviour]).")
@click.option("--design", type=click.IntRange(min=0, max=1024), default=16, show_default=True,
              help="Points of the Sobol design.")
@click.option("--refine", type=click.IntRange(min=0, max=10), default=2, show_default=True,
              help="Rounds of compass search from the best design point.")
@click.option("--fit-seeds", type=Seeds(), default="1000,1001,1002", show_default=True,
              help="Seeds every candidate runs on (common random numbers).")
@click.option("--seeds", type=Seeds(), default="4", show_default=True,
              help="Seeds of the out-of-sample judgement (distinct from --fit-seeds).")
@click.option("--firms", type=click.IntRange(min=100), default=3000, show_default=True,
              help="Simulated firms of every run (the estimation runs each candidate on each fit seed).")
@click.option("--series", default=None, metavar="A,B,...",
              help="Fit and judge these observed series (default: sim.hindcast.fit.FIT_SERIES).")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="Folder of history *.toml files (default: the packaged sim/data/history).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="The estimates as a scenario fragment (.toml) to `extends` after the scenario.")
@overwrite_option
@threads_option
@click.option("--quiet", "-q", is_flag=True, help="No table.")
def hindcast_fit(scenario: Path, until, params, design, refine, fit_seeds, seeds, firms, series, data, out, overwrite,
                 quiet) -> None:
    """Estimate behavioural assumptions of SCENARIO (a history from 2016) on the observed years up to
    --fit-until, then judge the estimates and the defaults on the years after it against the random
    walk and the AR(1) (sim/hindcast/fit.py, docs/history.md)."""
    from .fit import PARAMS, fit, fragment, parse_param

    names = [s.strip() for s in series.split(",") if s.strip()] if series is not None else None
    with exits():
        if out is not None:
            check_fragment(out, overwrite)
        from ..scenario import load_scenario

        sc = load_scenario(scenario, firms=firms)
        plist = [parse_param(p, sc) for p in params] or list(PARAMS)
        if len({p.name for p in plist}) != len(plist):
            from ..scenario import ScenarioError

            raise ScenarioError("--param", None, "a parameter is named twice")
        res = fit(sc, until=until, params=plist, fit_seeds=fit_seeds, judge_seeds=seeds, series=names, data=data,
                  design=design, refine=refine)
        if out is not None:
            cmd = "sim hindcast-fit " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "sim hindcast-fit"
            rel = Path(scenario).resolve()
            try:
                ext = str(rel.relative_to(out.resolve().parent))
            except ValueError:
                ext = str(rel)
            out.write_text(fragment(res, cmd, ext, out.name), encoding="utf-8")
    if not quiet:
        fit_table(res)
        say_written(out)


FRAGMENT_MARK = "# Behavioural parameters estimated on"


def check_fragment(out: Path, overwrite: bool) -> None:
    from ..scenario import ScenarioError

    if out.suffix != ".toml":
        raise ScenarioError("--out", str(out), "the estimates are a scenario fragment: name a .toml file")
    if not out.resolve().parent.is_dir():
        raise ScenarioError("--out", str(out), f"folder {out.parent} does not exist")
    if out.exists() and not overwrite:
        try:
            ours = out.is_file() and out.read_text(encoding="utf-8").startswith(FRAGMENT_MARK)
        except (OSError, UnicodeDecodeError):
            ours = False
        if not ours:
            raise ScenarioError("--out", str(out), "exists and was not written by sim hindcast-fit; choose another "
                                "name or give --overwrite")


def fit_table(res) -> None:
    from rich.console import Console
    from rich.table import Table

    from .page import estimate_rows, judged_rows

    con = Console(width=None if sys.stdout.isatty() else 140)
    e = res.estimate
    tab = Table(title=f"{res.scenario}: estimated on {e.targets.years[0]}-{e.targets.until} (seeds "
                      f"{','.join(map(str, e.seeds))}, {len(e.search.rows)} candidates, {e.seconds:.0f} s)")
    for col in ("parameter", "default", "estimate", "searched in"):
        tab.add_column(col, justify="left" if col == "parameter" else "right")
    for row in estimate_rows(res):
        tab.add_row(*row)
    con.print(tab)
    tab = Table(title=f"judged on {res.judged[0]}-{res.judged[-1]} (seeds {','.join(map(str, res.judge_seeds))}): "
                      f"loss {res.loss_judged_estimates:.3f} with the estimates, {res.loss_judged_defaults:.3f} with "
                      f"the defaults, {res.loss_judged_random_walk:.3f} for the random walk (in sample "
                      f"{e.loss:.3f} and {e.loss_defaults:.3f}); RMSE in pp")
    for col in ("series", "years", "estimates", "defaults", "random walk", "AR(1)"):
        tab.add_column(col, justify="left" if col == "series" else "right")
    for row in judged_rows(res):
        tab.add_row(*row)
    con.print(tab)
