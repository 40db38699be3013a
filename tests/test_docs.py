"""Docs that are generated from code must match it."""

from __future__ import annotations

from sim.scenario.reference import render

from .conftest import ROOT


def test_scenario_reference_is_current():
    committed = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert committed == render(), "regenerate: python -m sim.scenario.reference > docs/scenario-reference.md"


def test_state_reference_is_current_and_covers_every_bundle():
    import importlib

    from sim.state_reference import KERNEL_MODULES, _bundles
    from sim.state_reference import render as render_state

    committed = (ROOT / "docs" / "state-reference.md").read_text()
    assert committed == render_state(), "regenerate: python -m sim.state_reference > docs/state-reference.md"
    for name in KERNEL_MODULES:  # every declared FIELDS table makes a named tuple the page shows
        module = importlib.import_module(f"sim.kernels.{name}")
        declared = [k for k, v in vars(module).items() if k.endswith("_FIELDS") and isinstance(v, dict)]
        assert len(_bundles(module)) == len(declared), f"sim/kernels/{name}.py: a FIELDS table makes no named tuple"


def test_cluster_reference_is_current():
    from sim.sweep.cluster import render as render_cluster

    committed = (ROOT / "docs" / "cluster-reference.md").read_text()
    assert committed == render_cluster(), "regenerate: python -m sim.sweep.cluster > docs/cluster-reference.md"


# --------------------------------------------------------------------------------------------
# every code block of README.md and docs/*.md is checked (docs that cannot drift)
# --------------------------------------------------------------------------------------------
import re  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402

import pytest  # noqa: E402

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!--\s*not run:\s*(?P<why>[^>]*?)\s*-->\s*\n)?```(?P<lang>\w*)\n(?P<code>.*?)\n\s*```", re.S)


def blocks(lang: str) -> list[tuple[str, str, str | None]]:
    """(where, code, reason not run) for each ```lang block."""
    out = []
    for path in DOCS:
        text = path.read_text()
        for m in BLOCK.finditer(text):
            if m.group("lang") == lang:
                line = text[: m.start()].count("\n") + 1
                out.append((f"{path.name}:{line}", m.group("code"), m.group("why")))
    return out


def test_links_point_inside_the_repository():
    for path in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)", path.read_text()):
            if re.match(r"[a-z]+://", target):
                continue
            assert not target.startswith(("../", "/")), f"{path.name}: {target} points outside the repository"
            assert (path.parent / target).exists(), f"{path.name}: {target} does not exist"


def _sim_commands(code: str) -> list[list[str]]:
    cmds = []
    for line in code.replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip().rstrip("&").strip()
        if line.startswith(("sim ", "$ sim ")):
            cmds.append(shlex.split(line.removeprefix("$ "))[1:])
    return cmds


@pytest.mark.parametrize("where,code,why", blocks("bash"), ids=[b[0] for b in blocks("bash")])
def test_command_lines_in_the_docs_parse(where, code, why):
    """Each `sim ...` line of a bash block names a real command and real options (parsed, not run)."""
    from sim.cli import main

    for args in _sim_commands(code):
        cmd = main.get_command(None, args[0])
        assert cmd is not None, f"{where}: no command `sim {args[0]}`"
        with cmd.make_context(args[0], args[1:]) as sub:  # unknown options or bad values raise here
            assert sub is not None


@pytest.mark.parametrize("where,code,why", blocks("python"), ids=[b[0] for b in blocks("python")])
def test_python_in_the_docs_runs(where, code, why, tmp_path, monkeypatch):
    """Each python block runs as written (from a copy of the scenarios), unless marked
    `<!-- not run: reason -->` just before it."""
    if why:
        pytest.skip(f"{where}: not run: {why}")
    import matplotlib

    matplotlib.use("Agg")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    quick = tmp_path / "scenarios" / "sweeps" / "quick.toml"  # the docs' sweep, made small
    quick.write_text(quick.read_text().replace("firms = 50000\nmonths = 60", "firms = 300\nmonths = 3"))
    assert "firms = 300" in quick.read_text()
    monkeypatch.chdir(tmp_path)
    if "quick.zarr" in code and "run_sweep" not in code:  # the store the command above makes
        import sim

        sim.sweep(quick, tmp_path / "quick.zarr", workers=1)
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})


def test_not_run_blocks_say_why():
    for lang in ("python", "bash"):
        for where, _, why in blocks(lang):
            assert why is None or len(why) > 10, f"{where}: say why it is not run"


@pytest.mark.parametrize("where,code,why", blocks("toml"), ids=[b[0] for b in blocks("toml")])
def test_toml_in_the_docs_is_valid(where, code, why, tmp_path):
    """A scenario (with `extends`) or sweep (with `base`) file in the docs loads, from scenarios/ or
    scenarios/sweeps/ as its relative paths say."""
    import sim
    from sim.sweep.spec import load_sweep

    if why:
        pytest.skip(f"{where}: not run: {why}")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    if code.lstrip().startswith(("extends", "base", "name")) and ("extends" in code or "base" in code):
        folder = tmp_path / "scenarios" / ("sweeps" if "base =" in code else "")
        path = folder / "from_docs.toml"
        path.write_text(code)
        if "base =" in code:
            load_sweep(path)
        else:
            sim.load_scenario(path)
    elif code.lstrip("# ").startswith("cluster.toml"):  # a cluster file (--cluster-config)
        from sim.sweep.cluster import load_config

        load_config(__import__("tomllib").loads(code), None)
    else:
        __import__("tomllib").loads(code)  # a fragment: valid TOML at least
