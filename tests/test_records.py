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
