"""Sweeps on a batch cluster: `sim sweep SPEC --out DIR --cluster slurm|pbs [--cluster-config FILE]`.

The driver (the `sim sweep` process, on a login node or in a job of its own) starts a Dask
scheduler, submits `jobs` batch jobs through dask-jobqueue (SLURMCluster, PBSCluster), each
running `processes` Dask workers, runs the sweep on them and cancels the jobs at the end, on an
error and on Ctrl-C. The cluster file is TOML checked like a scenario file (strict types, unknown
keys refused, one `error: FILE: KEY: message`, exit 2, nothing written); every key has a default,
so the file is optional. `python -m sim.sweep.cluster > docs/cluster-reference.md` renders the keys.

Each job's script exports, before its workers start (so numba reads them when it loads):
SIM_THREADS=1 and NUMBA_NUM_THREADS=1 (one numba thread per run; `sim.threads.worker_env`), one
OpenMP/BLAS thread, NUMBA_CACHE_DIR (the `numba_cache_dir` key, else the driver's own
$NUMBA_CACHE_DIR if set), and the nanny's spawn environment of local sweeps; every worker loads
the preload `sim.sweep.preload`, which logs its thread count in the job's log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from ..scenario import ScenarioError
from ..scenario.load import read_toml
from .spec import Strict, file_error

KINDS = ("slurm", "pbs")
PRELOAD = "sim.sweep.preload"
JOB_NAME = "sim-sweep"
_WALLTIME = re.compile(r"^(\d+-)?\d+:[0-5]\d:[0-5]\d$")


class ClusterConfig(Strict):
    """The keys of a cluster file (`--cluster-config FILE`); each has a default."""

    kind: Literal["slurm", "pbs"] | None = Field(
        None, description="The batch system. Default: `--cluster` (given both, they must agree).")
    jobs: int = Field(1, ge=1, le=10_000, description="Batch jobs to submit; each runs `processes` workers.")
    cores: int = Field(1, ge=1, le=4096, description="Cores asked for by each job (Slurm `--cpus-per-task`, "
                       "PBS `ncpus`).")
    processes: int | None = Field(
        None, ge=1, le=4096, description="Dask worker processes per job, a divisor of `cores`; each has "
        "cores/processes threads, and each run one numba thread. Default: `cores` (single-threaded workers).")
    memory: str | None = Field(
        None, min_length=1, description="Memory asked for by each job, e.g. \"8GB\" or \"16GiB\"; a worker "
        "may use memory/processes. Default: 2 GiB per core.")
    walltime: str = Field("01:00:00", description="Time limit of each job, HH:MM:SS (Slurm also D-HH:MM:SS). "
                          "A sweep that outlives its jobs stops; run it again to resume.")
    queue: str | None = Field(None, min_length=1, pattern=r"^\S+$", description="Partition (Slurm `-p`) or "
                              "queue (PBS `-q`). Default: the site's default.")
    account: str | None = Field(None, min_length=1, pattern=r"^\S+$", description="Account charged (`-A`). "
                                "Default: none given.")
    local_directory: str | None = Field(
        None, min_length=1, description="Workers' scratch folder on the node (fast local disk). Default: "
        "Dask's (the node's temporary folder).")
    log_directory: str | None = Field(
        None, min_length=1, description="Folder for the jobs' output and error files, which hold the "
        "workers' logs. Default: the batch system's (Slurm: the folder `sim sweep` runs in).")
    job_extra_directives: list[str] = Field(
        [], description="More lines for the job script's header, without the prefix: [\"--qos=long\"] "
        "gives `#SBATCH --qos=long`.")
    job_script_prologue: list[str] = Field(
        [], description="Shell lines run before the workers start, e.g. [\"module load python\", "
        "\"source ~/venvs/sim/bin/activate\"]; the thread and cache settings are exported after them.")
    python: str | None = Field(
        None, min_length=1, description="The Python that runs the workers on the nodes (with the same "
        "`sim` installed). Default: the Python running `sim sweep`.")
    numba_cache_dir: str | None = Field(
        None, min_length=1, description="NUMBA_CACHE_DIR for the workers: one folder they can all write, "
        "filled ahead by `sim warmup`. Default: the driver's $NUMBA_CACHE_DIR if set, else numba's "
        "(next to the installed sources).")
    interface: str | None = Field(
        None, min_length=1, pattern=r"^\S+$", description="Network interface for the scheduler and the "
        "workers, e.g. \"ib0\". Default: Dask's choice.")
    wait_timeout: float = Field(
        600.0, gt=0, le=7 * 86400, description="Seconds to wait for the first worker (jobs queued), and "
        "with no worker left before the sweep stops (exit 1; the runs done are kept).")

    @field_validator("processes")
    @classmethod
    def _divides_cores(cls, v: int | None, info: ValidationInfo) -> int | None:
        cores = info.data.get("cores")
        if v is not None and cores is not None and cores % v:
            raise ValueError(f"must divide cores = {cores}")
        return v

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str | None) -> str | None:
        from dask.utils import parse_bytes

        if v is None:
            return v
        try:
            n = parse_bytes(v)
        except (ValueError, TypeError):
            n = 0
        if n < 2**27:
            raise ValueError("not an amount of memory of at least 128 MiB; write e.g. \"8GB\"")
        return v

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, v: str) -> str:
        if not _WALLTIME.match(v):
            raise ValueError("write the time limit as HH:MM:SS, e.g. \"04:00:00\"")
        return v

    @field_validator("job_extra_directives", "job_script_prologue")
    @classmethod
    def _lines(cls, v: list[str]) -> list[str]:
        for i, line in enumerate(v):
            if not line.strip() or "\n" in line or "\r" in line:
                raise ValueError(f"item {i}: one non-empty line each (got {line!r})")
        return v

    @field_validator("local_directory", "log_directory", "python")
    @classmethod
    def _no_space(cls, v: str | None) -> str | None:
        if v is not None and re.search(r"\s", v):
            raise ValueError("a path without spaces (it goes into the job script unquoted)")
        return v

    @field_validator("numba_cache_dir")
    @classmethod
    def _one_line(cls, v: str | None) -> str | None:
        if v is not None and ("\n" in v or "\r" in v):
            raise ValueError("one line only")
        return v


class ClusterError(OSError):
    """The batch cluster gave no workers (a job refused, none started in time) or lost them all."""


def load_config(config: str | Path | dict[str, Any] | ClusterConfig | None, kind: str | None) -> ClusterConfig:
    """The cluster configuration from a file, a dict or nothing (the defaults), for `kind` (slurm, pbs;
    None: the file's `kind`); raises ScenarioError naming the file and the key."""
    if isinstance(config, ClusterConfig):
        cfg, where = config, "<cluster config>"
    else:
        if config is None:
            raw, where = {}, "<arguments>"
        elif isinstance(config, dict):
            raw, where = config, "<dict>"
        else:
            where = str(config)
            raw = read_toml(Path(config))[1]
        try:
            cfg = ClusterConfig.model_validate(raw)
        except ValidationError as e:
            raise file_error(where, e) from None
    if kind is not None and kind not in KINDS:
        raise ScenarioError("<arguments>", "cluster", f"{kind!r} is not a batch system sim knows (use one of "
                            f"{', '.join(KINDS)})")
    if kind and cfg.kind and kind != cfg.kind:
        raise ScenarioError(where, "kind", f"this file is for {cfg.kind}, but the cluster asked for is {kind}")
    kind = kind or cfg.kind
    if kind is None:
        raise ScenarioError(where, "kind", "say which batch system: slurm or pbs (or pass --cluster)")
    if kind == "pbs" and "-" in cfg.walltime:
        raise ScenarioError(where, "walltime", f"PBS takes HH:MM:SS (got {cfg.walltime!r})")
    return cfg.model_copy(update={"kind": kind})


def worker_exports(cfg: ClusterConfig) -> list[str]:
    """The job script's lines that set the workers' environment before they start."""
    from ..threads import worker_env
    from .runner import NANNY_PRE_SPAWN_ENV

    env = worker_env(1)
    cache = cfg.numba_cache_dir or os.environ.get("NUMBA_CACHE_DIR")
    if cache:
        env["NUMBA_CACHE_DIR"] = cache
    # the nanny's spawn environment of local sweeps (dask reads it from DASK_* variables)
    spawn = {**NANNY_PRE_SPAWN_ENV, **worker_env(1)}  # (a Python literal: None unsets a variable)
    env["DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON"] = json.dumps(spawn).replace("null", "None")
    return [f"export {k}={shlex.quote(v)}" for k, v in env.items()]


def job_kwargs(cfg: ClusterConfig) -> dict[str, Any]:
    """dask-jobqueue's keywords for the cluster of `cfg` (SLURMCluster or PBSCluster)."""
    return {
        "cores": cfg.cores, "processes": cfg.processes or cfg.cores,
        "memory": cfg.memory or f"{2 * cfg.cores}GiB", "walltime": cfg.walltime,
        "queue": cfg.queue, "account": cfg.account, "local_directory": cfg.local_directory,
        "log_directory": cfg.log_directory, "job_extra_directives": list(cfg.job_extra_directives),
        "job_script_prologue": [*cfg.job_script_prologue, *worker_exports(cfg)],
        "python": cfg.python or sys.executable, "interface": cfg.interface, "job_name": JOB_NAME,
        "worker_extra_args": ["--preload", PRELOAD],
    }


def _classes(kind: str) -> Any:
    import signal

    try:
        import dask_jobqueue
    except ImportError:
        raise ClusterError("dask-jobqueue is not installed: pip install 'sim[cluster]' (or dask-jobqueue)") from None
    # dask-jobqueue 0.9.0 makes SIGINT call sys.exit() when imported (dask/dask-jobqueue#696, fixed after
    # 0.9.0 by #697): Ctrl-C then ended `sim sweep` with exit 0 and no message. Python's own handler back:
    handler = signal.getsignal(signal.SIGINT)
    if getattr(handler, "__module__", "") == "dask_jobqueue.runner" and threading.current_thread() is \
            threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[kind]


def job_script(cfg: ClusterConfig, scheduler: str = "tcp://SCHEDULER:PORT") -> str:
    """The script each job runs (`sim sweep --dry-run --cluster ...` prints it); no scheduler, nothing submitted."""
    kw = job_kwargs(cfg)
    return _classes(cfg.kind).job_cls(scheduler, name="WORKER-NAME", **kw).job_script()


def make(cfg: ClusterConfig) -> Any:
    """The dask-jobqueue cluster (its scheduler started here, in the driver; no job submitted yet)."""
    cls = _classes(cfg.kind)
    return cls(**job_kwargs(cfg), scheduler_options={"dashboard_address": ":0"}, silence_logs=logging.ERROR)


def _submit_error(e: BaseException, kind: str) -> str:
    text = str(e)
    err = text.split("stderr:", 1)[-1].strip() if "stderr:" in text else text.strip()
    cmd = "sbatch" if kind == "slurm" else "qsub"
    if isinstance(e, FileNotFoundError):
        return f"{cmd} not found: run on a {kind} login node (where `{cmd}` submits jobs)"
    return f"{cmd} refused the job: {err.splitlines()[-1] if err else text}"


def start(cfg: ClusterConfig, say) -> tuple[Any, Any, Watch]:
    """Start the scheduler, submit the jobs, wait for a first worker; returns (client, cluster, watch).
    Raises ClusterError if a job is refused or no worker joins within `wait_timeout` (jobs cancelled)."""
    from distributed import Client

    cluster = make(cfg)
    client = None
    try:
        client = Client(cluster)

        async def submit() -> None:
            # as cluster.scale(jobs=N), which submits in the background and only logs a refusal: here the
            # submission is awaited on the cluster's event loop, so that a refused job is an error
            while len(cluster.worker_spec) < cfg.jobs:
                cluster.worker_spec.update(cluster.new_worker_spec())
            try:
                await cluster._correct_state()
            except BaseException:  # the jobs never submitted are failed (else closing fails), the others cancelled
                from distributed.core import Status

                for name, job in list(cluster.workers.items()):
                    if getattr(job, "job_id", None) is None:
                        job.status = Status.failed
                        del cluster.workers[name]
                        cluster.worker_spec.pop(name, None)
                raise

        try:
            cluster.sync(submit)
        except (RuntimeError, OSError) as e:
            raise ClusterError(_submit_error(e, cfg.kind)) from None
        ids = [str(getattr(j, "job_id", "?")) for j in cluster.workers.values()]
        n = cfg.jobs * (cfg.processes or cfg.cores)
        say(f"submitted {cfg.jobs} {cfg.kind} job(s) ({', '.join(ids)}) for {n} worker(s); waiting for them "
            f"(up to {cfg.wait_timeout:g} s for the first)")
        watch = Watch(client, cluster, cfg, ids)
        watch.wait_first()
        return client, cluster, watch
    except BaseException:
        close(client, cluster)
        raise


def close(client: Any, cluster: Any) -> None:
    """Close the client and the cluster (which cancels the jobs still queued or running)."""
    for obj in (client, cluster):
        if obj is not None:
            try:
                obj.close()
            except Exception:  # noqa: BLE001, S110 - closing after an error: the first error is the one to report
                pass


class Watch:
    """Called while the driver waits for results (every runner.WAIT_SECONDS): raises ClusterError when
    the sweep has no worker left and none is coming (the jobs ended: cancelled, failed, out of
    walltime) or none came back within `wait_timeout`."""

    def __init__(self, client: Any, cluster: Any, cfg: ClusterConfig, ids: list[str]):
        self.client, self.cluster, self.cfg, self.ids = client, cluster, cfg, ids
        self.seen = time.monotonic()

    def _where(self) -> str:
        logs = f" and the jobs' logs in {self.cfg.log_directory}" if self.cfg.log_directory else ""
        cmd = "squeue" if self.cfg.kind == "slurm" else "qstat"
        return f"`{cmd}`{logs}"

    def wait_first(self) -> None:
        t0 = time.monotonic()
        while not self.client.nthreads():
            if time.monotonic() - t0 > self.cfg.wait_timeout:
                raise ClusterError(f"no worker joined in {self.cfg.wait_timeout:g} s (wait_timeout): jobs "
                                   f"{', '.join(self.ids)} are still queued or failed to start (see "
                                   f"{self._where()}); nothing was run, and the jobs are cancelled")
            time.sleep(0.25)
        self.seen = time.monotonic()

    def __call__(self) -> None:
        now = time.monotonic()
        if self.client.nthreads():
            self.seen = now
            return
        # dask-jobqueue forgets a job once its workers have left (after distributed.deploy.lost-worker-timeout)
        if not self.cluster.workers or now - self.seen > self.cfg.wait_timeout:
            raise ClusterError(f"no worker left: the {self.cfg.kind} jobs ended (cancelled, failed or out of "
                               f"walltime; see {self._where()}); the runs written so far are kept: run the same "
                               "command again to resume")


def render() -> str:
    """The cluster file's keys as Markdown (docs/cluster-reference.md)."""
    from ..scenario.reference import _bounds

    def allowed(f: Any) -> str:
        ann = str(f.annotation)
        if "Literal" in ann:
            return " or ".join(f'`"{k}"`' for k in KINDS)
        kind = "a list of strings" if "list" in ann else "a string" if "str" in ann else "a number"
        return ", ".join(x for x in (kind, _bounds(f)) if x)

    rows = ["| key | default | allowed | description |", "|---|---|---|---|"]
    for name, f in ClusterConfig.model_fields.items():
        default = "(see description)" if f.default is None else f"`{f.default!r}`".replace("'", '"')
        rows.append(f"| `{name}` | {default} | {allowed(f)} | {f.description} |")
    return "\n".join([
        "# Cluster file reference",
        "",
        "Generated from `sim/sweep/cluster.py` by `python -m sim.sweep.cluster > docs/cluster-reference.md`;",
        "do not edit by hand. How to run a sweep on Slurm or PBS: [sweeps.md](sweeps.md#on-a-batch-cluster-slurm-pbs).",
        "",
        "`sim sweep SPEC --out OUT.zarr --cluster slurm --cluster-config cluster.toml` reads these keys from a",
        "TOML file; each is optional. Types are strict (`jobs = 2.0` and `jobs = \"2\"` are errors) and",
        "unknown keys are refused; an error names the file and the key and exits 2 before anything is",
        "submitted or written.",
        "",
        *rows,
        "",
    ])


if __name__ == "__main__":
    print(render(), end="")
