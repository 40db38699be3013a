"""Outputs follow CF-1.8 as the tools economists use read it: every variable quantifies with
pint-xarray (sim.units.registry()), flows and stocks say so in cell_methods, provenance attributes."""

from __future__ import annotations

import cf_xarray  # noqa: F401 - registers the .cf accessor
import pint_xarray  # noqa: F401 - registers the .pint accessor
import pytest

import sim
from sim.records import VARIABLES


@pytest.fixture(scope="module")
def run():
    return sim.run(sim.load_scenario("scenarios/baseline.toml", firms=300, months=3), seed=0, quiet=True)


def test_every_variable_quantifies_with_pint(run):
    ureg = sim.units.registry()
    q = run.pint.quantify(unit_registry=ureg)
    for name in VARIABLES:
        assert q[name].pint.units is not None, name
    assert q.output.pint.units.dimensionality == ureg("yuan/month").dimensionality
    assert q.n_firms.pint.units == ureg.firm and q.employment.pint.units == ureg.person
    assert q.loan_rate.pint.units == ureg("1/year").units
    money = [n for n, (_, u, _) in VARIABLES.items() if "yuan" in u and u != "yuan/yuan"]
    assert all("price_base" in run[n].attrs for n in money if n != "sfc_error")
    assert run.output.attrs["price_base"] == "constant 2019 prices" and run.gdp.attrs["price_base"] == "current prices"


def test_cell_methods_tell_flows_from_stocks(run):
    methods = {n: run[n].attrs["cell_methods"] for n in VARIABLES}
    assert set(methods.values()) <= {"time: mean", "time: point", "time: maximum"}
    assert methods["output"] == "time: mean" and methods["revenue"] == "time: mean"  # monthly rates
    assert methods["capacity"] == "time: point" and methods["credit_total"] == "time: point"  # stocks
    assert methods["sfc_error"] == "time: maximum"
    assert run.cf["T"].name == "time"


def test_provenance_attributes(run):
    for key in ("title", "history", "source", "Conventions", "git_commit", "library_versions", "scenario_toml",
                "seed", "engine_version"):
        assert run.attrs.get(key) not in (None, ""), key
    assert run.attrs["Conventions"] == "CF-1.8" and "numba" in run.attrs["library_versions"]
    assert "baseline" in run.attrs["title"] and "seed 0" in run.attrs["history"]
