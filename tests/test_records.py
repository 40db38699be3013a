"""The records' Dataset is the one xarray builds from plain arrays (to_dataset builds it ready-made)."""

import numpy as np
import pytest
import xarray as xr

from sim.records import CATEGORIES, SECTORS, SIZE_CLASSES, Recorder, variable_attrs


@pytest.mark.parametrize("closed", [False, True])
def test_to_dataset_is_xarrays_own(closed):
    rec = Recorder(5, closed=closed)
    rng = np.random.default_rng(1)
    for v in rec.data.values():
        v[:] = rng.random(v.shape)
    ds = rec.to_dataset("2020-01", {"title": "x"})
    coords = {"time": (np.datetime64("2020-01", "M") + np.arange(5)).astype("datetime64[ns]"),
              "sector": np.array(SECTORS), "size_class": np.array(SIZE_CLASSES), "category": np.array(CATEGORIES)}
    if closed:
        from sim.economy import FLOW_NAMES, INSTITUTIONS, ITEM_NAMES

        coords.update(flow=np.array(FLOW_NAMES), institution=np.array(INSTITUTIONS), item=np.array(ITEM_NAMES))
    plain = xr.Dataset({n: xr.DataArray(rec.data[n], dims=d, attrs=variable_attrs(n)) for n, (d, _, _) in
                        rec.variables.items()}, coords=coords, attrs={"title": "x"})
    for name in ("time", "sector", "size_class", "category"):
        plain[name].attrs.update(ds[name].attrs)
    xr.testing.assert_identical(ds, plain)
    assert all(ds[k].dtype == v.dtype for k, v in coords.items())  # '<U' coordinates stay '<U'
    assert ds.sel(sector=SECTORS[2], time="2020-03")["output"].item() == rec.data["output"][2, 2]


def test_the_panel_is_xarrays_own_and_imports_neither_dask_nor_pint():
    """panel.build makes the Dataset xarray makes from plain arrays (ready-made variables, so that a
    run with a panel does not import dask and pint to inspect numpy's arrays)."""
    import subprocess
    import sys

    from sim import panel

    names = list(panel.PANEL_FIELDS)[:3]
    rng = np.random.default_rng(2)
    snaps = []
    for t, ids in ((11, [0, 1, 2, 5]), (23, [1, 2, 5, 7, 8])):
        s = {"firm_id": np.array(ids), "sector": np.array(ids) % 10, "ownership": np.array(ids) % 2}
        s.update({n: rng.random(len(ids)) for n in names})
        snaps.append((t, s))
    weight = np.arange(1.0, 11.0)
    ds = panel.build(snaps, "2019-01", names, weight, {"title": "p"})
    ids = np.array([0, 1, 2, 5, 7, 8])
    sector = ids % 10
    data = {n: np.full((2, 6), np.nan) for n in names}
    alive = np.zeros((2, 6), dtype=np.int8)
    for k, (_, s) in enumerate(snaps):
        col = np.searchsorted(ids, s["firm_id"])
        alive[k, col] = 1
        for n in names:
            data[n][k, col] = s[n]
    plain = xr.Dataset(
        {n: xr.DataArray(data[n], dims=("time", "firm"), attrs={"units": panel.PANEL_FIELDS[n][0],
                         "long_name": panel.PANEL_FIELDS[n][1], "cell_methods": "time: point"}) for n in names},
        coords={"time": np.array(["2019-12", "2020-12"], dtype="datetime64[M]").astype("datetime64[ns]"),
                "firm": ids, "sector": ("firm", np.array(SECTORS, dtype=object)[sector].astype(str)),
                "ownership": ("firm", (ids % 2).astype(np.int8))})
    plain["alive"] = xr.DataArray(alive, dims=("time", "firm"), attrs=ds["alive"].attrs)
    plain.coords["weight"] = ("firm", weight[sector])
    for k in ("time", "firm", "sector", "ownership", "weight"):
        plain[k].attrs.update(ds[k].attrs)
    plain.attrs.update(title="p")
    xr.testing.assert_identical(ds, plain)
    code = ("import sys, numpy as np\nfrom sim import panel\n"
            "s = {'firm_id': np.array([3]), 'sector': np.array([1]), 'ownership': np.array([0]),\n"
            "     'output': np.ones(1)}\n"
            "panel.build([(0, s)], '2019-01', ['output'], np.ones(10), {})\n"
            "print('dask' in sys.modules, 'pint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr
