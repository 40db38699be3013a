"""Comparing the seed's policy programme against the baseline (issue 4): first-order effects of
each scenario averaged over seeds, and common random numbers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sim.compare import compare

from .conftest import SCENARIOS

NAMES = ["baseline", "vat_cut", "energy_cost_cut", "energy_cost_cut_all_tariffs", "capacity_consolidation",
         "tech_upgrade", "sme_finance", "market_access", "emerging_industries", "miit_2019"]


@pytest.fixture(scope="module")
def cmp():
    return compare([SCENARIOS / f"{n}.toml" for n in NAMES], seeds=3, firms=3000, months=30)


def eff(cmp, scenario, metric):
    """Effect over the last 12 months, averaged over seeds."""
    return float(cmp.summary_mean.sel(scenario=scenario, metric=metric))


def sector_effect(cmp, scenario, var, sector, window=slice(-12, None)):
    a = cmp[var].sel(scenario=scenario, sector=sector).isel(time=window).mean()
    b = cmp[var].sel(scenario="baseline", sector=sector).isel(time=window).mean()
    return float(a - b)


def test_dataset_layout(cmp):
    assert list(cmp.scenario.values) == NAMES
    assert list(cmp.seed.values) == [0, 1, 2]
    assert cmp.output.dims[:2] == ("scenario", "seed")
    assert cmp.attrs["baseline"] == "baseline"
    assert float(np.abs(cmp.summary_mean.sel(scenario="baseline")).max()) == 0.0


def test_vat_cut(cmp):
    assert eff(cmp, "vat_cut", "price_tax_inclusive") < 0
    assert eff(cmp, "vat_cut", "profit") > 0
    assert eff(cmp, "vat_cut", "output") > 0


def test_energy_cut_relief_by_tariff_class(cmp):
    t = slice(-12, None)
    # energy-heavy in tariff electricity: steel and cement (non-ferrous as a whole spends 6% of its
    # revenue on energy, 40% of it grid power: the smelters' own plants burn coal; sectors.toml)
    heavy, light = ("steel", "cement"), ("textiles", "electronics", "machinery")
    relief = {s: -sector_effect(cmp, "energy_cost_cut_all_tariffs", "unit_energy_cost", s, t) for s in heavy + light}
    assert all(v > 0 for v in relief.values())
    # a cut of all tariffs relieves energy-heavy sectors most (yuan per yuan of output)
    assert min(relief[s] for s in heavy) > max(relief[s] for s in light)
    # the 2019 cut of the general tariff only: energy-heavy sectors, on the large-industry tariff, gain less
    faithful = {s: -sector_effect(cmp, "energy_cost_cut", "unit_energy_cost", s, t)
                for s in heavy + light + ("nonferrous",)}
    relief["nonferrous"] = -sector_effect(cmp, "energy_cost_cut_all_tariffs", "unit_energy_cost", "nonferrous", t)
    assert faithful["steel"] < relief["steel"] and faithful["nonferrous"] < relief["nonferrous"]
    assert eff(cmp, "energy_cost_cut", "energy_cost") < 0


def test_capacity_consolidation(cmp):
    # the bans and replacement ratios are in the baseline (the status quo of 2019-01): the scenario adds
    # the closure of backward capacity, a few per cent of heavy capacity in 30 months
    assert eff(cmp, "capacity_consolidation", "capacity_heavy") < -0.8
    assert eff(cmp, "capacity_consolidation", "utilization_heavy") > 0.5
    assert sector_effect(cmp, "capacity_consolidation", "utilization", "cement") > 0.02
    # tighter markets lift markups toward the norm of a fuller sector; the price index barely moves,
    # for the capacity closed was the costliest (no ratchet lifts prices while orders go unfilled)
    for s in ("steel", "cement"):
        assert sector_effect(cmp, "capacity_consolidation", "markup_mean", s) > 0
        assert abs(sector_effect(cmp, "capacity_consolidation", "price_index", s)) < 0.02


def test_tech_upgrade(cmp):
    assert eff(cmp, "tech_upgrade", "productivity") > 0.5
    assert eff(cmp, "tech_upgrade", "energy_intensity") < 0


def test_sme_finance(cmp):
    assert eff(cmp, "sme_finance", "credit_sme") > 0
    assert eff(cmp, "sme_finance", "loan_rate_sme") < 0
    assert float(cmp.credit_guaranteed.sel(scenario="sme_finance").isel(time=-1).mean()) > float(
        cmp.credit_guaranteed.sel(scenario="baseline").isel(time=-1).mean())
    # SME bankruptcies are too rare in this calibration to compare (a few simulated firms in 30
    # months; docs/validation.md lists it as a miss), so the test stops at credit and its price


def test_market_access_raises_entry(cmp):
    assert eff(cmp, "market_access", "entries") > 5


def test_emerging_industries(cmp):
    for s in ("nev", "electronics"):
        assert sector_effect(cmp, "emerging_industries", "output", s) > 0


def test_common_random_numbers_make_effects_tighter_than_levels(cmp):
    last = slice(-12, None)
    level = cmp.output.sum("sector").isel(time=last).mean("time")
    for s in ("vat_cut", "tech_upgrade", "capacity_consolidation"):
        spread_level = float(level.sel(scenario=s).max() - level.sel(scenario=s).min())
        spread_effect = float((level.sel(scenario=s) - level.sel(scenario="baseline")).max()
                              - (level.sel(scenario=s) - level.sel(scenario="baseline")).min())
        assert spread_effect < spread_level, s


def test_scenario_against_itself_is_exactly_zero(tmp_path):
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text((SCENARIOS / "vat_cut.toml").read_text().replace('extends = "baseline.toml"',
                 f'extends = "{SCENARIOS / "baseline.toml"}"'))
    b.write_text(a.read_text().replace('name = "vat_cut"', 'name = "vat_cut_again"'))
    res = compare([a, b], baseline="vat_cut", seeds=2, firms=2000, months=12)
    for v in [x for x in res.data_vars if x.startswith("effect_")]:
        assert float(np.abs(res[v].sel(scenario="vat_cut_again")).max()) == 0.0, v


def test_cli_compare_writes_dataset_and_figure(tmp_path):
    import subprocess
    import sys

    out, fig = tmp_path / "cmp.nc", tmp_path / "cmp.png"
    r = subprocess.run([sys.executable, "-m", "sim.cli", "compare", str(SCENARIOS / "vat_cut.toml"),
                        str(SCENARIOS / "sme_finance.toml"), "--seeds", "2", "--firms", "2000", "--months", "12",
                        "--out", str(out), "--plot", str(fig)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "vat_cut" in r.stdout and "value added" in r.stdout
    ds = xr.open_dataset(out)
    assert set(ds.scenario.values) == {"baseline", "vat_cut", "sme_finance"}
    assert fig.stat().st_size > 10_000
