"""The scenario explorer: its logic (levers -> scenarios -> sim.compare), `sim explore` on the command
line, and the page in a real headless Chromium (Debian's chromium, installed here with apt-get when
the tests run as root, as CI does; playwright drives it, no browser of its own is downloaded)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

import sim
from sim.cli import main
from sim.explore import levers as lv
from sim.explore import serve

from .conftest import ROOT, SCENARIOS

TINY = {"firms": 300, "months": 3, "seeds": 1}


def test_levers_come_from_the_schema():
    by_key = {lev.key: lev for lev in lv.all_levers()}
    assert set(by_key) == set(lv.LEVER_KEYS)
    vat = by_key["vat_rate"]
    assert (vat.unit, vat.default, vat.low, vat.high, vat.per_sector) == ("share", 0.16, 0, 1, True)
    assert by_key["guarantee_fund_capital"].unit == "bn yuan" and by_key["guarantee_fund_capital"].bounds == ">= 0"
    assert by_key["electricity_price_change_general"].bounds == "-0.9 to 3"
    assert not by_key["policy_rate"].per_sector and by_key["demand_support"].per_sector
    assert list(lv.scenario_files(SCENARIOS))[0] == "baseline" and "vat_cut" in lv.scenario_files(SCENARIOS)


def test_the_scenario_folder_is_the_one_sim_explore_names(tmp_path, monkeypatch):
    (tmp_path / "mine.toml").write_text('extends = "baseline.toml"\n')
    monkeypatch.setenv(lv.ENV, str(tmp_path))  # what `sim explore --scenarios DIR` sets for the server
    assert lv.scenario_folder() == tmp_path and list(lv.scenario_files()) == ["mine"]
    monkeypatch.delenv(lv.ENV)
    monkeypatch.chdir(ROOT)
    assert lv.scenario_folder() == SCENARIOS


def test_a_choice_becomes_scenarios_with_levers_held_from_their_month():
    ch = lv.Choice(baseline="baseline", scenarios=["vat_cut", "baseline"], lever_base="vat_cut", lever_month="2019-02",
                   levers={"vat_rate": 0.10, "demand_support.nev": 0.2}, folder=SCENARIOS, **TINY)
    scs, base = lv.scenarios(ch)
    assert base == "baseline" and [s.name for s in scs] == ["baseline", "vat_cut", "custom"]
    assert all((s.run.firms, s.run.months) == (300, 3) for s in scs)
    custom = scs[-1].schedule
    # from 2019-02 on: vat_cut's own change of vat_rate in 2019-04 is overridden too, its other keys kept
    assert custom["2019-02"].vat_rate == 0.10 and custom["2019-02"].demand_support == {"nev": 0.2}
    assert custom["2019-04"].vat_rate == 0.10 and custom["2019-04"].vat_rate_inputs == 0.13
    # no levers: no custom scenario; a path works as well as a name
    scs, _ = lv.scenarios(lv.Choice(scenarios=[str(SCENARIOS / "sme_finance.toml")], folder=SCENARIOS, **TINY))
    assert [s.name for s in scs] == ["baseline", "sme_finance"]


@pytest.mark.parametrize("choice,match", [
    (dict(levers={"vat_rate": 1.5}), r"^levers from 2019-01: vat_rate: .*less than or equal to 1 \(got 1.5\)"),
    (dict(levers={"demand_support.moon": 0.1}), r"demand_support\.moon: Input should be 'steel'"),
    (dict(levers={"vat_rate": 0.1}, lever_month="2019-13"), r"from month: .*'2019-13' is not a month"),
    (dict(levers={"no_such_key": 0.1}), r"no_such_key: not a policy key"),
    (dict(scenarios=["nope"]), r"^nope: no scenario of that name \(known: baseline, "),
    (dict(scenarios=[]), r"pick a scenario other than the baseline, or set a lever"),
    (dict(firms=10), r"run\.firms: .*greater than or equal to 200"),
    (dict(seeds=0), r"seeds: must be 1 to 100"),
    (dict(seeds=None), r"seeds: must be 1 to 100 \(got None\)"),
])
def test_bad_choices_raise_one_line_scenario_errors(choice, match):
    with pytest.raises(sim.ScenarioError, match=match):
        lv.scenarios(lv.Choice(folder=SCENARIOS, **{**TINY, **choice}))


def test_run_is_sim_compare_and_shows_its_effects():
    ch = lv.Choice(scenarios=["vat_cut"], levers={"policy_rate": 0.03}, folder=SCENARIOS, **TINY)
    seen = []
    cmp = lv.run(ch, lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    scs, base = lv.scenarios(ch)
    ref = sim.compare(scs, baseline=base, seeds=1)
    for v in ("effect_output", "summary_mean", "summary_low", "gdp"):
        np.testing.assert_array_equal(cmp[v].values, ref[v].values)
    assert list(cmp.scenario.values) == ["baseline", "vat_cut", "custom"]
    fig = lv.figure(cmp, ["output", "gov_balance"])
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    tab = lv.table(cmp, ["output", "gov_balance"])
    assert list(tab.columns) == ["vat_cut", "custom"]
    assert list(tab.index) == ["gross output (2019 prices) (%)", "government balance (bn yuan/yr)"]
    assert tab.loc["gross output (2019 prices) (%)", "vat_cut"].count("[") == 1


def test_the_page_as_a_notebook_shows_it():
    """`sim.explore.Page()` is a solara element: rendered to widgets (what Jupyter displays), a bad
    lever shows its ScenarioError at once and Run puts sim.compare's effects in a figure."""
    solara = pytest.importorskip("solara")
    import ipyvuetify as v
    import ipywidgets as w

    import sim.explore.app as app

    state = [app.months, app.seeds, app.firms, app.on["vat_rate"], app.value["vat_rate"], app.problem]
    saved = [r.value for r in state]
    box, rc = solara.render(sim.explore.Page(), handle_error=False)
    try:
        run = rc.find(v.Btn, children=["Run"])
        assert len(rc.find(v.Checkbox).widgets) == len(lv.LEVER_KEYS)
        app.months.value, app.seeds.value, app.firms.value = 3, 1, 300
        app.on["vat_rate"].value, app.value["vat_rate"].value = True, 1.5
        run.widget.click()
        rc.find(v.Alert, children=["levers from 2019-01: vat_rate: Input should be less than or equal to 1 (got "
                                   "1.5)"]).wait_for(timeout=10)
        assert app.run_choice.not_called
        app.on["vat_rate"].value = False
        run.widget.click()
        rc.find(w.Image).wait_for(timeout=300)
        cmp = app.run_choice.value[0]
        assert list(cmp.scenario.values) == ["baseline", "vat_cut"] and cmp.sizes["time"] == 3
        assert rc.find(w.Image).widget.value[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        rc.close()
        for r, val in zip(state, saved, strict=True):
            r.value = val


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_explore_command_line():
    pytest.importorskip("solara")
    r = CliRunner().invoke(main, ["explore", "--help"])
    assert r.exit_code == 0 and "--no-browser" in r.output and "--port" in r.output
    r = CliRunner().invoke(main, ["explore", "--port", "70000", "--no-browser"])
    assert r.exit_code == 2 and "70000 is not in the range 1<=x<=65535" in r.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = CliRunner().invoke(main, ["explore", "--host", "127.0.0.1", "--port", str(port), "--no-browser"])
    assert r.exit_code == 1 and r.stderr.startswith(f"error: --port {port}: cannot listen on 127.0.0.1:{port}")
    r = CliRunner().invoke(main, ["explore", "--scenarios", str(SCENARIOS / "vat_cut.toml"), "--no-browser"])
    assert r.exit_code == 2 and "is a file" in r.output
    r = CliRunner().invoke(main, ["explore", "--host", "no-such-host.invalid", "--no-browser"])
    assert r.exit_code == 1 and "cannot resolve host 'no-such-host.invalid'" in r.stderr


def test_the_page_assets_are_the_npm_packages_solara_names():
    pytest.importorskip("solara")
    pkgs = dict(serve.asset_packages())
    assert {"requirejs", "font-awesome"} <= set(pkgs) and any("solara-vuetify" in p for p in pkgs)
    cmd = serve.command("localhost", 8765)
    assert cmd[1:5] == ["-m", "solara", "run", "sim.explore.app"] and "--production" in cmd


# --------------------------------------------------------------------------------------------
# the page in a real browser
# --------------------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium (and chromium-driver), installed with apt-get when missing and root."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    if not os.path.exists(CHROMIUM):
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip("Debian's chromium is not installed and the tests are not root on Debian to install it "
                        "(as root: apt-get install chromium chromium-driver)")
        t0 = time.monotonic()
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"]):
            r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
            assert r.returncode == 0, f"{' '.join(cmd)} failed: {r.stderr[-2000:]}"
        print(f"installed chromium and chromium-driver in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return CHROMIUM


def _default_sigint() -> None:
    """In the server's process before it runs: Ctrl-C's default action. A child inherits an ignored
    SIGINT (a test worker may ignore it) and Python then leaves it ignored, so the server never saw the
    test's Ctrl-C (a clean checkout's CI run waited 30 s for it to stop)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def explorer(tmp_path_factory):
    """`sim explore --port FREE --no-browser` in a subprocess, the page's assets from npm (CI reaches
    package registries, not the CDN); yields the URL, the process and its log."""
    cached = all((serve.asset_cache() / f"{n}@{v}" / "package.json").exists() for n, v in serve.asset_packages())
    if not cached and not shutil.which("npm"):
        pytest.skip("the page's JavaScript is not in solara's cache and npm is not installed to fetch it")
    port = _free_port()
    log = tmp_path_factory.mktemp("explore") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "explore", "--host", "127.0.0.1", "--port",
                                 str(port), "--no-browser", "--assets-from-npm"], stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT, preexec_fn=_default_sigint)
    try:
        url = f"http://127.0.0.1:{port}/"
        end = time.monotonic() + 180
        while f"the scenario explorer is at {url}" not in log.read_text():  # said once the server listens
            assert proc.poll() is None and time.monotonic() < end, log.read_text()[-3000:]
            time.sleep(0.2)
        yield url, proc, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_the_page_loads_runs_a_scenario_and_shows_the_figure(chromium, explorer, tmp_path):
    from playwright.sync_api import sync_playwright

    url, proc, log = explorer
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            page.set_default_timeout(60_000)
            page.goto(url)
            run = page.locator(".sim-run")
            run.wait_for()
            assert page.locator(".sim-title").inner_text() == "sim scenario explorer"
            page.wait_for_function("document.title === 'sim scenario explorer'")
            for key in lv.LEVER_KEYS:
                assert page.locator(f".sim-lever-{key}").get_by_text(key, exact=True).is_visible()
            assert "baseline" in page.locator(".sim-baseline").inner_text()
            assert "vat_cut" in page.locator(".sim-picked").inner_text()
            # a bad lever value: the ScenarioError's line, no run
            page.locator(".sim-lever-vat_rate input[type=checkbox]").check()
            bad = page.locator(".sim-lever-vat_rate .sim-value input")
            bad.fill("1.5")
            bad.press("Enter")
            run.click()
            err = page.locator(".sim-error")
            err.wait_for()
            assert "vat_rate: Input should be less than or equal to 1 (got 1.5)" in err.inner_text()
            page.locator(".sim-lever-vat_rate input[type=checkbox]").uncheck()
            # vat_cut against the baseline: 1,000 firms, 6 months, 1 seed
            for field, val in (("firms", "1000"), ("months", "6"), ("seeds", "1")):
                box = page.locator(f".sim-{field} input")
                box.fill(val)
                box.press("Enter")
            t0 = time.monotonic()
            run.click()
            img = page.locator(".sim-figure img")
            img.wait_for(timeout=600_000)  # seconds once the kernels are compiled; a first run compiles them
            took = time.monotonic() - t0
            width, height = img.evaluate("e => [e.naturalWidth, e.naturalHeight]")
            assert width > 800 and height > 400, (width, height)
            table = page.locator(".sim-table").inner_text()
            assert "vat_cut" in table and "gross output (2019 prices) (%)" in table
            page.screenshot(path=tmp_path / "explorer.png", full_page=True)
            print(f"run and figure in {took:.1f} s; screenshot {tmp_path / 'explorer.png'}", file=sys.stderr)
        finally:
            browser.close()
    # Ctrl-C: the server stops, says so, exits 0 and frees the port
    assert proc.poll() is None, log.read_text()[-3000:]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0, log.read_text()[-3000:]
    assert log.read_text().rstrip().endswith("sim explore: stopped")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(url.rstrip("/").rsplit(":", 1)[1])), timeout=2).close()
