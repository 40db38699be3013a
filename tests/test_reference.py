"""The numba engine against the plain Mesa reference (sim/reference): same seed, same draws, the
same aggregates step by step within 1e-9 relative, on small economies where every mechanism is on."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.api import make_model
from sim.banking import bank_count
from sim.reference import BankAgent, FirmAgent, ReferenceEconomy

from .conftest import SCENARIOS, assert_same_run, write_scenario

RTOL = 1e-9

# miit_2019: VAT cut (repricing), energy tariffs, bans, replacement ratios, the aluminium cap,
# forced exit with compensation, upgrade subsidies, guarantees and pledges, entry barriers, demand
# support. The stress case adds defaults (assets that fetch little when sold, so firms that would leave
# default instead), estates in a short court procedure (their loans aging through the categories, then
# liquidated), loan losses and failing banks resolved by merger: thin capital,
# many small banks and a large-exposure limit of 100% of capital (10%: none fail), with firms' loans
# still spread over several banks; banks roll over some of the borrowers that would default and local
# governments keep state-owned ones (evergreening at a quarter a month, so that some still default);
# a wide cost spread (wedge scale 0.1) puts enough firms, state-owned among them, into distress.
STRESS = """
[run]
banks = 100
[behaviour]
court_months = 4
cost_wedge_scale = 0.1
recovery_rate = 0.05
other_assets_recovery = 0.05
[banking]
capital_ratio_2019 = 0.08
large_exposure_limit = 1.0
evergreening = true
evergreen_prob = 0.25
[policy]
bank_resolution = "merge"
soft_budget = true
[schedule."2019-07"]
policy_rate = 0.15
"""


def _lockstep(sc, months, prepare=None):
    fast, ref = make_model(sc, "numba"), make_model(sc, "reference")
    assert isinstance(ref, ReferenceEconomy)
    if prepare is not None:  # the same change to both engines' state before the first month
        prepare(fast)
        prepare(ref)
    for t in range(months):
        fast.step()
        ref.step()
        for name in fast.rec.variables:  # the closed economy's accounts too, in its runs
            a, b = fast.rec.data[name][: t + 1], ref.rec.data[name][: t + 1]
            np.testing.assert_array_equal(np.isnan(a[t]), np.isnan(b[t]), err_msg=f"{name} month {t}")
            if name == "sfc_error":  # rounding-level gaps: both below 1e-9 of the credit stock
                atol = 1e-9 * np.nanmax(np.abs(fast.rec.data["credit_total"][: t + 1]))
                assert abs(a[t] - b[t]) <= atol
                continue
            scale = np.nanmax(np.abs(a)) if np.isfinite(a).any() else 0.0
            np.testing.assert_allclose(
                b[t], a[t], rtol=RTOL, atol=RTOL * 1e-3 * scale, equal_nan=True, err_msg=f"{name} month {t}"
            )
    return fast, ref


@pytest.mark.parametrize("case", ["open", "open_stress", "closed", "closed_stress"])
def test_reference_matches_engine_step_by_step(tmp_path, case):
    # both closures: the closed economy is the default, the open one is kept for contrast
    closed = {"economy.closure": "closed" if case.startswith("closed") else "open"}
    if case in ("open", "closed"):
        sc = sim.load_scenario(SCENARIOS / "miit_2019.toml", firms=500, months=18, seed=4, **closed)
    else:
        for f in SCENARIOS.glob("*.toml"):
            (tmp_path / f.name).write_text(f.read_text())
        p = tmp_path / "stress.toml"
        p.write_text('extends = "miit_2019.toml"\nname = "stress"\n' + STRESS)
        sc = sim.load_scenario(p, firms=400, months=12, seed=4, **closed)
    fast, ref = _lockstep(sc, sc.run.months)
    d = fast.rec.data
    # the mechanisms were exercised
    assert np.nansum(d["exits_forced"]) > 0 and np.nansum(d["upgrades"]) > 0 and np.nansum(d["entries"]) > 0
    if case in ("open", "closed"):
        assert np.nansum(d["credit_guaranteed"]) > 0
    else:
        assert np.nansum(d["exits_bankruptcy"]) > 0 and np.nansum(d["bank_failures"]) > 0
        assert np.nansum(d["loan_losses"]) > 0
        assert np.nansum(d["firms_evergreened"]) > 0 and np.nansum(d["firms_supported"]) > 0
    # one agent per live firm and per bank; firm state is the same row by row
    firms = ref.live_firms()
    assert len(firms) == int(ref.firms.alive.sum()) and all(isinstance(f, FirmAgent) for f in firms)
    assert len(ref.agents_by_type[BankAgent]) == bank_count(sc)
    np.testing.assert_array_equal(ref.firms.alive, fast.firms.alive)
    a = fast.firms.alive
    for name in ("cash", "loans", "capacity", "productivity", "share", "price"):
        np.testing.assert_allclose(
            getattr(ref.firms, name)[a],
            getattr(fast.firms, name)[a],
            rtol=RTOL,
            atol=1e-12 * np.abs(getattr(fast.firms, name)[a]).max(),
        )


def test_reference_follows_rules_that_start_during_the_run():
    """A ban that starts during the run halts the sector's projects and a cap that binds at once scales
    capacity under construction down: the capacity rules do both through the model's hooks, which the
    reference overrides over its agents, and both engines agree step by step."""
    rules = {"schedule.2019-03.capacity_cap.steel": 1.0, "schedule.2019-03.ban_new_capacity.chemicals": True}
    sc = sim.load_scenario(SCENARIOS / "baseline.toml", firms=300, months=5, seed=4, **rules)
    done = []

    def spy(m):
        cr = m.capacity_rules
        for name in ("halt_projects", "scale_pipeline"):
            hook = getattr(cr.hooks, name)
            assert hook.__func__ is getattr(type(m), name)  # the engine's own (the reference's overrides)
            cr.hooks = cr.hooks._replace(**{name: lambda x, _h=hook, _n=name: (done.append((m.engine, _n)), _h(x))})

    fast, ref = _lockstep(sc, sc.run.months, prepare=spy)
    for engine in ("numba", "reference"):
        assert (engine, "halt_projects") in done and (engine, "scale_pipeline") in done
    steel = fast.firms.alive & (fast.firms.sector == 0)
    np.testing.assert_allclose(ref.firms.pipeline[steel], fast.firms.pipeline[steel], rtol=RTOL)


def test_run_with_reference_engine(tmp_path):
    p = write_scenario(tmp_path, 'name = "small"\n')
    ds = sim.run(p, seed=2, firms=300, months=3, engine="reference")
    assert ds.attrs["engine"] == "reference"
    fast = sim.run(p, seed=2, firms=300, months=3)
    np.testing.assert_allclose(ds.output.values, fast.output.values, rtol=RTOL)
    with pytest.raises(sim.ScenarioError):
        sim.run(p, seed=2, firms=300, months=3, engine="julia")


def test_parallel_chunks_give_the_same_results_for_any_thread_count(tmp_path):
    """Above sim._numba.CHUNK rows the kernels split their sums into fixed chunks: the result must not
    depend on how many threads run them."""
    import os
    import subprocess
    import sys

    import xarray as xr

    from sim._numba import CHUNK

    firms = CHUNK + CHUNK // 2  # more rows than one chunk: the sums go through several
    outs = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}.nc"
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        cmd = [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(SCENARIOS / "miit_2019.toml"),
            "--firms",
            str(firms),
            "--months",
            "4",
            "--out",
            str(out),
            "--quiet",
        ]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs.append(xr.load_dataset(out))
    assert_same_run(outs[0], outs[1])
