"""Output paths: checked before any work starts, written under a temporary name, renamed when complete.

The rules every command follows (README, "Outputs"):

- An output's suffix says its format (`.nc`, `.zarr`; `.png`, `.pdf`, `.svg` for figures) and its
  folder must exist and be writable; both are checked before a simulation starts.
- An existing path is replaced only if it is an output of the same kind that `sim` wrote (a run's
  Dataset over a run's Dataset, a comparison over a comparison; the kind is the `sim_output`
  attribute, or the figure's metadata); anything else (a folder of the user's, a sweep store, a file
  of another program) is refused unless `overwrite=True` (`--overwrite`).
- Data go to a temporary name beside the target, `.NAME.tmp-HOST-PID` (a hash of NAME when NAME is
  too long for that), and are renamed into place when complete; a failed or interrupted write
  removes its temporary (SIGTERM included, see `terminate_on_sigterm`), and temporaries that a
  killed process on this host left behind are removed by the next write to the same target.

A problem is an `OutputError` (a `ScenarioError` naming the path) with `code` 2 for bad input (a
missing folder, a wrong suffix, a path taken) and 1 for a fault of the machine (no permission, a
read-only or full disk).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import socket
from collections.abc import Callable
from pathlib import Path

from .scenario import ScenarioError

DATA_SUFFIXES = (".nc", ".zarr")
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
ATTR = "sim_output"  # the kind of output a Dataset is: "run", "panel", "compare", "check-facts"


class OutputError(ScenarioError):
    """An output path that cannot be used; `code` is the exit code (2 bad input, 1 a fault)."""

    def __init__(self, path: str | Path, message: str, code: int = 2):
        super().__init__(path, None, message)
        self.code = code


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _temp_prefix(path: Path) -> str:
    """`.NAME.tmp-`, or `.HASH.tmp-` when NAME leaves no room for the suffix within the name limit."""
    prefix = f".{path.name}.tmp-"
    if len((prefix + "ffffff-4194304").encode()) <= _name_max(path.parent if str(path.parent) else Path(".")):
        return prefix
    return f".{hashlib.sha1(path.name.encode()).hexdigest()[:20]}.tmp-"


def temp_path(path: Path) -> Path:
    """Where this process writes `path` before renaming it into place."""
    return path.with_name(f"{_temp_prefix(path)}{_host_tag()}-{os.getpid()}")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove(p: Path) -> None:
    """Remove a file, a link or a folder tree; nothing if it is not there."""
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def clean_stale(path: Path) -> list[Path]:
    """Remove the temporaries of `path` left by processes of this host that no longer run."""
    folder = path.parent
    prefix, host = _temp_prefix(path), _host_tag()
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for p in entries:
        rest = p.name[len(prefix):] if p.name.startswith(prefix) else ""
        tag, _, pid = rest.partition("-")
        if tag == host and pid.isdigit() and not _alive(int(pid)):
            remove(p)
            removed.append(p)
    return removed


def kind_of(path: Path) -> str | None:
    """The `sim_output` kind of an existing output, or None if it is not one that sim wrote."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".nc" and path.is_file():
            import netCDF4

            with netCDF4.Dataset(path, "r") as nc:
                return str(nc.getncattr(ATTR)) if ATTR in nc.ncattrs() else None
        if suffix == ".zarr" and path.is_dir():
            import zarr

            return zarr.open_group(path, mode="r").attrs.get(ATTR)
        if suffix in FIGURE_SUFFIXES and path.is_file() and path.stat().st_size < 64 << 20:
            data = path.read_bytes()
            for kind in ("compare", "check-facts", "hindcast"):
                if figure_marker(kind).encode() in data:
                    return kind
    except Exception:  # noqa: BLE001 - an unreadable file is not one of ours
        return None
    return None


def figure_marker(kind: str) -> str:
    """Text put into a figure's metadata (PNG Software, PDF and SVG Creator) by `sim <kind>`."""
    return f"sim-output {kind}"


def check(path: Path | None, kind: str, *, overwrite: bool = False,
          suffixes: tuple[str, ...] = DATA_SUFFIXES) -> None:
    """Raise OutputError unless `path` can take an output of `kind` (see the module's rules)."""
    if path is None:
        return
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise OutputError(path, "output must end in " + ", ".join(suffixes))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(path, f"folder {folder} {what}")
    if len(path.name.encode()) > _name_max(folder):
        raise OutputError(path, f"file name longer than {_name_max(folder)} bytes")
    probe = temp_path(path)
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as e:
        raise OutputError(path, f"cannot write in folder {folder} ({e.strerror or e.__class__.__name__})",
                          code=1) from None
    if (path.exists() or path.is_symlink()) and not overwrite:
        found = kind_of(path)
        if found != kind:
            what = (f"an output of `sim {found}`" if found else
                    "a folder" if path.is_dir() else "a file that sim did not write")
            raise OutputError(path, f"exists and is {what}, not an output of `sim {kind}`; choose another name "
                              "or give --overwrite to replace it")


def distinct(*paths: Path | None) -> None:
    """Two outputs of one command must not be one path (`--out x.nc --panel x.nc`)."""
    seen: dict[Path, Path] = {}
    for p in paths:
        if p is None:
            continue
        r = Path(os.path.abspath(p))
        if r in seen:
            raise OutputError(p, f"given for two outputs (also {seen[r]}); each output needs its own path")
        seen[r] = p


def replace(tmp: Path, path: Path) -> None:
    """Move a complete temporary into place; an existing target (a file or a folder) goes last."""
    if path.is_dir() and not path.is_symlink():
        old = path.with_name(temp_path(path).name.replace(".tmp-", ".old-"))
        os.replace(path, old)
        try:
            os.replace(tmp, path)
        except OSError:
            os.replace(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def write_atomic(path: Path, writer: Callable[[Path], None]) -> Path:
    """Call writer(tmp) and rename tmp to `path`; on any failure remove tmp and leave `path` as it was.
    An OSError (no space, no permission) becomes an OutputError with code 1."""
    path = Path(path)
    clean_stale(path)
    tmp = temp_path(path)
    try:
        writer(tmp)
        replace(tmp, path)
    except OSError as e:
        code = 2 if e.errno in (errno.ENOENT, errno.ENOTDIR) else 1
        raise OutputError(path, f"cannot write ({e.strerror or e.__class__.__name__})", code=code) from None
    finally:
        if tmp.exists() or tmp.is_symlink():
            remove(tmp)
    return path


def save_figure(fig, path: Path, kind: str, *, overwrite: bool = False, **savefig_kw) -> Path:
    """A matplotlib figure written like data: checked, to a temporary, renamed; marked as `sim <kind>`'s."""
    path = Path(path)
    check(path, kind, overwrite=overwrite, suffixes=FIGURE_SUFFIXES)
    fmt = path.suffix.lower()[1:]
    meta = {"Software" if fmt == "png" else "Creator": figure_marker(kind)}
    return write_atomic(path, lambda tmp: fig.savefig(tmp, format=fmt, metadata=meta, **savefig_kw))


# SIGTERM inside a model's month waits for the month's end (`between_months`)
_SIGTERM = {"depth": 0, "pending": 0}


def terminate_on_sigterm() -> None:
    """SIGTERM (what `timeout`, `kill` and SLURM send) ends the process like Ctrl-C does, through
    `finally` blocks, so a write in progress removes its temporary. Call once, in the main thread.
    Inside a model's month (`between_months`) it ends the process when the month is done: raised
    between two numba kernels, mid-month, the exit crashed the process now and then (exit -11
    instead of 143, under load; test_sigterm_leaves_no_output_and_no_temporary)."""
    def _handler(signum, frame):  # noqa: ARG001
        if _SIGTERM["depth"] > 0:
            _SIGTERM["pending"] = signum
            return
        raise SystemExit(128 + signum)

    try:
        signal.signal(signal.SIGTERM, _handler)
    except ValueError:  # not the main thread
        pass


def between_months(step: Callable):
    """A model's step during which SIGTERM only records itself; the process ends (SystemExit 143)
    when the step returns, with the month complete and no kernel running. A month at 1:1 takes about
    a tenth of a second; on a first run the wait includes compiling the kernels."""
    import functools

    @functools.wraps(step)
    def wrapped(model, *args, **kwargs):
        _SIGTERM["depth"] += 1
        try:
            out = step(model, *args, **kwargs)
        finally:
            _SIGTERM["depth"] -= 1
        if _SIGTERM["depth"] == 0 and _SIGTERM["pending"]:
            signum, _SIGTERM["pending"] = _SIGTERM["pending"], 0
            raise SystemExit(128 + signum)
        return out

    return wrapped
