"""Sweeps on batch clusters through dask-jobqueue (issue 22, part 5): `sim sweep --cluster slurm|pbs`.

Slurm is real: the `slurm` fixture runs a single-node Slurm on localhost for the session. As root
on Debian it installs `slurm-wlm` and `munge` if they are missing (apt-get), writes a slurm.conf
in a temporary folder (free ports, its own munge key and socket, no cgroups: nothing of the
machine's own configuration is used or changed), starts munged, slurmctld and slurmd, waits for the
node to be idle, and stops them at the end. Elsewhere the Slurm test is skipped, saying why.
A small sweep (2 scenarios x 2 seeds, 2,000 firms x 6 months) through `--cluster slurm` gives the
store of the local sweep; cancelled with `scancel` while runs are in flight, the driver stops
(exit 1), and run again it runs only what is missing and ends with the same store. PBS has no
server here: its job script is checked, nothing is submitted. Cluster files are checked like
scenario files (exit 2, nothing written).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from .conftest import SCENARIOS
from .test_sweep import assert_same_results, open_store, run_log, sim_cli

SPEC = f"""
name = "cluster"
base = ["{SCENARIOS / 'baseline.toml'}", "{SCENARIOS / 'vat_cut.toml'}"]
seeds = 2
outputs = ["output", "gdp", "credit", "price_index_tax_inclusive"]

[run]
firms = 2000
months = 6
"""
N_RUNS = 4


# ---------------------------------------------------------------------------------------------
# a single-node Slurm on localhost
# ---------------------------------------------------------------------------------------------
SLURM_CONF = """\
ClusterName=simtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={dir}/munge/socket
StateSaveLocation={dir}/ctld
SlurmdSpoolDir={dir}/slurmd
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
InactiveLimit=0
KillWait=2
MinJobAge=5
NodeName={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "scancel", "squeue", "sinfo", "scontrol")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _install() -> float | None:
    """Install slurm-wlm and munge with apt if missing (as root on Debian); seconds taken, None if present."""
    if os.geteuid() != 0:
        pytest.skip("the single-node Slurm is installed (apt-get install slurm-wlm munge) and run as root")
    if all(shutil.which(x) for x in DAEMONS):
        return None
    if not (Path("/etc/debian_version").exists() and shutil.which("apt-get")):
        pytest.skip("Slurm is not installed, and this is not Debian with apt-get to install it")
    t0 = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "slurm-wlm", "munge"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:  # package lists missing or stale (a fresh container)
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True, env=env)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0 or not all(shutil.which(x) for x in DAEMONS):
        pytest.fail(f"apt-get install slurm-wlm munge failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return time.monotonic() - t0


class Slurm:
    """The running single-node Slurm: `env` points Slurm's commands (and `sim sweep`) at it."""

    def __init__(self, folder: Path):
        self.dir = folder
        self.env = {**os.environ, "SLURM_CONF": str(folder / "slurm.conf")}
        self.install_seconds: float | None = None
        self.start_seconds = 0.0

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}\n{self.logs()}")
        return r

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.dir.glob("*.log")))

    def jobs(self) -> list[str]:
        """Jobs queued or running."""
        return self.run("squeue", "-h", "-o", "%i %T").stdout.split("\n")[:-1]

    def start(self) -> None:
        t0 = time.monotonic()
        d = self.dir
        (d / "munge").mkdir(mode=0o700)
        key = d / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        for sub in ("ctld", "slurmd"):
            (d / sub).mkdir()
        host = socket.gethostname().split(".")[0]
        mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        (d / "slurm.conf").write_text(SLURM_CONF.format(
            host=host, dir=d, ctld_port=_free_port(), d_port=_free_port(), memory=min(4096, mem_mb * 3 // 4)))
        self.run("munged", "--force", f"--socket={d}/munge/socket", f"--key-file={key}",
                 f"--log-file={d}/munged.log", f"--pid-file={d}/munge/munged.pid", f"--seed-file={d}/munge/seed")
        self.run("slurmctld")
        self.run("slurmd", "-N", host)
        deadline = time.monotonic() + 30
        while self.run("sinfo", "-h", "-o", "%t", check=False).stdout.strip() != "idle":
            if time.monotonic() > deadline:
                raise RuntimeError("the Slurm node did not become idle in 30 s\n" + self.logs())
            time.sleep(0.2)
        self.start_seconds = time.monotonic() - t0

    def stop(self) -> None:
        """Cancel the jobs and stop the daemons this fixture started (by their pid files)."""
        d = self.dir
        self.run("scancel", "--user", str(os.getuid()), check=False)
        self.run("scontrol", "shutdown", check=False)  # slurmctld and slurmd
        self.run("munged", f"--socket={d}/munge/socket", "--stop", check=False)
        time.sleep(0.5)
        for pidfile in (d / "slurmctld.pid", d / "slurmd.pid", d / "munge" / "munged.pid"):
            try:
                os.kill(int(pidfile.read_text().strip()), 9)
            except (OSError, ValueError):
                pass


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    seconds = _install()
    for x in DAEMONS:
        if not shutil.which(x):
            pytest.skip(f"Slurm's {x} is not on PATH")
    folder = tmp_path_factory.mktemp("slurm")
    folder.chmod(0o755)
    s = Slurm(folder)
    s.install_seconds = seconds
    try:
        s.start()
        yield s
    finally:
        s.stop()


# ---------------------------------------------------------------------------------------------
# the sweep on Slurm equals the local one, and resumes after scancel
# ---------------------------------------------------------------------------------------------
def cluster_file(path: Path, logs: Path, **extra) -> Path:
    keys = {"jobs": 2, "cores": 1, "memory": "1GB", "walltime": "00:10:00", "log_directory": str(logs),
            "wait_timeout": 60.0, **extra}
    import tomli_w

    path.write_text(tomli_w.dumps(keys))
    return path


def test_slurm_sweep_equals_local_and_resumes_after_scancel(slurm, tmp_path):
    t0 = time.monotonic()
    spec = tmp_path / "cluster.toml"
    spec.write_text(SPEC)
    logs = tmp_path / "logs"
    cfg = cluster_file(tmp_path / "slurm.toml", logs)

    local = tmp_path / "local.zarr"
    r = sim_cli("sweep", spec, "--out", local, "--workers", 2)
    assert r.returncode == 0, r.stderr
    t_local = time.monotonic()

    # a job the queue refuses: exit 1 with sbatch's reason, nothing written
    bad = cluster_file(tmp_path / "bad.toml", logs, queue="nosuchpartition")
    r = sim_cli("sweep", spec, "--out", tmp_path / "bad.zarr", "--cluster", "slurm", "--cluster-config", bad,
                env=slurm.env)
    assert r.returncode == 1, r.stderr
    assert "error: --cluster slurm: sbatch refused the job: " in r.stderr and "partition" in r.stderr.lower()
    assert not (tmp_path / "bad.zarr").exists() and slurm.jobs() == []

    # the sweep on two Slurm jobs of one worker each: the local store, value for value
    out = tmp_path / "slurm.zarr"
    r = sim_cli("sweep", spec, "--out", out, "--cluster", "slurm", "--cluster-config", cfg, env=slurm.env)
    assert r.returncode == 0, r.stderr + slurm.logs()
    assert "submitted 2 slurm job(s)" in r.stderr and "4 of 4 runs done, 0 failed" in r.stderr
    assert_same_results(out, local)
    worker_logs = "".join(p.read_text() for p in logs.glob("*.err"))
    said = [line for line in worker_logs.splitlines() if "sim worker" in line]
    assert said and all("1 numba thread(s) per run, numba's pool 1 thread(s)" in line for line in said), worker_logs
    _wait_no_jobs(slurm)  # the jobs were cancelled when the sweep ended
    r = sim_cli("sweep", spec, "--out", out, "--cluster", "slurm", "--cluster-config", cfg, env=slurm.env)
    assert r.returncode == 0 and "4 skipped" in r.stderr and "submitted" not in r.stderr, r.stderr  # no jobs
    t_cluster = time.monotonic()

    # cancelled with scancel while runs are in flight: the driver stops, the store keeps what is done
    resumed = tmp_path / "resumed.zarr"
    hold, log1, log2 = tmp_path / "hold", tmp_path / "log1", tmp_path / "log2"
    hold.write_text("runs after the first wait while this file exists\n")
    env = {**slurm.env, "SIM_SWEEP_TEST_HOLD": str(hold), "SIM_SWEEP_RUN_LOG": str(log1),
           "DASK_DISTRIBUTED__DEPLOY__LOST_WORKER_TIMEOUT": "1s"}
    p = subprocess.Popen([sys.executable, "-m", "sim.cli", "sweep", str(spec), "--out", str(resumed), "--cluster",
                          "slurm", "--cluster-config", str(cfg)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (resumed.exists() and (xr.open_zarr(resumed).status.values == "done").any()):
            assert p.poll() is None and time.monotonic() < deadline, p.communicate()[1] if p.poll() else "timeout"
            time.sleep(0.2)
        assert len(slurm.jobs()) == 2
        slurm.run("scancel", "--name", "sim-sweep")
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 1, err
    assert "error: --cluster slurm: no worker left" in err and "run the same command again to resume" in err
    st = open_store(resumed).status.values.ravel()
    done_before = set(np.flatnonzero(st == "done").tolist())
    assert done_before == {0} and (st[1:] == "").all()

    hold.unlink()
    r = sim_cli("sweep", spec, "--out", resumed, "--cluster", "slurm", "--cluster-config", cfg,
                env={**slurm.env, "SIM_SWEEP_RUN_LOG": str(log2)})
    assert r.returncode == 0, r.stderr
    assert "resuming: 1 runs done are skipped" in r.stderr
    assert sorted(run_log(log2)) == [1, 2, 3]  # only what was missing, each once
    assert_same_results(resumed, local)
    assert_same_results(resumed, out)
    _wait_no_jobs(slurm)
    t_end = time.monotonic()
    print(f"\nslurm: install {slurm.install_seconds or 0:.1f} s (0: already installed), start {slurm.start_seconds:.1f}"
          f" s; local sweep {t_local - t0:.1f} s, refused job + cluster sweep {t_cluster - t_local:.1f} s, "
          f"scancel + resume {t_end - t_cluster:.1f} s")


def _wait_no_jobs(slurm: Slurm, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while slurm.jobs() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [j for j in slurm.jobs() if "COMPLETING" not in j] == []


# ---------------------------------------------------------------------------------------------
# PBS: the job script, without a server
# ---------------------------------------------------------------------------------------------
PBS_FILE = """\
kind = "pbs"
jobs = 3
cores = 8
processes = 4
memory = "16GiB"
walltime = "02:30:00"
queue = "workq"
account = "proj42"
local_directory = "/scratch/tmp"
log_directory = "/home/me/sweep-logs"
job_extra_directives = ["-m abe", "-l place=scatter"]
job_script_prologue = ["module load python/3.11", "source ~/venvs/sim/bin/activate"]
numba_cache_dir = "/shared/numba cache"
python = "/home/me/venvs/sim/bin/python"
"""


def test_pbs_job_script_has_the_configured_keys(tmp_path):
    pytest.importorskip("dask_jobqueue")
    from sim.sweep import cluster as batch

    f = tmp_path / "pbs.toml"
    f.write_text(PBS_FILE)
    cfg = batch.load_config(f, "pbs")
    pbs = batch.make(cfg)  # dask-jobqueue's PBSCluster, its scheduler here; no job submitted
    try:
        script = pbs.job_script()
        assert pbs.workers == {} and type(pbs).__name__ == "PBSCluster"
        address = pbs.scheduler_address
    finally:
        pbs.close()
    lines = script.splitlines()
    for line in ["#PBS -N sim-sweep", "#PBS -q workq", "#PBS -A proj42", "#PBS -l select=1:ncpus=8:mem=16GB",
                 "#PBS -l walltime=02:30:00", "#PBS -e /home/me/sweep-logs/", "#PBS -m abe",
                 "#PBS -l place=scatter", "module load python/3.11", "source ~/venvs/sim/bin/activate",
                 "export SIM_THREADS=1", "export NUMBA_NUM_THREADS=1", "export OMP_NUM_THREADS=1",
                 "export NUMBA_CACHE_DIR='/shared/numba cache'"]:
        assert line in lines, f"{line!r} not in\n{script}"
    # the prologue runs first, then the settings of sim, then the workers
    assert lines.index("source ~/venvs/sim/bin/activate") < lines.index("export NUMBA_NUM_THREADS=1")
    worker = lines[-1].split()
    assert worker[:4] == ["/home/me/venvs/sim/bin/python", "-m", "distributed.cli.dask_worker", address]
    def opt(name: str) -> str:
        return worker[worker.index(name) + 1]

    assert opt("--nthreads") == "2" and opt("--nworkers") == "4" and opt("--memory-limit") == "4.00GiB"
    assert opt("--local-directory") == "/scratch/tmp" and opt("--preload") == "sim.sweep.preload"
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0  # valid shell
    assert script.replace(address, "tcp://SCHEDULER:PORT").replace("--name dummy-name", "--name WORKER-NAME") \
        == batch.job_script(cfg)

    # the command line shows the same script and submits nothing
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    r = sim_cli("sweep", spec, "--dry-run", "--cluster-config", f)
    assert r.returncode == 0, r.stderr
    assert "each of the 3 pbs job(s) runs:" in r.stdout and batch.job_script(cfg) in r.stdout


def test_defaults_and_thread_settings_of_a_slurm_job(tmp_path):
    pytest.importorskip("dask_jobqueue")
    from sim.sweep import cluster as batch

    cfg = batch.load_config(None, "slurm")
    assert (cfg.jobs, cfg.cores, cfg.processes, cfg.walltime) == (1, 1, None, "01:00:00")
    script = batch.job_script(batch.load_config({"cores": 4, "numba_cache_dir": "/c"}, "slurm"))
    for line in ["#SBATCH -J sim-sweep", "#SBATCH -n 1", "#SBATCH --cpus-per-task=4", "#SBATCH --mem=8G",
                 "#SBATCH -t 01:00:00", "export NUMBA_NUM_THREADS=1", "export SIM_THREADS=1",
                 "export NUMBA_CACHE_DIR=/c"]:
        assert line in script.splitlines(), script
    assert f"{sys.executable} -m distributed.cli.dask_worker" in script and "--nworkers 4" in script
    assert "--nthreads 1 " in script


# ---------------------------------------------------------------------------------------------
# bad cluster files and arguments: one line naming the file and the key, exit 2, nothing written
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body,key,msg", [
    ("jobs = 2.0", "jobs", "valid integer"),
    ("jobs = true", "jobs", "valid integer"),
    ("jobs = 0", "jobs", "greater than or equal to 1"),
    ('cores = "4"', "cores", "valid integer"),
    ("cores = 4\nprocesses = 3", "processes", "must divide cores = 4"),
    ('memory = "lots"', "memory", "amount of memory"),
    ('walltime = "2h"', "walltime", "HH:MM:SS"),
    ('walltime = "1-00:00:00"', "walltime", "PBS takes HH:MM:SS"),
    ('queue = ""', "queue", "at least 1 character"),
    ('account = "a b"', "account", "pattern"),
    ('job_extra_directives = "--qos=long"', "job_extra_directives", "valid list"),
    ('job_script_prologue = ["ok", ""]', "job_script_prologue", "non-empty line"),
    ('python = "/my python/bin/python"', "python", "without spaces"),
    ('kind = "lsf"', "kind", "'slurm' or 'pbs'"),
    ('kind = "pbs"', "kind", "this file is for pbs, but the cluster asked for is slurm"),
    ("wait_timeout = 0", "wait_timeout", "greater than 0"),
    ("nodes = 4", "nodes", "unknown key"),
    ("jobs = [", None, "not valid TOML"),
])
def test_bad_cluster_files_exit_2(tmp_path, body, key, msg):
    from click.testing import CliRunner

    from sim.cli import main

    spec, f, out = tmp_path / "s.toml", tmp_path / "c.toml", tmp_path / "o.zarr"
    spec.write_text(SPEC)
    f.write_text(body + "\n")
    kind = "pbs" if "1-00" in body else "slurm"
    r = CliRunner().invoke(main, ["sweep", str(spec), "--out", str(out), "--cluster", kind,
                                  "--cluster-config", str(f)])
    assert r.exit_code == 2, r.output
    line = r.output.strip()
    assert line.startswith(f"error: {f}: {key + ': ' if key else ''}") and msg in line and "\n" not in line, line
    assert sorted(tmp_path.iterdir()) == sorted([spec, f])  # nothing written


def test_bad_cluster_arguments(tmp_path):
    from click.testing import CliRunner

    from sim.cli import main

    spec, out = tmp_path / "s.toml", tmp_path / "o.zarr"
    spec.write_text(SPEC)
    for extra in (["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:1"]):
        r = CliRunner().invoke(main, ["sweep", str(spec), "--out", str(out), "--cluster", "slurm", *extra])
        assert r.exit_code == 2 and "--cluster and --workers/--scheduler: give one" in r.output
    r = CliRunner().invoke(main, ["sweep", str(spec), "--out", str(out), "--cluster-config", str(tmp_path / "no.toml")])
    assert r.exit_code == 2 and "no.toml: file not found" in r.output
    nokind = tmp_path / "c.toml"
    nokind.write_text("jobs = 2\n")
    r = CliRunner().invoke(main, ["sweep", str(spec), "--out", str(out), "--cluster-config", str(nokind)])
    assert r.exit_code == 2 and "kind: say which batch system" in r.output
    assert not out.exists()
    # the API checks the same way
    import sim
    from sim.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="jobs: Input should be a valid integer"):
        sim.sweep(spec, out, cluster="slurm", cluster_config={"jobs": "2"})
    with pytest.raises(ScenarioError, match="not two"):
        sim.sweep(spec, out, cluster="pbs", workers=2)
    assert not out.exists()


def test_no_sbatch_exits_1_and_writes_nothing(tmp_path):
    """Where Slurm's commands are not on PATH (not a login node): exit 1, nothing written."""
    pytest.importorskip("dask_jobqueue")
    spec, out = tmp_path / "s.toml", tmp_path / "o.zarr"
    spec.write_text(SPEC)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    r = sim_cli("sweep", spec, "--out", out, "--cluster", "slurm", env={"PATH": str(bindir)})
    assert r.returncode == 1, r.stderr
    assert "error: --cluster slurm: sbatch not found" in r.stderr and not out.exists()
