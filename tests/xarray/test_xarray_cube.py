"""Cubes (time, band, y, x) as odc-stac and stackstac give them: `fuse_cube`, several pairs, Dask, no rioxarray."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from xr_cases import as_array

from stfusion.core import FusionTask, Pair
from stfusion.core import predict as predict_scene
from stfusion.core.errors import InputWarning, RatioError
from stfusion.io import align_to_fine
from stfusion.xarray import convert, fuse_cube, predict


def _reference(series, method: str, bases: list[int], target: int) -> np.ndarray:
    """The in-memory prediction (float64, NaN where invalid) from the series' scenes."""
    grid = series.fine[bases[0]]
    pairs = [Pair(series.fine[i], align_to_fine(series.coarse[i], grid)) for i in bases]
    ref = predict_scene(method, FusionTask(pairs, align_to_fine(series.coarse[target], grid), ratio=8.0))
    return np.where(ref.mask, ref.data.astype(np.float64), np.nan)


@pytest.fixture(scope="module")
def cubes(series):
    """Fine images at dates 0, 2 and 4; coarse images (own grid) at all five dates."""
    return as_array([series.fine[i] for i in (0, 2, 4)]), as_array(series.coarse)


@pytest.mark.parametrize("method, bases", [("starfm", {1: [0, 2], 3: [2, 4]}), ("fitfc", {1: [2], 3: [2]})])
def test_fuse_cube_observes_fine_dates_and_predicts_the_others_with_the_series_pairs(series, cubes, method, bases):
    fine, coarse = cubes
    out = fuse_cube(method, fine, coarse)
    assert out.dims == ("time", "band", "y", "x") and out.dtype == np.float64
    assert list(out.fusion.values) == ["observed", "predicted", "observed", "predicted", "observed"]
    assert np.array_equal(out.time.values, coarse.time.values) and list(out.band.values) == list(fine.band.values)
    assert out.attrs["crs"] == "EPSG:32633"
    np.testing.assert_array_equal(out.isel(time=2).values, fine.isel(time=1).values)
    for t, b in bases.items():
        np.testing.assert_array_equal(out.isel(time=t).values, _reference(series, method, b, t))


def test_predict_takes_several_pairs_along_time(series, cubes):
    fine, coarse = cubes
    out = predict("starfm", fine.isel(time=[0, 1]), coarse.isel(time=[0, 2]), coarse.isel(time=1))
    assert str(out.time.values)[:10] == str(series.dates[1])
    np.testing.assert_array_equal(out.values, _reference(series, "starfm", [0, 2], 1))


def test_dask_cube_gives_a_lazy_cube_equal_to_the_eager_one(cubes):
    import dask.array as da

    fine, coarse = cubes
    eager = fuse_cube("starfm", fine, coarse)
    lazy = fuse_cube("starfm", fine.chunk({"y": 16, "x": 32}), coarse.chunk({"time": 1}))
    assert isinstance(lazy.data, da.Array)
    np.testing.assert_array_equal(lazy.values, eager.values)
    assert list(lazy.fusion.values) == list(eager.fusion.values)


@pytest.mark.parametrize("chunks", [None, {"y": 16, "x": 32}])
def test_a_date_that_cannot_be_predicted_is_left_as_nodata_with_a_warning(cubes, chunks):
    fine, coarse = cubes
    coarse = coarse.where(coarse.time != coarse.time[3])  # an all-cloud coarse image on 10 August
    if chunks:
        fine, coarse = fine.chunk(chunks), coarse.chunk()
    with pytest.warns(InputWarning, match=r"2024-08-10 is left as nodata: coarse_cube\[time=2024-08-10\] has no valid"):
        out = fuse_cube("starfm", fine, coarse)
    assert list(out.fusion.values) == ["observed", "predicted", "observed", "skipped", "observed"]
    assert np.isnan(out.isel(time=3).values).all() and not np.isnan(out.isel(time=1).values).all()


def test_coarse_on_the_fine_grid_needs_the_ratio_as_an_argument(series):
    fine, coarse = as_array(series.fine[:1]), as_array(series.coarse_on_fine)
    with pytest.raises(RatioError) as err:
        predict("fitfc", fine, coarse.isel(time=[0]), coarse.isel(time=3))
    assert "ratio=R" in str(err.value) and "--" not in str(err.value)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        out = predict("fitfc", fine, coarse.isel(time=[0]), coarse.isel(time=3), ratio=8)
    assert np.isfinite(out.values).any()


@pytest.mark.parametrize("layout", ["coordinates", "spatial_ref"])
def test_without_rioxarray_the_grid_comes_from_coordinates_and_attributes(series, cubes, monkeypatch, layout):
    fine, coarse = cubes
    if layout == "spatial_ref":  # odc-stac: a spatial_ref coordinate with the WKT and GDAL's GeoTransform
        def ref(arr: xr.DataArray, transform) -> xr.DataArray:
            a, b, c, d, e, f = transform
            attrs = {"crs_wkt": 'PROJCS["WGS 84 / UTM zone 33N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID['
                                '"WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",'
                                '0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",'
                                '0],PARAMETER["central_meridian",15],PARAMETER["scale_factor",0.9996],PARAMETER['
                                '"false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1],AUTHORITY['
                                '"EPSG","32633"]]',
                     "GeoTransform": f"{c} {a} {b} {f} {d} {e}"}
            return arr.drop_attrs().assign_coords(spatial_ref=xr.DataArray(0, attrs=attrs))

        fine, coarse = ref(fine, series.fine[0].transform), ref(coarse, series.coarse[0].transform)
    expected = fuse_cube("starfm", fine, coarse)
    monkeypatch.setattr(convert, "rioxarray", lambda: None)
    raster = convert.Raster.of(coarse, "coarse_cube")
    assert raster.transform == series.coarse[0].transform and raster.crs == "EPSG:32633"
    np.testing.assert_array_equal(fuse_cube("starfm", fine, coarse).values, expected.values)
