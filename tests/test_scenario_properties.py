"""Property-based tests (Hypothesis) of the scenario-file contract.

Generated files are either valid (policy levers and dated changes within their documented ranges)
or made invalid in one place (a wrong type, a number out of range, `inf` or `nan`, an unknown key or
sector). Valid ones load, run small and close their accounts; invalid ones raise a ScenarioError that
names the file and the key, and `sim run` exits 2 with that one line and writes nothing.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import annotated_types as at
import numpy as np
import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sim
from sim.cli import main
from sim.scenario import SECTORS
from sim.scenario.reference import field_constraints
from sim.scenario.schema import PER_SECTOR_POLICY, Policy
from sim.scenario.warnings import scenario_warnings

from .conftest import SCENARIOS

BASELINE = (SCENARIOS / "baseline.toml").read_text()


def _bounds(field) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low open, high open) of a field, from the constraints the reference documents."""
    lo = hi = None
    lo_open = hi_open = False
    for m in field_constraints(field):
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi, hi_open = m.lt, True
    return lo, hi, lo_open, hi_open


def _kind(name: str) -> type:
    f = Policy.model_fields[name]
    default = f.default if not isinstance(f.default, dict) else 0.0
    return type(default)


NUMERIC = [n for n in Policy.model_fields if _kind(n) in (float, int)]
BOOLEAN = [n for n in Policy.model_fields if _kind(n) is bool]
# levers with a documented upper bound: a valid file stays within the model's documented ranges
BOUNDED = [n for n in NUMERIC if _bounds(Policy.model_fields[n])[1] is not None]


def _number(name: str) -> st.SearchStrategy[float]:
    lo, hi, lo_open, hi_open = _bounds(Policy.model_fields[name])
    return st.floats(min_value=lo, max_value=hi, exclude_min=lo_open, exclude_max=hi_open, allow_nan=False,
                     allow_infinity=False)


@st.composite
def lever(draw, names=BOUNDED) -> tuple[str, Any]:
    """A valid (key, value): a number, a boolean, or a table naming some sectors."""
    name = draw(st.sampled_from(names + BOOLEAN))
    one = st.booleans() if name in BOOLEAN else _number(name)
    if name in PER_SECTOR_POLICY and draw(st.booleans()):
        sectors = draw(st.lists(st.sampled_from(SECTORS), min_size=1, max_size=3, unique=True))
        return name, {s: draw(one) for s in sectors}
    return name, draw(one)


@st.composite
def valid_doc(draw) -> dict[str, Any]:
    doc: dict[str, Any] = {"extends": "baseline.toml"}
    doc["policy"] = dict(draw(st.lists(lever(), max_size=4, unique_by=lambda kv: kv[0])))
    months = draw(st.lists(st.sampled_from(["2019-02", "2019-03", "2019-04-01"]), max_size=2, unique=True))
    doc["schedule"] = {m: dict(draw(st.lists(lever(), min_size=1, max_size=2, unique_by=lambda kv: kv[0])))
                       for m in months}
    return doc


def _bad_value(name: str) -> st.SearchStrategy[tuple[Any, str]]:
    """A value that must be refused for `name`, with the words the error must say."""
    lo, hi, lo_open, hi_open = _bounds(Policy.model_fields[name]) if name not in BOOLEAN else (None,) * 4
    bad = [st.just((True, "valid number")) if name not in BOOLEAN else st.just((1, "valid boolean")),
           st.just(("0.13", "valid")), st.just((math.inf, "finite" if name not in BOOLEAN else "valid")),
           st.just((math.nan, "finite" if name not in BOOLEAN else "valid")), st.just(([0.1], "valid"))]
    if hi is not None:
        bad.append(st.floats(min_value=hi, max_value=hi + 10, exclude_min=not hi_open).map(lambda x: (x, "less")))
    if lo is not None:
        bad.append(st.floats(min_value=lo - 10, max_value=lo, exclude_max=not lo_open)
                   .map(lambda x: (x, "greater")))
    return st.one_of(bad)


@st.composite
def invalid_doc(draw) -> tuple[dict[str, Any], str, str]:
    """A valid document with one fault: (document, the key the error must name, words it must say)."""
    doc = draw(valid_doc())
    fault = draw(st.sampled_from(["value", "table value", "unknown key", "unknown sector", "schedule value"]))
    name = draw(st.sampled_from(NUMERIC + BOOLEAN))
    if fault == "unknown key":
        key = draw(st.sampled_from(["policy", "run", "behaviour", "banking"]))
        doc.setdefault(key, {})["no_such_key"] = 1.0
        return doc, f"{key}.no_such_key", "unknown key"
    if fault == "unknown sector":
        name = draw(st.sampled_from(PER_SECTOR_POLICY))
        doc["policy"][name] = {"steal": 0.0}
        return doc, f"policy.{name}.steal", "steel"
    value, words = draw(_bad_value(name))
    if fault == "table value" and name in PER_SECTOR_POLICY:
        doc["policy"][name] = {"cement": value}
        return doc, f"policy.{name}.cement", words
    if fault == "schedule value":
        doc["schedule"].setdefault("2019-05", {})[name] = value
        return doc, f"schedule.2019-05.{name}", words
    doc["policy"][name] = value
    return doc, f"policy.{name}", words


def _baseline_policy(folder: Path) -> dict[str, Any]:
    """The [policy] table of the baseline a generated file extends, as written."""
    import tomllib

    return tomllib.loads((folder / "baseline.toml").read_text()).get("policy", {})


def _write(folder: Path, doc: dict[str, Any]) -> Path:
    (folder / "baseline.toml").write_text(BASELINE)
    path = folder / "generated.toml"
    path.write_text(tomli_w.dumps(doc))
    return path


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                       HealthCheck.too_slow])


@settings(max_examples=60, **SETTINGS)
@given(case=invalid_doc())
def test_an_invalid_file_names_its_key_and_writes_nothing(tmp_path_factory, case):
    doc, key, words = case
    folder = tmp_path_factory.mktemp("bad")
    path = _write(folder, doc)
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}: {key}: "), (msg, key)
    assert words in msg, (msg, words)
    out = folder / "out.nc"
    r = CliRunner().invoke(main, ["run", str(path), "--out", str(out), "--firms", "200", "--months", "2", "-q"])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert r.stderr.strip() == f"error: {msg}"
    assert sorted(p.name for p in folder.iterdir()) == ["baseline.toml", "generated.toml"]


@settings(max_examples=12, **SETTINGS)
@given(doc=valid_doc())
# a sector the file leaves out keeps the baseline's capacity rule (cement's 1.25), not the default 0
@example(doc={"extends": "baseline.toml", "policy": {"replacement_ratio": {"steel": 0.0}}, "schedule": {}})
# an instrument written as one value for every sector (the set-up's compliant pipeline read it as a table)
@example(doc={"extends": "baseline.toml", "policy": {"ban_new_capacity": False}, "schedule": {}})
# a status quo the 2019 accounts cannot carry (households' purchases at a 100% VAT exceed their budget):
# one ScenarioError naming the key, not a ValueError from inside the run (found by hypothesis, 2026-12)
@example(doc={"extends": "baseline.toml", "policy": {"vat_rate": 1.0}, "schedule": {}})
# the same in a table by sector: the error names the sector's key, as its warning does (hypothesis, 2026-12)
@example(doc={"extends": "baseline.toml", "policy": {"vat_rate": {"steel": 0.0, "textiles": 1.0}}, "schedule": {}})
# no exports at the start: the 2019 current account cannot be met; a 98% purchase subsidy for machinery
# from the start: the rest of the economy's tax rate cannot meet 2019's disposable income (both found by
# hypothesis, 2026-12)
@example(doc={"extends": "baseline.toml", "policy": {"world_demand": 0.0}, "schedule": {}})
@example(doc={"extends": "baseline.toml", "policy": {"purchase_subsidy": {"steel": 0.0, "machinery": 0.984375}},
              "schedule": {}})
def test_a_valid_file_runs_and_closes_its_accounts(tmp_path_factory, doc):
    folder = tmp_path_factory.mktemp("ok")
    sc = sim.load_scenario(_write(folder, doc), firms=300, months=4)
    # every table names every sector, the sectors a file did not name at what the file it extends
    # gives them (the baseline's capacity rules), else at the default
    inherited = _baseline_policy(folder)
    for name in PER_SECTOR_POLICY:
        value = getattr(sc.policy, name)
        if isinstance(value, dict):
            assert list(value) == list(SECTORS)
            written = doc["policy"].get(name)
            default = Policy.model_fields[name].default
            parent = inherited.get(name)
            for s in SECTORS:
                if isinstance(written, dict) and s not in written:
                    if isinstance(parent, dict):
                        want = parent.get(s, default.get(s, 0.0) if isinstance(default, dict) else default)
                    elif parent is not None:
                        want = parent
                    else:
                        want = default.get(s, 0.0) if isinstance(default, dict) else default
                    assert value[s] == want
    try:
        ds = sim.run(sc, seed=1)
    except sim.ScenarioError as e:
        # only a status quo outside the usual ranges (a warning names it) may be refused, naming that key
        assert e.key.startswith("policy.") and any(w.startswith(f"policy.{e.key[7:]} = ") for w in
                                                   scenario_warnings(sc)), (e, scenario_warnings(sc))
        assert "2019" in e.message
        return
    credit = float(ds.credit_total.max())
    assert np.isfinite(credit) and credit > 0
    assert float(ds.sfc_error.max()) <= 1e-9 * credit
    assert np.isfinite(ds.output.values).all()
