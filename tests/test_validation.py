"""Validation: the statistics on synthetic data with known answers, the facts that hold in the
baseline (kept from regressing), the CLI and the calibration routine on a tiny budget."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from sim.cli import main
from sim.validation import BY_KEY, TARGETS, check, markdown, stats
from sim.validation.calibrate import calibrate

from .conftest import SCENARIOS

BASELINE = SCENARIOS / "baseline.toml"
SMALL = {"firms": 4000, "months": 72}


# ------------------------------------------------------------------------------------------------
# statistics on synthetic data
# ------------------------------------------------------------------------------------------------
def test_hill_recovers_pareto_exponent():
    rng = np.random.default_rng(0)
    for alpha in (1.0, 1.5, 2.5):
        x = rng.pareto(alpha, 200_000) + 1.0  # Pareto with x_min = 1
        assert stats.hill(x, frac=0.05) == pytest.approx(alpha, rel=0.05)
        assert stats.rank_size_slope(x, frac=0.05) == pytest.approx(alpha, rel=0.1)


def test_hill_needs_enough_tail():
    assert np.isnan(stats.hill(np.arange(1, 50.0), frac=0.05))


def test_moments_of_known_distributions():
    rng = np.random.default_rng(1)
    lap, nor = rng.laplace(0, 1, 400_000), rng.normal(0, 1, 400_000)
    assert stats.kurtosis(lap) == pytest.approx(6.0, rel=0.05)
    assert stats.kurtosis(nor) == pytest.approx(3.0, rel=0.02)
    assert stats.skewness(nor) == pytest.approx(0.0, abs=0.02)
    assert stats.skewness(rng.lognormal(0, 1, 400_000)) > 3  # exact: 6.18
    assert stats.laplace_minus_normal_loglik(lap[:5000]) > 0.05
    assert stats.laplace_minus_normal_loglik(nor[:5000]) < -0.05


def test_log_90_10_gap_of_lognormal():
    x = np.random.default_rng(2).lognormal(0, 0.5, 400_000)
    assert stats.log_ratio_90_10(x) == pytest.approx(2 * 1.2816 * 0.5, rel=0.02)


def test_hp_filter_known_trends():
    t = np.arange(120.0)
    cyc, trend = stats.hp_filter(2.0 + 0.03 * t)  # a line is its own trend
    np.testing.assert_allclose(cyc, 0.0, atol=1e-8)
    np.testing.assert_allclose(trend, 2.0 + 0.03 * t, atol=1e-8)
    # a slow trend plus a fast cycle: the filter returns the cycle
    fast = 0.05 * np.sin(2 * np.pi * t / 6)
    cyc, trend = stats.hp_filter(1 + 0.01 * t + 1e-4 * t**2 + fast, lamb=1600)
    assert stats.corr(cyc, fast) > 0.98
    true = 1 + 0.01 * t + 1e-4 * t**2
    assert np.max(np.abs(trend - true) / true) < 0.01  # curvature is shrunk a little at the ends


def test_counts_and_correlations():
    rng = np.random.default_rng(3)
    assert stats.dispersion_index(rng.poisson(2.0, 20_000)) == pytest.approx(1.0, abs=0.05)
    clustered = rng.poisson(rng.gamma(0.5, 4.0, 20_000))  # negative binomial: var/mean = 1 + 4
    assert stats.dispersion_index(clustered) == pytest.approx(5.0, rel=0.1)
    ar = np.zeros(5000)
    e = rng.normal(size=5000)
    for i in range(1, 5000):
        ar[i] = 0.8 * ar[i - 1] + e[i]
    assert stats.autocorr(ar) == pytest.approx(0.8, abs=0.03)
    np.testing.assert_allclose(stats.to_quarterly(np.arange(7.0)), [3.0, 12.0])
    exited = np.array([1, 1, 0, 0, 1, 0, 0, 0], bool)
    young = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    assert stats.hazard_ratio(exited, young, ~young) == pytest.approx(2.0)


# ------------------------------------------------------------------------------------------------
# the baseline: facts that hold now must keep holding
# ------------------------------------------------------------------------------------------------
HOLD = (
    "size_skewness",
    "size_tail_alpha",
    "productivity_persistence",
    "investment_volatility",
    "exit_size",
    "soe_share",
    "loan_rate_large",
)


@pytest.fixture(scope="module")
def facts():
    return check(BASELINE, seeds=2, **SMALL)


@pytest.mark.parametrize("key", HOLD)
def test_baseline_fact_holds(facts, key):
    r = facts.sel(target=key)
    assert int(r.passed) == 1, (
        f"{key}: {float(r['mean']):.4g} outside [{float(r.band_lo)}, {float(r.band_hi)}]"
    )


def test_dataset_shape_and_attributes(facts):
    assert list(facts.target.values) == [t.key for t in TARGETS]
    assert facts.sizes["seed"] == 2
    assert facts.attrs["n_targets"] == len(TARGETS)
    for t in TARGETS:
        assert t.source and t.label and t.empirical
        assert t.lo <= t.hi
    # every miss has a reason written down
    missed = facts.target.values[facts.passed.values == 0]
    assert all(
        BY_KEY[k].miss_reason for k in missed if k not in ("bankruptcy_cyclicality", "bankruptcy_clustering")
    ), missed
    md = markdown(facts)
    assert md.count("\n") == len(TARGETS) + 1


def test_same_seed_same_values(facts):
    again = check(BASELINE, seeds=[1], **SMALL)
    np.testing.assert_array_equal(again.value.sel(seed=1).values, facts.value.sel(seed=1).values)


# ------------------------------------------------------------------------------------------------
# command line and calibration
# ------------------------------------------------------------------------------------------------
def test_cli_check_facts_writes_dataset(tmp_path):
    out = tmp_path / "facts.nc"
    res = CliRunner().invoke(
        main,
        [
            "check-facts",
            str(BASELINE),
            "--seeds",
            "1",
            "--firms",
            "2000",
            "--months",
            "48",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "targets met" in res.output
    ds = xr.open_dataset(out)
    assert set(ds.target.values) == {t.key for t in TARGETS}
    assert {"value", "mean", "band_lo", "band_hi", "passed", "source"} <= set(ds.data_vars)


def test_cli_check_facts_bad_input(tmp_path):
    res = CliRunner().invoke(main, ["check-facts", str(tmp_path / "missing.toml"), "--seeds", "1", "--quiet"])
    assert res.exit_code == 2
    res = CliRunner().invoke(main, ["check-facts", str(BASELINE), "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2


def test_calibration_improves_on_start():
    res = calibrate(
        BASELINE,
        params={"behaviour.loss_months_exit": (12, 60, False)},
        moments=("npl_ratio",),
        seeds=[0],
        firms=1500,
        months=48,
        design=3,
        refine=2,
        verbose=False,
    )
    assert res.distance <= res.start_distance
    assert isinstance(res.params["behaviour.loss_months_exit"], int)
    assert res.evaluations >= 3
    assert "distance" in res.to_json()
