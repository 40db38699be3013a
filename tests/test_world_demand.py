"""The rest of the world's dated inputs (issue 21 part 2): `policy.world_demand` (world import volume
relative to the calibrated path) and `policy.tariff_abroad` (the average additional tariff China's
exports of a sector face) move exports by X = X_trend x W x (1 + T)^(-export_elasticity), in the
closed economy on the rest of the world's purchases, in the open one on the export share of final
demand; bad values exit with a ScenarioError naming the file and the key; the accounts still close.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import sim
from sim.cli import main
from sim.model import IndustrialEconomy
from sim.scenario.schema import SECTORS

from .conftest import write_scenario

SMALL = {"run.firms": 2000, "run.months": 6}
ACT = 3  # the month the lever acts from (2019-04 in a run from 2019-01)


def model(tmp_path, body: str, closure: str, name: str) -> IndustrialEconomy:
    path = write_scenario(tmp_path, body, name=name)
    sc = sim.load_scenario(path, **{**SMALL, "economy.closure": closure})
    return IndustrialEconomy(sc, seed=3)


def exports_by_month(m: IndustrialEconomy) -> list[np.ndarray]:
    """The rest of the world's real purchases by sector, month by month (closed economy)."""
    out = []
    for _ in range(m.months):
        m.step()
        out.append(m.macro.last["xq"].copy())
    return out


def test_world_demand_lowers_the_exports_of_the_sectors_it_names_and_no_others(tmp_path):
    base = exports_by_month(model(tmp_path, "", "closed", "a.toml"))
    low = exports_by_month(model(tmp_path, '[schedule."2019-04"]\nworld_demand = { electronics = 0.8, '
                                 'textiles = 0.9 }\n', "closed", "b.toml"))
    for t in range(ACT):  # before the change the runs are the same
        np.testing.assert_array_equal(low[t], base[t])
    ratio = np.divide(low[ACT], base[ACT], out=np.ones(len(SECTORS)), where=base[ACT] > 0)  # cement: no exports
    i, j = SECTORS.index("electronics"), SECTORS.index("textiles")
    # on the first month it acts the ratio is the index itself (prices and the cycle are the same so far)
    assert ratio[i] == pytest.approx(0.8, rel=1e-12)
    assert ratio[j] == pytest.approx(0.9, rel=1e-12)
    others = [k for k in range(len(SECTORS)) if k not in (i, j)]
    np.testing.assert_allclose(ratio[others], 1.0, rtol=1e-12)


def test_a_tariff_abroad_lowers_that_sectors_exports_by_the_elasticity(tmp_path):
    body = '[economy]\nexport_elasticity = 2.0\n'
    base = exports_by_month(model(tmp_path, body, "closed", "a.toml"))
    hit = exports_by_month(model(tmp_path, body + '[schedule."2019-04"]\ntariff_abroad = { machinery = 0.25 }\n',
                                 "closed", "b.toml"))
    ratio = np.divide(hit[ACT], base[ACT], out=np.ones(len(SECTORS)), where=base[ACT] > 0)
    k = SECTORS.index("machinery")
    assert ratio[k] == pytest.approx(1.25 ** -2.0, rel=1e-12)  # (1 + 25%)^(-2) = 0.64
    np.testing.assert_allclose(np.delete(ratio, k), 1.0, rtol=1e-12)
    # the fall carries on while the tariff is in force, and the sector's output falls with it
    assert all(h[k] < b[k] for h, b in zip(hit[ACT:], base[ACT:], strict=True))


def test_the_open_closure_scales_the_export_share_of_final_demand(tmp_path):
    a = model(tmp_path, "", "open", "a.toml")
    b = model(tmp_path, '[schedule."2019-04"]\ntariff_abroad = 0.1\nworld_demand = { steel = 0.5 }\n', "open",
              "b.toml")
    for _ in range(ACT + 1):
        a.step()
        b.step()
    fa, fb = a.rec.data["final_demand"][ACT], b.rec.data["final_demand"][ACT]
    x = np.array([a.sc.economy.export_share[s] for s in SECTORS])
    w = np.where(np.array(SECTORS) == "steel", 0.5, 1.0)
    expected = 1.0 + x * (w * 1.1 ** -a.sc.economy.export_elasticity - 1.0)
    np.testing.assert_allclose(fb / fa, expected, rtol=1e-12)
    assert fb[SECTORS.index("cement")] == pytest.approx(fa[SECTORS.index("cement")], rel=1e-12)  # no exports


def test_accounts_close_with_the_lever_on(tmp_path):
    path = write_scenario(tmp_path, '[schedule."2019-03"]\nworld_demand = 0.85\n'
                          'tariff_abroad = { electronics = 0.2, machinery = 0.1 }\n')
    sc = sim.load_scenario(path, **{**SMALL, "run.months": 12, "economy.closure": "closed"})
    ds = sim.run(sc, seed=2, quiet=True)
    tfm = ds.tfm.values
    scale = np.abs(tfm).max(axis=(1, 2))[:, None]
    assert np.all(np.abs(tfm.sum(axis=2)) <= 1e-9 * scale)
    assert np.all(np.abs(tfm.sum(axis=1)) <= 1e-9 * scale)
    assert float(ds.sfc_error.max()) <= 1e-9 * float(np.abs(tfm).max())
    # exports (the rest of the world's purchases in the matrix) fall when the lever acts
    ref = sim.run(sim.load_scenario(write_scenario(tmp_path, "", name="r.toml"),
                                    **{**SMALL, "run.months": 12, "economy.closure": "closed"}), seed=2, quiet=True)
    assert float(ds.exports[2]) < 0.95 * float(ref.exports[2])
    np.testing.assert_array_equal(ds.exports.values[:2], ref.exports.values[:2])


@pytest.mark.parametrize("line, key", [
    ("world_demand = -0.1", "world_demand"),
    ("world_demand = { steel = -1.0 }", "world_demand.steel"),
    ("tariff_abroad = -0.05", "tariff_abroad"),
    ("tariff_abroad = { textiles = 5.5 }", "tariff_abroad.textiles"),
])
def test_bad_values_exit_2_naming_file_and_key(tmp_path, line, key):
    for where in ("[policy]", '[schedule."2019-06"]'):
        path = write_scenario(tmp_path, f"{where}\n{line}\n", name="bad.toml")
        with pytest.raises(sim.ScenarioError) as e:
            sim.load_scenario(path)
        assert "bad.toml" in str(e.value) and key in str(e.value)
        r = CliRunner().invoke(main, ["validate", str(path)])
        assert r.exit_code == 2 and key in r.output + (r.stderr if r.stderr_bytes is not None else "")


def test_the_history_scenario_dates_world_demand_and_tariffs():
    from .conftest import SCENARIOS

    sc = sim.load_scenario(SCENARIOS / "history" / "decapacity_2016.toml")
    dated = {m: ch for m, ch in sc.schedule.items() if ch.world_demand is not None or ch.tariff_abroad is not None}
    assert dated, "the history run has no dated world demand or tariffs abroad"
    assert any(ch.tariff_abroad is not None for m, ch in dated.items() if m.startswith("2018"))
    assert any(ch.world_demand is not None for m, ch in dated.items() if m.startswith("2020"))


def test_the_history_world_demand_is_the_wto_series_over_its_trend():
    """The scenario's yearly index is derived from sim/data/history/trade.toml, not typed in: world trade
    volume relative to its 2012-2015 trend, from January of each year (2020 by quarter: its mean is the
    year's -5.3%)."""
    from sim.hindcast.data import load_history

    from .conftest import SCENARIOS

    h = load_history()
    trend = 1.0 + h.value("world_trade_volume_trend", 2015) / 100.0
    sc = sim.load_scenario(SCENARIOS / "history" / "decapacity_2016.toml")
    level = 1.0
    for y in range(2016, 2020):
        level *= 1.0 + h.value("world_trade_volume_growth", y) / 100.0
        assert sc.schedule[f"{y}-01"].world_demand == pytest.approx(level / trend ** (y - 2015), abs=1e-4)
    quarters = [sc.schedule[m].world_demand for m in ("2020-01", "2020-04", "2020-07", "2020-10")]
    year = level * (1.0 + h.value("world_trade_volume_growth", 2020) / 100.0) / trend**5
    assert np.mean(quarters) == pytest.approx(year, abs=1e-4)
    q2 = level * (1.0 + [p.value for p in h.series["world_trade_volume_growth_quarterly"].points
                         if p.quarter == 2][0] / 100.0) / trend**5
    assert quarters[1] == pytest.approx(q2, abs=1e-4)
