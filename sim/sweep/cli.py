"""`sim sweep SWEEP.toml --out PATH.zarr [--workers N | --scheduler ADDRESS | --cluster slurm|pbs
[--cluster-config FILE]] [--overwrite] [--quiet]`.

Everything that can be checked before a run is checked before anything is written: the sweep
file, the cluster file, the --out folder (exit 2 if missing, 1 if not writable), a store already at
--out (exit 2 unless it is this sweep's, or --overwrite), the scheduler address (exit 2 if
malformed, 1 if unreachable: the connection is made before the store is created), the batch jobs
(exit 1 if refused or if no worker joins: they are submitted before the store is created).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..clicommon import check_workers
from ..clicommon import fail as _fail


@click.command()
@click.argument("sweep_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None, help="The Zarr store (PATH.zarr); "
              "re-running the same command resumes it. Required unless --dry-run.")
@click.option("--dry-run", is_flag=True, help="Print the design and its size, run nothing, write nothing.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: one per core).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Use a running Dask scheduler, e.g. tcp://10.0.0.5:8786, instead of local processes.")
@click.option("--cluster", type=click.Choice(["slurm", "pbs"]), default=None,
              help="Submit batch jobs of workers (dask-jobqueue) to Slurm or PBS; cancelled at the end.")
@click.option("--cluster-config", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="The jobs: jobs, cores, memory, walltime, queue, account... (TOML; docs/cluster-reference.md).")
@click.option("--overwrite", is_flag=True, help="Replace what is at --out if it is not this sweep's store "
              "(this sweep's own store is resumed).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
def sweep(sweep_file: Path, out: Path | None, dry_run, workers, scheduler, cluster, cluster_config, overwrite,
          quiet) -> None:
    """Run every point of SWEEP_FILE into one Zarr store, skipping runs already done."""
    from ..scenario import ScenarioError
    from .spec import load_sweep

    cfg = _cluster_config(cluster, cluster_config, workers, scheduler)
    if dry_run:
        try:
            click.echo(describe(load_sweep(sweep_file)))
        except ScenarioError as e:
            _fail(str(e))
        if cfg is not None:
            from .cluster import ClusterError, job_script

            try:
                click.echo(f"each of the {cfg.jobs} {cfg.kind} job(s) runs:\n{job_script(cfg)}")
            except ClusterError as e:
                _fail(str(e), 1)
        return
    if out is None:
        _fail("--out PATH.zarr is required (or --dry-run to see the design)")
    if out.suffix.lower() != ".zarr":
        _fail(f"{out}: the sweep store must end in .zarr")
    folder = out.resolve().parent
    if not folder.is_dir():
        _fail(f"{out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):  # the lock file and a new store go there
        _fail(f"{out}: folder {folder} is not writable", 1)
    check_workers(workers, scheduler)
    try:
        sw = load_sweep(sweep_file)
    except ScenarioError as e:
        _fail(str(e))
    from . import store
    from .cluster import ClusterError
    from .runner import SchedulerError, run_sweep

    if (out.exists() or out.is_symlink()) and not overwrite:
        try:  # (checked again under the store's lock; this is to fail before connecting)
            store.open_for(sw, out)
        except ScenarioError as e:
            _fail(str(e))
    show = not quiet and sys.stderr.isatty()
    dims = ", ".join(f"{d} {n}" for d, n in zip(sw.lead_dims, sw.lead_shape, strict=True))
    where = (f"scheduler {scheduler}" if scheduler else f"{cfg.kind} jobs" if cfg is not None
             else f"{workers} local worker(s)" if workers else "local workers (one per core)")

    def on_open(n_done: int, n_failed: int) -> None:
        if quiet:
            return
        if n_done or n_failed:
            click.echo(f"resuming: {n_done} runs done are skipped"
                       + (f", {n_failed} failed runs are retried" if n_failed else ""), err=True)
        if n_done < sw.n_runs:
            click.echo(f"on {where}", err=True)

    if not quiet:
        click.echo(f"sweep {sw.name}: {sw.n_runs} runs ({dims}); {sw.bases[0].run.firms} firms, "
                   f"{sw.bases[0].run.months} months; {len(sw.outputs)} outputs -> {out}", err=True)
    kw = dict(workers=workers, scheduler=scheduler, overwrite=overwrite, cluster_config=cfg,
              notify=lambda msg: click.echo(msg, err=True))
    try:
        if show:
            summ = _with_progress(sw, out, on_open, **kw)
        else:
            summ = run_sweep(sw, out, quiet=quiet, on_open=on_open, **kw)
    except ScenarioError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail(f"interrupted; the runs written so far are kept in {out}: re-run the same command to resume",
              130)
    except SchedulerError as e:
        _fail(f"--scheduler {scheduler}: {e}", 1)
    except ClusterError as e:
        _fail(f"--cluster {cfg.kind}: {e}", 1)
    except OSError as e:  # the disk: full, read-only, removed meanwhile
        _fail(f"{out}: {e}", 1)
    g = store.open_for(sw, out)
    n_done, n_failed, n = store.status_counts(g)
    if not quiet:
        rate = (summ.done + summ.failed) / summ.wall if summ.wall > 0 else 0.0
        click.echo(f"{n_done} of {n} runs done, {n_failed} failed; this invocation: {summ.done} done, "
                   f"{summ.failed} failed, {summ.skipped} skipped, {summ.wall:.1f} s wall "
                   f"({rate:.2f} runs/s, {summ.startup:.1f} s starting workers, "
                   f"{summ.run_seconds:.1f} s inside runs)", err=True)
    if n_failed:
        _fail(f"{out}: {n_failed} runs failed; their messages are in the store's `error` variable "
              "(re-running the command retries them)", 1)


def _cluster_config(cluster, path, workers, scheduler):
    """The checked cluster configuration of --cluster/--cluster-config (None without them); exit 2 if bad."""
    from ..scenario import ScenarioError

    if cluster is None and path is None:
        return None
    if workers is not None or scheduler:
        _fail("--cluster and --workers/--scheduler: give one (the batch jobs are the workers)")
    from .cluster import load_config

    try:
        return load_config(path, cluster)
    except ScenarioError as e:
        _fail(str(e))


def _with_progress(sw, out, on_open, **kw):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.text import Text

    from .runner import run_sweep

    class Rate(TextColumn):
        def __init__(self):
            super().__init__("")

        def render(self, task):
            return Text(f"{task.speed or 0:.2f} runs/s")

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("[red]{task.fields[failed]} failed"), Rate(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("starting workers", total=None, failed=0)

        def opened(n_done, n_failed):
            on_open(n_done, n_failed)
            bar.update(task, total=sw.n_runs - n_done)

        def progress(done, failed, n):
            bar.update(task, completed=done + failed, failed=failed, description="runs")

        summ = run_sweep(sw, out, progress=progress, quiet=True, on_open=opened, **kw)
    return summ


def describe(sw) -> str:
    """The design of a sweep as text: dimensions, values, seeds, runs, outputs and the store's size."""
    from ..banking import bank_count
    from ..records import SIZE_CLASSES, VARIABLES
    from ..scenario.schema import SECTORS

    lines = [f"sweep {sw.name} ({sw.path}): {sw.n_runs} runs = "
             + " x ".join(f"{n} {d}" for d, n in zip(sw.lead_dims, sw.lead_shape, strict=True))]
    base = sw.bases[0].run
    lines.append(f"  each run: {base.firms} firms, {base.months} months from {base.start}, "
                 f"{bank_count(sw.bases[0])} banks")
    if sw.multi_scenario:
        lines.append("  scenarios: " + ", ".join(sc.name for sc in sw.bases))
    for a in sw.axes:
        keys = ", ".join(".".join(k) for k in a.keys)
        lines.append(f"  {a.name} ({keys}): {', '.join(map(str, a.values.tolist()))}")
    for j, p in enumerate(sw.params):
        keys = ", ".join(".".join(k) for k in p.keys)
        col = sw.design[:, j]
        lines.append(f"  {p.name} ({keys}): {sw.design.shape[0]} sampled values in [{p.values[0]:g}, {p.values[1]:g}]"
                     f" (drawn {col.min():.4g} to {col.max():.4g})")
    if sw.params:
        lines.append(f"  design: {sw.design_attrs()['method']}")
    lines.append(f"  seeds: {', '.join(map(str, sw.seeds.tolist()))}")
    months = base.months
    cells = 0
    for v in sw.outputs:
        per = months if "time" in VARIABLES[v][0] else 1
        per *= len(SECTORS) if "sector" in VARIABLES[v][0] else 1
        per *= len(SIZE_CLASSES) if "size_class" in VARIABLES[v][0] else 1
        cells += per
    mb = sw.n_runs * cells * 8 / 1e6
    lines.append(f"  outputs ({len(sw.outputs)}): {', '.join(sw.outputs)}")
    lines.append(f"  store: about {mb:,.1f} MB uncompressed")
    return "\n".join(lines)
