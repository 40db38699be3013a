"""The kernels' own exp and log (sim.kernels.elementary) against the C library's (math.exp, math.log)."""

import math

import numpy as np
import pytest
from numba import njit

from sim.kernels.elementary import exp, log, logistic


@njit(error_model="numpy")
def _apply(which, x, out):
    # the loop shape of the kernels (nothing but the function), so the vectorised code is tested
    for i in range(np.uint64(0), np.uint64(x.shape[0])):
        if which == 0:
            out[i] = exp(x[i])
        elif which == 1:
            out[i] = log(x[i])
        else:
            out[i] = logistic(x[i])


def _ours(which, x):
    out = np.empty_like(x)
    _apply(which, x, out)
    return out


def _ulps(a, b):
    return np.abs(a.view(np.int64) - b.view(np.int64))


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (-40.0, 40.0), (-708.0, 709.7), (-745.1, -708.0)])
def test_exp_within_one_ulp_of_the_c_library(lo, hi):
    x = np.random.default_rng(0).uniform(lo, hi, 50_000)
    c = np.array([math.exp(v) for v in x])
    assert _ulps(_ours(0, x), c).max() <= 1


@pytest.mark.parametrize("lo, hi", [(0.5, 2.0), (1e-3, 1e3), (1e-300, 1e300), (1e-320, 1e-300)])
def test_log_within_two_ulp_of_the_c_library(lo, hi):
    x = np.exp(np.random.default_rng(1).uniform(np.log(lo), np.log(hi), 50_000))
    c = np.array([math.log(v) for v in x])
    assert _ulps(_ours(1, x), c).max() <= 2


def test_exact_values_and_special_arguments():
    with np.errstate(all="ignore"):
        x = np.array([0.0, -1e-300, 709.9, -746.0, np.inf, -np.inf, np.nan, -745.1])
        np.testing.assert_array_equal(_ours(0, x), [1.0, 1.0, np.inf, 0.0, np.inf, 0.0, np.nan, 5e-324])
        x = np.array([1.0, 2.0, 0.5, 0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 5e-324])
        np.testing.assert_array_equal(
            _ours(1, x),
            [0.0, math.log(2.0), -math.log(2.0), -np.inf, -np.inf, np.nan, np.inf, np.nan, np.nan, math.log(5e-324)],
        )
        np.testing.assert_array_equal(_ours(2, np.array([0.0, -np.inf, np.inf, 800.0])), [0.5, 0.0, 1.0, 1.0])


def test_exp_and_log_invert_each_other():
    x = np.random.default_rng(2).uniform(-50.0, 50.0, 10_000)
    np.testing.assert_allclose(_ours(1, _ours(0, x)), x, rtol=0, atol=1e-13)
