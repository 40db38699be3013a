"""Poisson numbers of entrants compiled (kernels.poisson) are the counts scipy's ufuncs and numpy's
masks made, bit for bit: scipy.stats.poisson.ppf's quantiles (pdtrik, then pdtr), at most the
sector's most, none where the mean is not positive."""

import numpy as np
import pytest
from scipy import special

from sim.kernels.poisson import entrant_counts, poisson_ppf


def _numpy_ppf(u, lam):
    """The quantiles as phases.entry.poisson_ppf made them with the ufuncs."""
    with np.errstate(invalid="ignore"):
        vals = np.ceil(special.pdtrik(u, lam))
        vals1 = np.maximum(vals - 1, 0)
        q = np.where(special.pdtr(vals1, lam) >= u, vals1, vals)
    q = np.where(u == 0, -1.0, q)
    q = np.where(u == 1, np.inf, q)
    return np.where((lam >= 0) & (u >= 0) & (u <= 1), q, np.nan)


@pytest.mark.parametrize("scale", [1e-3, 0.05, 1.0, 30.0, 400.0])
def test_quantiles_and_counts_as_scipy_and_numpy(scale):
    rng = np.random.default_rng(int(scale * 1000))
    n = 4000
    u, lam = rng.random(n), rng.random(n) * scale
    u[:4] = [0.0, 1.0, 0.5, 1.5]
    lam[4:8] = [0.0, -1.0, np.nan, 0.0]
    want = _numpy_ppf(u, lam)
    got = np.array([poisson_ppf(a, b) for a, b in zip(u, lam, strict=True)])
    assert got.tobytes() == want.tobytes()
    most = rng.integers(1, 50, n)
    keep = ~np.isnan(want) | (lam <= 0)  # (a NaN quantile's count is a cast of NaN)
    with np.errstate(invalid="ignore"):
        counts = np.minimum(want, most).astype(np.int64)
    counts[lam <= 0] = 0
    assert np.array_equal(entrant_counts(u, lam, most)[keep], counts[keep])
