"""Shared fixtures: small economies that run in well under a second once compiled."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SMALL = {"firms": 3000, "months": 36}

# Tests that take tens of seconds (`pytest --durations=40` on the 2-core machine, 2026-12-08), started
# first, longest first. The README's `pytest -n 2` deals the tests to its two workers in collection
# order; collected in file order, the cold-cache sweep (about three minutes) started late and the
# other worker sat idle at the end (8 min 24 s of wall time for 11 min 37 s of CPU). A test renamed
# or removed here only loses its place. (No test may count on running on the same worker as
# another: a module's fixtures are made once in each worker that runs one of its tests.)
LONG_FIRST = (
    "tests/test_sweep.py::test_scheduler_equals_one_worker_cold_then_warm_cache",
    "tests/test_cluster_slurm.py::test_slurm_sweep_equals_local_and_resumes_after_scancel",
    "tests/test_explore.py::test_the_page_loads_runs_a_scenario_and_shows_the_figure",
    "tests/test_threads_and_cache.py::test_warmup_reaches_every_kernel_the_engines_call",
    "tests/test_engine.py::test_exit_kernel_closes_exactly_the_failing_rows_in_every_chunk",
    "tests/test_cli.py::test_banks_option_sets_the_bank_count_and_refuses_bad_values",
    "tests/test_sweep_faults.py::test_garbage_chunk_through_the_command_line",
    "tests/test_notebook.py::test_example_notebook_runs",
    "tests/test_bundles_credit.py::test_allocate_credit_drawn_writes_every_applicant",
    "tests/test_threads_and_cache.py::test_compare_and_check_facts_on_workers_equal_serial_runs",
    "tests/test_docs.py::test_python_in_the_docs_runs[sweeps.md:289]",
    "tests/test_sweep.py::test_killed_sweep_resumes_to_the_same_store_without_rerunning_done_runs",
    "tests/test_reference.py::test_parallel_chunks_give_the_same_results_for_any_thread_count",
    "tests/test_engine.py::test_thread_count_does_not_change_results",
    "tests/test_distress.py::test_a_firm_that_cannot_pay_defaults_and_its_loan_ages_through_the_categories",
    "tests/test_threads_and_cache.py::test_kernels_compile_in_parallel_processes_into_the_cache",
)


def pytest_collection_modifyitems(config, items):
    """The long tests first (`LONG_FIRST`), the rest in collection order (the sort is stable, and the
    same on every xdist worker, as xdist requires)."""
    rank = {nodeid: k for k, nodeid in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid, len(rank)))


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
