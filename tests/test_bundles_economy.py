"""The closed economy's kernels (kernels/payout.py, sums.sector_sums): every write lands in the
model's arrays over several chunks of rows, as the kernels' own Python code (`py_func`) on a copy
makes them (tests/test_kernel_bundles.py explains the numba trap these guard against)."""

from __future__ import annotations

import numpy as np

from sim.kernels import payout, sums

from .test_bundles_accounting import SCORE, _firms, _python_chunks
from .test_kernel_bundles import N_ROWS, N_S, _assert_same, _copy


def test_payout_writes_every_payer_in_every_chunk(monkeypatch):
    F = _firms(31)
    F.cash[:] = np.abs(F.cash) * 3.0  # most above the target, some below
    weight, target = np.linspace(1.0, 3.0, N_S), np.full(N_S, 0.12)
    payers = F.alive & (F.cash - 0.12 * 12.0 * F.revenue > 0)
    F.pd[:] = np.where(payers, np.nan, -1.0)  # written for the payers only: a lost write stays NaN
    G = _copy(F)
    paid, want = np.zeros(N_S), np.zeros(N_S)
    deposits = payout.pay_out_excess_cash(F.bundle(), weight, target, 0.05, SCORE, paid)
    _python_chunks(monkeypatch, payout)
    payout.pay_out_excess_cash.py_func(G.bundle(), weight, target, 0.05, SCORE, want)
    assert deposits == sums.weighted_sum(G.alive, G.sector, weight, G.cash)  # the deposits left, as the check sums them
    assert N_ROWS // 4 < payers.sum() < payers.size and (G.pd[payers] >= 0).all()
    _assert_same(F, G, ("cash", "pd"))
    np.testing.assert_array_equal(paid, want)
    assert paid.sum() > 0


def test_sector_sums_match_numpy():
    F = _firms(32)
    out = np.zeros((N_S, 3))
    sums.sector_sums(F.alive, F.sector, (F.capital, F.other_assets, F.output), out)
    a = F.alive
    for j, x in enumerate((F.capital, F.other_assets, F.output)):
        np.testing.assert_allclose(out[:, j], np.bincount(F.sector[a], weights=x[a], minlength=N_S), rtol=1e-12)
