"""`sim explore`: serve the scenario explorer page (sim.explore.app) with solara's server."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import click

from ..clicommon import fail


@click.command("explore")
@click.option("--host", default="localhost", show_default=True, help="Address to listen on (0.0.0.0: every one).")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a web browser.")
@click.option("--scenarios", "folder", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder of the scenario files to pick from (default: ./scenarios, else the repository's).")
@click.option("--assets-from-npm", is_flag=True,
              help="Fill solara's cache of the page's JavaScript and fonts with npm from the npm registry first "
                   "(for a machine that reaches package registries but not the jsdelivr CDN).")
@click.option("--quiet", "-q", is_flag=True, help="No messages but errors.")
def explore(host: str, port: int, no_browser: bool, folder: Path | None, assets_from_npm: bool, quiet: bool) -> None:
    """Serve the scenario explorer: pick scenarios and levers, run, see the effects with bands.

    The page runs `sim.compare` on the server; stop it with Ctrl-C.
    """
    import importlib.util
    import os

    from . import levers, serve

    if importlib.util.find_spec("solara") is None:
        fail('sim explore needs solara: pip install "sim[explore]"', 1)
    if folder is not None and not folder.is_dir():
        fail(f"--scenarios {folder}: not a folder")
    why = serve.check_port(host, port)
    if why:
        fail(f"--port {port}: {why}", 1)
    if assets_from_npm:
        try:
            added = serve.fill_assets()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            fail(f"--assets-from-npm: {e}", 1)
        if not quiet:
            click.echo(f"assets from npm: {', '.join(added) if added else 'all cached already'} "
                       f"({serve.asset_cache()})", err=True)
    env = serve.solara_env()
    if folder is not None:
        env[levers.ENV] = str(folder.resolve())
    url = f"http://{host}:{port}/"
    proc = subprocess.Popen(serve.command(host, port, "error" if quiet else "warning"), env=env)
    try:
        if not serve.wait_for_port("127.0.0.1" if host in ("0.0.0.0", "") else host, port, proc):
            fail(f"the server did not start (exit code {proc.poll()}); see the messages above", 1)
        if not quiet:
            click.echo(f"sim explore: the scenario explorer is at {url}  (Ctrl-C to stop)", err=True)
        # a browser only where one can show (a text browser would take over the terminal of an ssh session)
        if not no_browser and (sys.platform in ("darwin", "win32") or os.environ.get("DISPLAY")
                               or os.environ.get("WAYLAND_DISPLAY")):
            import webbrowser

            webbrowser.open(url)
        proc.wait()
    except KeyboardInterrupt:
        if not quiet:
            click.echo("sim explore: stopped", err=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the clean-up short
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if proc.returncode not in (0, -2, -15, 130, 143, None) and proc.returncode is not None:
        # a server that ended by itself with an error (not Ctrl-C, not our terminate)
        fail(f"the server stopped with exit code {proc.returncode}", 1)
