"""What every subcommand shares: one-line error exits and output-path checks (sim.outpaths).

Bad input ends in one line on stderr, `error: FILE: KEY: message`, and exit code 2; a fault of the
machine (no permission, a full disk, no scheduler) in exit code 1; never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from .outpaths import OutputError, check, distinct
from .scenario import ScenarioError


def fail(msg: str, code: int = 2) -> NoReturn:
    click.echo(f"error: {msg}", err=True)
    sys.exit(code)


@contextmanager
def exits() -> Iterator[None]:
    """Turn a ScenarioError (bad input, exit 2) or an OutputError (its own code) into one line."""
    try:
        yield
    except OutputError as e:
        fail(str(e), e.code)
    except ScenarioError as e:
        fail(str(e), 2)


def check_outputs(kinds: dict[str, Path | None], overwrite: bool, figures: tuple[Path | None, ...] = ()) -> None:
    """Check every output of a command before any work starts: distinct paths, each usable for its
    kind ({kind: path}); `figures` are paths of figures of the first kind."""
    from .outpaths import FIGURE_SUFFIXES

    distinct(*kinds.values(), *figures)
    for kind, path in kinds.items():
        check(path, kind, overwrite=overwrite)
    first = next(iter(kinds))
    for fig in figures:
        check(fig, first, overwrite=overwrite, suffixes=FIGURE_SUFFIXES)


overwrite_option = click.option(
    "--overwrite", is_flag=True,
    help="Replace an existing output path even if it is not an output of this command (a folder, another "
         "program's file, a sweep store).")


def _apply_threads(ctx, param, value):  # noqa: ARG001
    if value is not None:  # an explicit request for every run of this command (sim.threads.choose)
        import os

        from .threads import ENV

        os.environ[ENV] = str(value)
    return value


threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=None, expose_value=False, callback=_apply_threads,
    help="Threads for the kernels (default: $SIM_THREADS, else the cores given to this process that are idle "
         "when a run starts; never more than the cores given).")


def workers_options(fn):
    """--workers N / --scheduler ADDRESS: run the command's runs on Dask workers, as sweeps do."""
    fn = click.option("--scheduler", default=None, metavar="ADDRESS",
                      help="Run on a Dask scheduler's workers, e.g. tcp://10.0.0.5:8786.")(fn)
    return click.option("--workers", type=click.IntRange(min=1), default=None,
                        help="Run on N local worker processes (one thread each); same results as serial.")(fn)


def check_workers(workers: int | None, scheduler: str | None) -> None:
    if workers is not None and scheduler:
        fail("--workers and --scheduler: give one (workers belong to the scheduler's cluster)")
    if scheduler:
        from .sweep.runner import check_address

        try:
            check_address(scheduler)
        except ValueError as e:
            fail(f"--scheduler {scheduler}: {e}")


class Seeds(click.ParamType):
    """`--seeds N` (seeds 0..N-1) or `--seeds 0,3,7` (those seeds)."""

    name = "N|LIST"

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        text = str(value).strip()
        try:
            if "," not in text:
                n = int(text)
                if not 1 <= n <= 10_000:
                    raise ValueError
                return list(range(n))
            seeds = [int(x) for x in text.split(",") if x.strip()]
        except ValueError:
            self.fail(f"{value!r} is not a count (1-10000) or a list of seeds such as 0,3,7", param, ctx)
        if not seeds or any(x < 0 for x in seeds) or len(set(seeds)) != len(seeds):
            self.fail(f"{value!r}: seeds must be distinct integers >= 0", param, ctx)
        return seeds


banks_option = click.option("--banks", type=click.IntRange(min=1, max=100_000), default=None,
                            help="Number of simulated banks (overrides [run] banks; by default as many as keep "
                                 "the 1:1 ratio of firms to banks: 4000 banks at 378,000 firms).")


def say_written(*paths: Path | None) -> None:
    """`wrote PATH` on stderr for each output given."""
    for p in paths:
        if p is not None:
            click.echo(f"wrote {p}", err=True)
