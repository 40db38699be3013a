"""Issue 21, answer to history: the observed series and their sources, the scoring of a hindcast on
a hand-made case, and `sim hindcast` end to end (small) with its bad-input exits."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.hindcast.data import QUALITIES, data_files, load_history
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "sim" / "data" / "history"


# --- the data files ---------------------------------------------------------------------------

def test_every_observed_point_has_a_source_and_a_quality():
    h = load_history()
    assert len(h.series) >= 25 and h.years[0] == 2015 and h.years[-1] == 2020
    n = 0
    for name, s in h.series.items():
        for p in s.points:
            n += 1
            assert p.source.strip() and any(str(y) in p.source for y in range(2000, 2031)), (name, p.year)
            assert p.quality in QUALITIES
            if p.quality == "derived":
                assert p.note, f"{name} {p.year}: a derived figure shows its formula"
    assert n >= 90


def test_the_raw_files_agree_with_the_loader():
    """Counted from the TOML text itself, so a loader that dropped points would fail here."""
    raw = 0
    for f in data_files():
        for s in tomllib.loads(f.read_text())["series"].values():
            raw += len(s["points"])
            assert all(p["source"] for p in s["points"])
    assert raw == sum(len(s.points) for s in load_history().series.values())


def test_known_figures_are_what_the_sources_say():
    h = load_history()
    assert h.value("utilisation_industry", 2019) == 76.6
    assert h.value("utilisation_industry", 2017) == 77.0
    assert h.value("npl_ratio", 2019) == 1.86
    assert h.value("inclusive_sme_loan_growth", 2020) == 30.3
    assert np.isnan(h.value("debt_to_assets", 2015))  # not found: left out, not guessed
    ds = h.to_dataset()
    assert set(ds.data_vars) == {"value", "source", "url", "quality"}
    assert ds.units.sel(series="ppi").item() == "%"
    assert "MoF" in ds.source.sel(series="vat_revenue", year=2018).item()


def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "history"
    shutil.copytree(HISTORY, d)
    return d


PPI_2020 = "[[series.ppi.points]]\nyear = 2020\n"


@pytest.mark.parametrize("old,new", [
    ('source = "NBS via Xinhua / People\'s Daily, 2021-01-11"', 'source = ""'),  # no source
    ('source = "NBS via Xinhua / People\'s Daily, 2021-01-11"', 'source = "NBS via Xinhua"'),  # no year
    ("value = -1.8", 'value = "-1.8"'),                                            # a string, not a number
    ('quality = "sourced"', 'quality = "good"'),                                    # unknown quality
    ("value = -1.8", 'value = -1.8\nunit = "%"'),                                  # unknown key
])
def test_a_bad_point_is_named_by_file_and_key(tmp_path, old, new):
    d = _copy(tmp_path)
    f = d / "industry.toml"
    head, tail = f.read_text().split(PPI_2020)
    assert old in tail
    f.write_text(head + PPI_2020 + tail.replace(old, new, 1))
    with pytest.raises(ScenarioError) as e:
        load_history(d)
    assert "industry.toml: series.ppi.points[5]" in str(e.value), str(e.value)


def test_quarterly_points_name_their_quarter_and_stay_out_of_the_annual_view(tmp_path):
    h = load_history()
    q = h.series["utilisation_industry_quarterly"]
    assert q.frequency == "quarterly" and {(p.year, p.quarter) for p in q.points} >= {(2020, 1), (2020, 4)}
    assert "utilisation_industry_quarterly" not in h.to_dataset().series.values
    assert np.isnan(h.value("utilisation_industry_quarterly", 2020))  # no annual value from a quarter
    for old, new, msg in [("quarter = 1\nvalue = 67.3", "value = 67.3", "give `quarter`"),
                          ("quarter = 4\nvalue = 78.0", "quarter = 3\nvalue = 78.0", "more than one point for 2020Q3"),
                          ("quarter = 3\nvalue = 76.7", "quarter = 5\nvalue = 76.7", "less than or equal to 4")]:
        d = _copy(tmp_path / old[:11].replace(" ", "").replace("\n", ""))
        f = d / "quarterly.toml"
        assert old in f.read_text()
        f.write_text(f.read_text().replace(old, new, 1))
        with pytest.raises(ScenarioError, match="quarterly.toml: series.utilisation_industry_quarterly") as e:
            load_history(d)
        assert msg in str(e.value), str(e.value)
    d = _copy(tmp_path / "annual")
    f = d / "credit.toml"
    f.write_text(f.read_text().replace("year = 2019\nvalue = 1.86", "year = 2019\nquarter = 4\nvalue = 1.86"))
    with pytest.raises(ScenarioError, match="series.npl_ratio: .*annual series' points give no `quarter`"):
        load_history(d)


def test_a_duplicate_year_and_a_series_in_two_files_are_refused(tmp_path):
    d = _copy(tmp_path)
    f = d / "credit.toml"
    f.write_text(f.read_text().replace("year = 2018\nvalue = 1.83", "year = 2017\nvalue = 1.83"))
    with pytest.raises(ScenarioError, match=r"credit.toml: series.npl_ratio: .*more than one point for year 2017"):
        load_history(d)
    d2 = _copy(tmp_path / "b")
    (d2 / "extra.toml").write_text((d2 / "credit.toml").read_text())
    with pytest.raises(ScenarioError, match="also defined in"):
        load_history(d2)


# --- scoring on a hand-made case --------------------------------------------------------------

YEARS = [2015, 2016, 2017, 2018, 2019, 2020]
OBS = [10.0, 12.0, 11.0, 13.0, 14.0, 12.0]
SIM = [[np.nan] * 4 + [12.0, 13.0],    # seed 0
       [np.nan] * 4 + [13.0, 11.0],    # seed 1
       [np.nan] * 4 + [12.5, 12.0]]    # seed 2: medians 12.5 (2019) and 12.0 (2020)


def test_scores_of_a_ratio_series_computed_by_hand():
    from sim.hindcast.score import score

    s, per = score(YEARS, OBS, SIM, "ratio", fit_before=2019)
    assert s.n_years == 2
    # errors of the median: 12.5 - 14 = -1.5 and 12 - 12 = 0
    assert s.rmse == pytest.approx(np.sqrt((1.5 ** 2 + 0) / 2))
    assert s.mae == pytest.approx(0.75)
    # bands [12, 13] (2019, observed 14: out) and [11, 13] (2020, observed 12: in)
    assert s.band_hits == pytest.approx(0.5)
    np.testing.assert_array_equal(per["in_band"][-2:], [0.0, 1.0])
    # signs: 2019 observed +1 (13 -> 14), model 12.5 - 13 < 0: wrong; 2020 observed -2, model 12 - 12.5 < 0: right
    np.testing.assert_array_equal(per["sign_hit"][-2:], [0.0, 1.0])
    assert s.sign_hits == pytest.approx(0.5)
    # random walk: 13 for 2019 (error -1), 14 for 2020 (error +2)
    np.testing.assert_array_equal(per["random_walk"][-2:], [13.0, 14.0])
    assert s.rmse_random_walk == pytest.approx(np.sqrt((1 + 4) / 2))
    assert s.mae_random_walk == pytest.approx(1.5)
    # AR(1) on 2015-2018 only: pairs (10,12), (12,11), (11,13): phi = -1/2, c = 12 + 11/2 = 17.5
    assert s.ar1_phi == pytest.approx(-0.5) and s.ar1_const == pytest.approx(17.5)
    # forecasts 17.5 - 13/2 = 11 (2019) and 17.5 - 14/2 = 10.5 (2020): errors -3 and -1.5
    np.testing.assert_allclose(per["ar1"][-2:], [11.0, 10.5])
    assert s.rmse_ar1 == pytest.approx(np.sqrt((9 + 2.25) / 2))
    assert s.mae_ar1 == pytest.approx(2.25)


def test_growth_signs_calibrated_years_and_gaps():
    from sim.hindcast.score import fit_ar1, score

    # a growth series: the sign of the growth itself counts (2019 +1.3 vs +2: right; 2020 -8.9 vs +3: wrong)
    obs = [np.nan, 30.9, 8.0, 9.1, 1.3, -8.9]
    s, per = score(YEARS, obs, [[np.nan] * 4 + [2.0, 3.0]], "growth", fit_before=2019)
    np.testing.assert_array_equal(per["sign_hit"][-2:], [1.0, 0.0])
    assert s.sign_hits == 0.5
    # only 2 consecutive pairs before 2019 (2016-17, 2017-18): no AR(1)
    assert np.isnan(s.ar1_phi) and np.isnan(s.rmse_ar1) and fit_ar1(YEARS, obs, 2019).pairs == 2
    # a calibrated year is not scored: 2019 drops out, 2020 alone is scored
    s, per = score(YEARS, OBS, SIM, "ratio", fit_before=2019, scored=[True] * 4 + [False, True])
    assert s.n_years == 1 and s.rmse == 0.0 and s.rmse_random_walk == 2.0 and np.isnan(per["in_band"][4])
    # a gap before the year: the random walk carries the last observation, the AR(1) iterates two steps
    gap = [10.0, 12.0, 11.0, 13.0, np.nan, 12.0]
    s, per = score(YEARS, gap, SIM, "ratio", fit_before=2019)
    assert per["random_walk"][-1] == 13.0 and per["ar1"][-1] == pytest.approx(17.5 - 0.5 * (17.5 - 0.5 * 13.0))


def test_the_dataset_of_a_hand_made_case_has_units_and_the_scores():
    from sim.hindcast.core import build
    from sim.hindcast.data import History, Point, Series
    from sim.hindcast.measures import Measure

    pts = [Point(year=y, value=v, source=f"hand-made, {y}", quality="sourced") for y, v in zip(YEARS, OBS, strict=True)]
    h = History({"x": Series(long_name="A ratio", units="%", group="gg", kind="ratio", points=pts)}, {}, {})
    m = Measure("x", "gg", "level: by hand", lambda ds: {}, calibrated=())
    ds = build([m], h, YEARS, [0, 1, 2], np.array([np.array(SIM).T]), 2019)
    assert ds.simulated.dims == ("series", "year", "seed")
    for v in ds.data_vars.values():
        assert v.attrs.get("units") and v.attrs.get("long_name"), v.name
    assert float(ds.rmse.sel(series="x")) == pytest.approx(np.sqrt(1.125))
    assert float(ds.sign_hits.sel(series="x")) == 0.5
    assert ds.attrs["sim_output"] == "hindcast"


# --- `sim hindcast` end to end, small ---------------------------------------------------------

def cli(*args):
    """`sim ARGS` in this process: (exit code, stdout, stderr); a traceback would be re-raised."""
    from click.testing import CliRunner

    from sim.cli import main

    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


def test_sim_hindcast_runs_small_and_writes_a_dataset(tmp_path):
    import xarray as xr

    from sim.hindcast.measures import MEASURES

    out, fig = tmp_path / "h.nc", tmp_path / "h.png"
    code, stdout, err = cli("hindcast", ROOT / "scenarios" / "miit_2019.toml", "--seeds", "2", "--firms", "1000",
                            "--out", out, "--plot", fig)
    assert code == 0, err
    assert "utilisation_industry" in stdout and fig.stat().st_size > 10_000
    ds = xr.open_dataset(out)
    assert ds.attrs["sim_output"] == "hindcast" and ds.attrs["first_year"] == 2019
    assert ds.sizes["seed"] == 2 and list(ds.year.values) == [2015, 2016, 2017, 2018, 2019, 2020]
    assert set(ds.series.values) == {m.series for m in MEASURES}
    for name in ("observed", "simulated", "sim_median", "sim_min", "sim_max", "random_walk", "ar1", "rmse", "mae",
                 "sign_hits", "band_hits", "rmse_random_walk", "rmse_ar1", "calibrated"):
        assert ds[name].attrs["units"] and ds[name].attrs["long_name"], name
    sim = ds.simulated
    assert np.isnan(sim.sel(year=slice(2015, 2018))).all()             # nothing simulated before the start
    assert np.isfinite(sim.sel(year=2020, series="utilisation_industry")).all()
    assert np.isfinite(sim.sel(year=2019, series="inclusive_sme_loan_growth")).all()
    assert np.isnan(sim.sel(year=2019, series="vat_revenue_growth")).all()  # a flow's growth needs the year before
    # the observed values are the data files' and the scores are the score function's on them
    assert float(ds.observed.sel(series="npl_ratio", year=2020)) == 1.84
    x = ds.sel(series="crude_steel_output_growth")
    assert float(x.rmse) == pytest.approx(abs(float(x.sim_median.sel(year=2020)) - 5.2))
    assert float(x.rmse_random_walk) == pytest.approx(abs(8.3 - 5.2))
    assert int(ds.calibrated.sel(series="utilisation_industry", year=2019)) == 1
    assert int(ds.n_years.sel(series="utilisation_industry")) == 1  # 2019 is calibrated, 2020 scored
    # a second run may replace its own output
    code, _, err = cli("hindcast", ROOT / "scenarios" / "miit_2019.toml", "--seeds", "1", "--firms", "500",
                       "--series", "npl_ratio", "--out", out, "-q")
    assert code == 0, err
    assert list(xr.open_dataset(out).series.values) == ["npl_ratio"]


def _late(folder: Path, start: str) -> Path:
    folder.mkdir()
    (folder / "baseline.toml").write_text((ROOT / "scenarios" / "baseline.toml").read_text())
    p = folder / "late.toml"
    p.write_text(f'extends = "baseline.toml"\nname = "late"\n\n[run]\nstart = "{start}"\n')
    return p


@pytest.mark.parametrize("args,needle", [
    (("nope.toml",), "nope.toml"),
    (("{miit}", "--series", "utilisation_industry,steel_price"), "--series: steel_price: no such series"),
    (("{late2021}",), "late.toml: run.start: starts 2021-01"),
    (("{late2020}",), "late.toml: run.start: starts 2020-06: its first full year (2021)"),
    (("{miit}", "--data", "{baddata}"), "industry.toml: series.ppi.points[5].quality"),
    (("{miit}", "--data", "{nodata}"), "no such folder of history data"),
    (("{miit}", "--data", "{othdata}"), "none of the series the model maps onto is in these files"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, args, needle):
    bad = _copy(tmp_path)
    f = bad / "industry.toml"
    head, tail = f.read_text().split(PPI_2020)
    f.write_text(head + PPI_2020 + tail.replace('quality = "sourced"', 'quality = "good"', 1))
    subs = {"{miit}": ROOT / "scenarios" / "miit_2019.toml", "{late2021}": _late(tmp_path / "a", "2021-01"),
            "{late2020}": _late(tmp_path / "b", "2020-06"),
            "{baddata}": bad, "{nodata}": tmp_path / "missing", "{othdata}": tmp_path / "other"}
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.toml").write_text(
        '[series.foo]\nlong_name = "Foo"\nunits = "t"\ngroup = "xx"\nkind = "level"\n'
        '[[series.foo.points]]\nyear = 2019\nvalue = 1.0\nsource = "hand-made, 2026"\nquality = "sourced"\n')
    out = tmp_path / "out" / "h.nc"
    out.parent.mkdir()
    code, _, err = cli("hindcast", *[subs.get(a, a) for a in args], "--seeds", "1", "--firms", "300", "--out", out,
                       "--plot", out.with_suffix(".png"))
    assert code == 2, err
    assert needle in err and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert list(out.parent.iterdir()) == []  # nothing written, no temporary left


# --- the docs page ----------------------------------------------------------------------------

def test_the_data_table_of_docs_history_is_current():
    """The page's data table is the data files' (the model's part changes with the model and is
    regenerated by `python -m sim.hindcast.page`)."""
    from sim.hindcast.page import data_section, data_table

    page = (ROOT / "docs" / "history.md").read_text()
    assert data_section(page) == data_table(load_history()), "regenerate: python -m sim.hindcast.page --data-only"
    assert "../shared" not in page
    assert "](docs/history.md)" in (ROOT / "README.md").read_text()


def test_the_page_sorts_series_by_what_the_numbers_say():
    import xarray as xr

    from sim.hindcast.page import verdicts

    ds = xr.Dataset(
        {"n_years": ("series", [1, 1, 1, 0]), "rmse": ("series", [1.0, 3.0, 5.0, np.nan]),
         "rmse_random_walk": ("series", [2.0, 2.0, 2.0, np.nan]), "band_hits": ("series", [0.0, 1.0, 0.0, np.nan]),
         "sign_hits": ("series", [1.0, 0.0, 0.0, np.nan]),
         "observed": (("series", "year"), [[1.0], [1.0], [1.0], [np.nan]]),
         "sim_median": (("series", "year"), [[2.0], [4.0], [6.0], [np.nan]]),
         "sim_min": (("series", "year"), [[2.0], [0.0], [6.0], [np.nan]]),
         "sim_max": (("series", "year"), [[2.0], [4.0], [6.0], [np.nan]]),
         "calibrated": (("series", "year"), [[0], [0], [0], [0]])},
        coords={"series": ["ppi", "npl_ratio", "vat_revenue_growth", "profit_to_revenue"], "year": [2020],
                "long_name_series": ("series", ["A", "B", "C", "D"])})
    gets, partly, misses, none = verdicts(ds)
    assert [g.split("**")[1] for g in gets] == ["A"] and "(beaten)" in gets[0]
    assert [p.split("**")[1] for p in partly] == ["B"]
    assert [m.split("**")[1] for m in misses] == ["C"] and "(beaten)" not in misses[0]
    assert [n.split("**")[1] for n in none] == ["D"]


def test_the_vat_cut_relief_is_a_difference_of_two_runs_on_the_same_seed():
    from sim.hindcast.policy import RELIEF_SERIES, vat_cut_relief

    base, cut = ROOT / "scenarios" / "baseline.toml", ROOT / "scenarios" / "vat_cut.toml"
    assert vat_cut_relief(base, base, [3], firms=300).tolist() == [0.0]  # no cut, no relief
    r = vat_cut_relief(base, cut, [3, 4], firms=300)
    assert r.shape == (2,) and np.isfinite(r).all() and (r != 0).all()
    assert load_history().value(RELIEF_SERIES, 2019) == 473.8


def test_measures_on_a_run_that_starts_in_june():
    """A run from 2019-06: ratios are compared from the first full year (2020); a flow's growth needs
    two full years, so none; a stock's growth in 2020 uses December 2019, which the run holds."""
    import sim
    from sim.hindcast.core import hindcast

    sc = sim.load_scenario(ROOT / "scenarios" / "baseline.toml", firms=300, start="2019-06")
    ds = hindcast(sc, [0], series=["inclusive_sme_loan_growth", "utilisation_industry", "vat_revenue_growth",
                                   "npl_ratio"])
    assert ds.attrs["first_year"] == 2020
    sim_ = ds.simulated.sel(seed=0)
    assert np.isfinite(sim_.sel(year=2020, series=["inclusive_sme_loan_growth", "utilisation_industry"])).all()
    assert np.isnan(sim_.sel(series="vat_revenue_growth")).all()
    assert np.isnan(sim_.sel(year=2019)).all()  # December 2019's NPL ratio too: 2019 is before the first full year
