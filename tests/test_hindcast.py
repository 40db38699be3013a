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
    assert np.isnan(h.value("npl_ratio", 2015))  # not found: left out, not guessed
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
