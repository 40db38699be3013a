"""Serve the explorer page with solara's server (`sim explore`), and fill solara's asset cache from
the npm registry for machines that reach package registries but not the jsdelivr CDN.

The page's JavaScript and fonts (the Vuetify app, RequireJS, Font Awesome) are npm packages that
solara's server fetches from the jsdelivr CDN on first use and caches under
`<venv>/share/solara/cdn` (or `$SOLARA_ASSETS_PROXY_CACHE_DIR`). `fill_assets()` puts the same
files there from `npm pack` instead (`sim explore --assets-from-npm`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

APP = "sim.explore.app"
# `{{cdn}}/<package>@<version>/...` in solara's page template
CDN_REF = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+)@([\w.+-]+)/")


def solara_env() -> dict[str, str]:
    """The server's environment: no usage statistics sent (solara's default sends them)."""
    env = dict(os.environ)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    return env


def command(host: str, port: int, log_level: str = "warning") -> list[str]:
    """solara's server for the page, in production mode (no reloading, no version check online)."""
    return [sys.executable, "-m", "solara", "run", APP, "--host", host, "--port", str(port), "--production",
            "--no-open", "--no-check-version", "--log-level", log_level]


def check_port(host: str, port: int) -> str | None:
    """None if the server can listen on host:port, else why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        return f"cannot resolve host {host!r} ({e.strerror})"
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            return f"cannot listen on {host}:{port} ({e.strerror or e})"
    return None


def wait_for_port(host: str, port: int, proc: subprocess.Popen | None = None, timeout: float = 60.0) -> bool:
    """True once host:port accepts connections; False if `proc` ends first or after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def asset_packages() -> list[tuple[str, str]]:
    """The npm packages (name, version) solara's page loads from the CDN: those its page template
    names (the Vuetify 3 app with ipyvue 3, else the Vuetify 2 one, as solara's server chooses) and
    Font Awesome (solara.server.settings.assets.fontawesome_path)."""
    import ipyvue
    import solara.server

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    vue3 = ipyvue.__version__.startswith("3")
    found = {(n, v): None for n, v in CDN_REF.findall(template.read_text(encoding="utf-8"))
             if "vuetify" not in n or ("vuetify3" in n) == vue3}
    from solara.server import settings

    fa = re.match(r"/?((?:@[\w.-]+/)?[\w.-]+)@([\w.+-]+)/", settings.assets.fontawesome_path)
    if settings.assets.fontawesome_enabled and fa:
        found[(fa.group(1), fa.group(2))] = None
    return list(found)


def asset_cache() -> Path:
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def fill_assets(cache: Path | None = None, npm: str = "npm") -> list[str]:
    """Put the packages of `asset_packages()` missing from solara's cache there, from `npm pack`;
    returns the packages added. Raises RuntimeError if npm is missing or fails."""
    cache = Path(cache) if cache is not None else asset_cache()
    want = [f"{n}@{v}" for n, v in asset_packages() if not (cache / f"{n}@{v}" / "package.json").exists()]
    if not want:
        return []
    exe = shutil.which(npm)
    if exe is None:
        raise RuntimeError("npm is not installed (the page's assets come from the npm registry with it)")
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([exe, "pack", "--silent", *want], cwd=tmp, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"npm pack {' '.join(want)} failed: {r.stderr.strip()[-500:]}")
        tarballs = r.stdout.split()
        for spec, tarball in zip(want, tarballs, strict=True):
            _unpack(Path(tmp) / tarball, cache / spec)
    return want


def _unpack(tarball: Path, dest: Path) -> None:
    """An npm tarball's `package/` folder as `dest` (written beside it, then renamed)."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(tarball) as t:
        t.extractall(tmp, filter="data")
    inner = next(tmp.iterdir())  # npm packs every file under package/
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(dest, ignore_errors=True)
    inner.rename(dest)
    shutil.rmtree(tmp, ignore_errors=True)
