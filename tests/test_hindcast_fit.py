"""Issue 21 part 5: behavioural parameters estimated on 2016-2018 and judged on 2019-2020. The split
(no observation after 2018 can move an estimate; the judged years are exactly 2019-2020), the
search on a hand-made loss with a known minimum (no model runs), and `sim hindcast-fit` end to end
(small) with its bad-input exits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.hindcast.data import load_history
from sim.hindcast.fit import (
    FIT_SERIES,
    PARAMS,
    Param,
    estimate,
    judged_years,
    loss,
    observations_until,
    search,
    targets,
)
from sim.hindcast.measures import BY_NAME
from sim.scenario import ScenarioError
from tests.test_hindcast import cli  # `sim ARGS` in this process

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "scenarios" / "history" / "decapacity_2016.toml"
MEASURES = [BY_NAME[n] for n in FIT_SERIES]
A, B = PARAMS[0].name, PARAMS[1].name
TRUE = {A: 0.8, B: 0.2}


def linear_simulator(history, calls=None):
    """A stand-in for the model: each series in each year 2016-2020 is the observed value (or 5 where
    none) plus 3*(a - 0.8) for the first half of the series and 4*(b - 0.2) for the others, plus seed
    noise that cancels in the mean over seeds 0 and 1, so the loss is zero at a = 0.8, b = 0.2 and
    only there. It returns values for 2019-2020 too: a loss that read them would move."""
    def simulate(values, seed):
        if calls is not None:
            calls.append((dict(values), seed))
        out = {}
        for i, m in enumerate(MEASURES):
            shift = 3 * (values[A] - TRUE[A]) if i < len(MEASURES) // 2 else 4 * (values[B] - TRUE[B])
            out[m.series] = {}
            for y in range(2016, 2021):
                v = history.value(m.series, y)
                out[m.series][y] = (v if np.isfinite(v) else 5.0) + shift + 0.01 * (1 if seed else -1)
        return out
    return simulate


def _estimate(history, **kw):
    params = [Param(A, 0.0, 1.5), Param(B, 0.03, 0.6)]
    return estimate(linear_simulator(history), history, MEASURES, 2016, 2018, params, {A: 0.35, B: 0.15},
                    [0, 1], calibration="2016", design=kw.get("design", 16), refine=kw.get("refine", 6))


def test_the_search_finds_a_known_minimum_without_running_the_model():
    """A quadratic bowl with its minimum at (0.3, 0.7): the Sobol design and the compass search get
    there; the defaults are always the first candidate."""
    params = [Param("x", 0.0, 1.0), Param("y", 0.0, 1.0)]
    res = search(lambda v: (v["x"] - 0.3) ** 2 + 2 * (v["y"] - 0.7) ** 2, params, {"x": 0.9, "y": 0.1}, design=16,
                 refine=8)
    best, f = res.best()
    assert res.rows[0][2] == "defaults" and res.rows[0][0] == (0.9, 0.1)
    assert best == pytest.approx((0.3, 0.7), abs=0.01) and f < 1e-4
    assert {r[2] for r in res.rows} >= {"defaults", "design", "refine 1"}
    assert len(res.rows) <= 1 + 16 + 8 * 4  # each candidate evaluated once
    # a model-like stand-in, linear in each parameter: the estimate is where the series match
    est = _estimate(load_history())
    assert est.values[A] == pytest.approx(TRUE[A], abs=0.01) and est.values[B] == pytest.approx(TRUE[B], abs=0.01)
    assert est.loss < 1e-3 < est.loss_defaults


def test_the_estimate_cannot_see_the_years_after_2018(tmp_path):
    """Every observation from 2019 on replaced by nonsense, or dropped: the same estimate, loss and
    candidates; the targets hold 2016-2018 only."""
    h = load_history()
    t = targets(h, MEASURES, 2016, 2018, "2016")
    assert t.years == [2016, 2017, 2018] and set(t.observed) == set(FIT_SERIES)
    est = _estimate(h)
    garbled = h.__class__({n: s.model_copy(update={"points": [
        p.model_copy(update={"value": p.value * 7 + 1e3}) if p.year >= 2019 else p for p in s.points]})
        for n, s in h.series.items()}, h.files, h.missing, h.folder)
    assert garbled.value("ppi", 2020) != h.value("ppi", 2020)
    dropped = observations_until(h, 2018)
    assert max(dropped.years) == 2018 and np.isnan(dropped.value("ppi", 2019))
    for other in (garbled, dropped):
        e2 = _estimate(other)
        assert e2.values == est.values and e2.loss == est.loss and e2.search.rows == est.search.rows
    # a change in 2018 does move it (the check above is not vacuous)
    moved = h.__class__({n: s.model_copy(update={"points": [
        p.model_copy(update={"value": p.value + 3.0}) if p.year == 2018 else p for p in s.points]})
        for n, s in h.series.items()}, h.files, h.missing, h.folder)
    assert _estimate(moved).loss != est.loss


def test_the_model_runs_of_the_estimation_end_in_december_2018(monkeypatch):
    import sim.api as api
    from sim import load_scenario
    from sim.hindcast.fit import model_simulator

    sc = load_scenario(HISTORY, firms=300)
    calls = []
    real = api.run

    def spy(s, **kw):
        calls.append((s.run.start, s.run.months))
        return real(s, **kw)

    monkeypatch.setattr(api, "run", spy)
    out = model_simulator(sc, MEASURES, 2018)({A: 0.35, B: 0.15}, 0)
    assert calls == [("2016-01", 36)]
    assert max(y for v in out.values() for y in v) == 2018


def test_the_judged_years_are_exactly_2019_and_2020():
    h = load_history()
    assert judged_years(h, MEASURES, 2018) == [2019, 2020]
    assert judged_years(h, MEASURES, 2017) == [2018, 2019, 2020]


def test_the_out_of_sample_scores_count_2019_2020_only():
    """`hindcast(..., judged=(2019, 2020))` scores those years only and fits the AR(1) on the
    observations before 2019."""
    from sim.hindcast.core import build
    from sim.hindcast.data import History, Point, Series
    from sim.hindcast.measures import Measure

    years = [2015, 2016, 2017, 2018, 2019, 2020]
    obs = [10.0, 12.0, 11.0, 13.0, 14.0, 12.0]
    pts = [Point(year=y, value=v, source=f"hand-made, {y}", quality="sourced") for y, v in zip(years, obs, strict=True)]
    h = History({"x": Series(long_name="A ratio", units="%", group="gg", kind="ratio", points=pts)}, {}, {})
    m = Measure("x", "gg", "level: by hand", lambda ds: {})
    sim = np.array([[[np.nan], [12.0], [11.0], [13.0], [12.5], [12.0]]])
    ds = build([m], h, years, [0], sim, 2016, judged=(2019, 2020))
    assert int(ds.n_years.sel(series="x")) == 2 and ds.attrs["judged_years"] == "2019-2020"
    assert float(ds.rmse.sel(series="x")) == pytest.approx(np.sqrt(1.5 ** 2 / 2))
    assert float(ds.ar1_phi.sel(series="x")) == pytest.approx(-0.5)  # pairs 2015-2018 (test_hindcast.py)
    full = build([m], h, years, [0], sim, 2016)
    assert int(full.n_years.sel(series="x")) == 5


def test_the_loss_by_hand():
    from sim.hindcast.fit import Targets

    t = Targets({"a": {2017: 1.0, 2018: 2.0}, "b": {2018: 0.0}}, {"a": 1.0, "b": 2.0}, 2018)
    sims = [{"a": {2017: 2.0, 2018: 2.0}, "b": {2018: 1.0}}, {"a": {2017: 2.0, 2018: 4.0}, "b": {2018: 3.0}}]
    # a: errors of the seed mean 1 and 1 -> 1; b: (2 - 0) / 2 = 1 -> 1; mean 1
    assert loss(sims, t) == pytest.approx(1.0)
    assert loss([{"a": {2017: 1.0, 2018: 2.0}}], t) == pytest.approx(50.0)  # b missing: 100 scales^2


# --- `sim hindcast-fit` end to end, small ---------------------------------------------------------

def test_sim_hindcast_fit_runs_small_and_writes_a_fragment_a_scenario_extends(tmp_path):
    import shutil

    import sim

    d = tmp_path / "history"
    d.mkdir()
    shutil.copy(HISTORY, d / "decapacity_2016.toml")
    shutil.copy(ROOT / "scenarios" / "miit_2019.toml", tmp_path / "miit_2019.toml")
    for f in (ROOT / "scenarios").glob("*.toml"):
        if not (tmp_path / f.name).exists():
            shutil.copy(f, tmp_path / f.name)
    out = d / "est.toml"
    code, stdout, err = cli("hindcast-fit", d / "decapacity_2016.toml", "--firms", "300", "--design", "2",
                            "--refine", "0", "--fit-seeds", "7,", "--seeds", "1", "--param",
                            "behaviour.expectation_speed=0.05:0.5", "--out", out)
    assert code == 0, err
    assert "judged on 2019-2020" in stdout and "expectation_speed" in stdout
    text = out.read_text()
    assert "estimated on 2016-2018 by sim hindcast-fit" in text and "judged on 2019-2020" in text
    (d / "fitted.toml").write_text('extends = ["decapacity_2016.toml", "est.toml"]\nname = "fitted"\n')
    sc = sim.load_scenario(d / "fitted.toml")
    assert sc.run.start == "2016-01" and 0.05 <= sc.behaviour.expectation_speed <= 0.5
    assert sc.behaviour.markup_utilisation_response == 0.35  # only the estimated key changes
    # a second run may replace its own fragment
    code, _, err = cli("hindcast-fit", d / "decapacity_2016.toml", "--firms", "300", "--design", "1", "--refine", "0",
                       "--fit-seeds", "7,", "--seeds", "1", "--param", "behaviour.expectation_speed=0.05:0.5",
                       "--out", out, "-q")
    assert code == 0, err


@pytest.mark.parametrize("args,needle", [
    (("nope.toml",), "nope.toml"),
    (("{hist}", "--fit-until", "2020"), "--fit-until: 2020: no observed year after it"),
    (("{hist}", "--fit-until", "2015"), "--fit-until: 2015: before the scenario's first full year (2016)"),
    (("{hist}", "--param", "behaviour.nope=0:1"), "--param: behaviour.nope: no such numeric key"),
    (("{hist}", "--param", "behaviour.loss_months_exit=6:24"), "no such numeric key of the scenario with real"),
    (("{hist}", "--param", "behaviour.normal_utilisation=0.5:0.9"), "not a behavioural assumption"),
    (("{hist}", "--param", "behaviour.expectation_speed=0.5:0.1"), "need finite LO < HI"),
    (("{hist}", "--param", "behaviour.expectation_speed=0:0.5"), "bound 0 is outside the key's range"),
    (("{hist}", "--param", "behaviour.dividend_payout"), "give bounds, NAME=LO:HI"),
    (("{hist}", "--fit-seeds", "0,9", "--seeds", "1"), "--fit-seeds: 0: also judging seeds"),
    (("{hist}", "--out", "{txt}"), "--out: "),
    (("{hist}", "--out", "{other}"), "exists and was not written by sim hindcast-fit"),
    (("{hist}", "--series", "steel_price"), "--series: steel_price: no such series"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, needle):
    other = tmp_path / "other.toml"
    other.write_text("x = 1\n")
    subs = {"{hist}": HISTORY, "{txt}": tmp_path / "e.txt", "{other}": other}
    code, _, err = cli("hindcast-fit", "--firms", "300", "--design", "1", "--refine", "0", "--fit-seeds", "9,10",
                       *[subs.get(a, a) for a in args])
    assert code == 2, err
    assert needle in err and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert other.read_text() == "x = 1\n" and not (tmp_path / "e.txt").exists()


def test_the_parameters_estimated_by_default_are_assumptions():
    from sim.hindcast.fit import _field

    for p in PARAMS:
        assert "assumption" in _field(p.name), p.name
    with pytest.raises(ScenarioError, match="not a behavioural assumption"):
        from sim.hindcast.fit import parse_param

        parse_param("behaviour.normal_utilisation=0.5:0.9")


def test_the_committed_estimates_and_the_page_agree():
    """scenarios/history/estimated_2016_2018.toml (written by python -m sim.hindcast.page) holds
    each default parameter inside its search range, a scenario extends it after the history, and
    docs/history.md states the split."""
    import tomllib

    import sim

    frag = ROOT / "scenarios" / "history" / "estimated_2016_2018.toml"
    values = tomllib.loads(frag.read_text())
    assert set(values) == {"behaviour"}
    for p in PARAMS:
        assert p.lo <= values["behaviour"][p.name.split(".")[1]] <= p.hi, p.name
    assert "estimated on 2016-2018" in frag.read_text() and "judged on 2019-2020" in frag.read_text()
    page = (ROOT / "docs" / "history.md").read_text()
    assert "## Estimation: fitted on 2016-2018, judged on 2019-2020" in page
    section = page.split("<!-- history-fit:start -->")[1].split("<!-- history-fit:end -->")[0]
    for p in PARAMS:
        assert f"`{p.name}`" in section
    assert "| `ppi` | 2019,2020 |" in section  # judged on 2019-2020 only
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(ROOT / "scenarios", Path(d) / "scenarios")
        f = Path(d) / "scenarios" / "history" / "fitted.toml"
        f.write_text('extends = ["decapacity_2016.toml", "estimated_2016_2018.toml"]\nname = "fitted"\n')
        sc = sim.load_scenario(f)
    assert sc.run.calibration == "2016"
    assert sc.behaviour.expectation_speed == values["behaviour"]["expectation_speed"]
