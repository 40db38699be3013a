"""Shared fixtures: small economies that run in well under a second once compiled."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SMALL = {"firms": 3000, "months": 36}


@pytest.fixture(scope="session")
def baseline():
    return sim.load_scenario(SCENARIOS / "baseline.toml", **SMALL)


@pytest.fixture(scope="session")
def baseline_run(baseline):
    return sim.run(baseline, seed=1)


def write_scenario(tmp_path: Path, body: str, name: str = "s.toml") -> Path:
    """A scenario file next to a copy of the baseline, extending it."""
    (tmp_path / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    p = tmp_path / name
    p.write_text('extends = "baseline.toml"\n' + body)
    return p


def run_text(tmp_path: Path, body: str, seed: int = 1, **over) -> sim.xr.Dataset:
    kw = dict(SMALL)
    kw.update(over)
    sc = sim.load_scenario(write_scenario(tmp_path, body), **kw)
    return sim.run(sc, seed=seed)


def assert_same_run(a: sim.xr.Dataset, b: sim.xr.Dataset) -> None:
    """Two runs' Datasets are identical, values and attributes, but for `history`, which records when
    each was made."""
    import xarray as xr

    strip = [ds.copy() for ds in (a, b)]
    for ds in strip:
        ds.attrs.pop("history", None)
    xr.testing.assert_identical(*strip)
