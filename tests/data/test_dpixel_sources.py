"""d-pixel sources: Presto and FuseTS real data, a synthetic dated-GeoTIFF folder, error cases."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine
from tif_helpers import write_tif

from stfusion.core.errors import (
    BandMismatchError,
    CRSMismatchError,
    DateError,
    ExtentMismatchError,
    FileFormatError,
    NoDataError,
    ShapeMismatchError,
    UnknownParameterError,
)
from stfusion.data.catalog import load_dataset
from stfusion.data.dpixel_sources import (
    SCL_INVALID,
    TESSERA_S2_BANDS,
    dpixels_of,
    folder_grid,
    fusets_dpixels,
    geotiff_series_dpixels,
    presto_dpixels,
    scl_valid,
)

GRID = Affine(10.0, 0.0, 600000.0, 0.0, -10.0, 5000000.0)


def test_scl_valid_rule():
    codes = np.arange(13, dtype=np.uint8)
    assert np.flatnonzero(~scl_valid(codes)).tolist() == [0, 1, 2, 3, 8, 9, 12]  # 12 is not an SCL class
    assert SCL_INVALID == {0, 1, 2, 3, 8, 9}
    assert scl_valid(np.array([[4.0, np.nan], [255.0, 10.0]])).tolist() == [[True, False], [False, True]]


@pytest.mark.realdata
@pytest.mark.parametrize("name, samples, steps", [("ts_presto_algae", 1122, 12), ("ts_presto_fuel", 2313, 3)])
def test_presto_dpixels(shared_data, name, samples, steps):
    series = load_dataset(name, shared_data)
    dp = presto_dpixels(series)
    assert dp.shape is None and dp.name == name and set(dp.sensors) == {"s2", "s1"}
    s2, s1 = dp.sensors["s2"], dp.sensors["s1"]
    assert s2.values.shape == (samples, steps, 10) and s1.values.shape == (samples, steps, 2)
    assert s2.bands == TESSERA_S2_BANDS == ("B4", "B2", "B3", "B8", "B8A", "B5", "B6", "B7", "B11", "B12")
    assert s1.bands == ("VV", "VH")
    for i, band in enumerate(TESSERA_S2_BANDS):  # TESSERA's order, reflectance 0-1
        np.testing.assert_allclose(s2.values[..., i], series.channel(band) / 10000, rtol=1e-6)
    np.testing.assert_allclose(s1.values[..., 1], series.channel("VH"), rtol=1e-6)  # dB as stored
    assert 0 <= s2.values.min() and s2.values.max() < 1.5 and s1.values.max() < 20
    assert s2.valid.all() and s1.valid.all()  # the Presto sets have no gaps
    # doy: the 15th of each step's month, increasing across the new year
    assert s2.doy.shape == (samples, steps) and np.array_equal(s1.doy, s2.doy)
    calendar = presto_dpixels(series, calendar_doy=True).sensors["s2"].doy
    expected = np.array([15, 46, 74, 105, 135, 166, 196, 227, 258, 288, 319, 349])[series.month]
    assert np.array_equal(calendar, expected) and np.array_equal(s2.doy % 365, expected)
    assert (np.diff(s2.doy, axis=1) >= 0).all()
    assert np.array_equal(dp.extra["target"], series.target)
    assert np.array_equal(dp.extra["is_test"], series.is_test) and dp.extra["latlon"].shape == (samples, 2)


@pytest.mark.realdata
def test_presto_zero_and_nan_steps_are_invalid(shared_data):
    series = load_dataset("ts_presto_fuel", shared_data)
    values = series.values.copy()
    values[0, 0, 2:13] = 0.0  # all S2 bands zero
    values[1, 1, 0] = np.nan  # VV missing
    values[2, 2, :2] = 0.0  # S1 VV = VH = 0 (TESSERA's missing value)
    dp = presto_dpixels(dataclasses.replace(series, values=values))
    s2, s1 = dp.sensors["s2"].valid, dp.sensors["s1"].valid
    assert (~s2).sum() == 1 and not s2[0, 0]
    assert (~s1).sum() == 2 and not s1[1, 1] and not s1[2, 2]


@pytest.mark.realdata
def test_fusets_dpixels_scl_validity(shared_data):
    field = load_dataset("ts_fusets_field", shared_data)
    dp = fusets_dpixels(field)
    assert dp.shape == (57, 56) and dp.crs == "EPSG:32630" and dp.transform == field.s2.transform
    s2 = dp.sensors["s2"]
    assert set(dp.sensors) == {"s2"} and s2.bands == ("B04", "B08") and s2.values.shape == (57 * 56, 33, 2)
    scl = field.s2.layers["SCL"]  # (dates, rows, cols)
    finite = np.isfinite(field.s2.values[..., :2]).all(axis=-1)
    expected = ~np.isin(scl, [0, 1, 2, 3, 8, 9]) & finite
    assert np.array_equal(s2.valid, np.moveaxis(expected, 0, 2).reshape(-1, 33))
    assert s2.valid.sum() < field.s2.valid.sum()  # SCL 2 (dark area) pixels are dropped although finite
    assert s2.doy[0] == 27 and s2.doy[-1] == 362  # 2019-01-27 .. 2019-12-28
    assert dp.extra["field"].shape == (57 * 56,)


@pytest.mark.realdata
def test_fusets_dpixels_with_s1(shared_data):
    dp = dpixels_of("ts_fusets_field", root=shared_data, with_s1=True, ndvi=True)
    assert dp.sensors["s2"].bands == ("B04", "B08", "NDVI")
    s1 = dp.sensors["s1"]
    assert s1.bands == ("RVI",) and s1.values.shape == (57 * 56, 60 + 119, 1)  # both orbits pooled
    assert s1.valid.all() and (s1.values == s1.values[:1]).all()  # one field-level series on every pixel
    assert (np.diff(s1.doy) >= 0).all() and s1.doy[0] == 5  # 2019-01-05
    orbit = dp.extra["s1_orbit"]
    assert (orbit == "ascending").sum() == 60 and (orbit == "descending").sum() == 119


_tif = functools.partial(write_tif, transform=GRID)


def _folder(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """3 dates x 2 bands of 4 x 5 uint16 (nodata 0); an SCL map marks a cloud on the second date."""
    rng = np.random.default_rng(0)
    data = rng.integers(100, 5000, size=(3, 2, 4, 5)).astype(np.uint16)
    data[0, :, 0, 0] = 0  # nodata
    for date, x in zip(("20200105", "20200301", "20210110"), data):
        _tif(tmp_path / f"S2_{date}.tif", x, nodata=0)
    scl = np.full((4, 5), 4, np.uint8)
    scl[1:3, 2:4] = 9  # cloud high probability
    scl[3, 4] = 10  # thin cirrus: valid
    _tif(tmp_path / "S2_20200301_SCL.tif", scl)
    (tmp_path / "notes.txt").write_text("not a raster")
    return tmp_path, data


def test_geotiff_series_round_trip(tmp_path):
    folder, data = _folder(tmp_path)
    dp = geotiff_series_dpixels(folder, bands=("B04", "B08"))
    assert dp.shape == (4, 5) and dp.crs == "EPSG:32633" and dp.transform == tuple(GRID)[:6]
    s2 = dp.sensors["s2"]
    assert s2.bands == ("B04", "B08") and s2.values.shape == (20, 3, 2)
    assert s2.doy.tolist() == [5, 61, 376]  # from 1 January 2020; 2021-01-10 is day 376
    expected = np.moveaxis(data, (0, 1), (2, 3)).reshape(20, 3, 2) * 1e-4
    valid = np.ones((3, 4, 5), bool)
    valid[0, 0, 0] = False
    valid[1, 1:3, 2:4] = False
    valid = np.moveaxis(valid, 0, 2).reshape(20, 3)
    assert np.array_equal(s2.valid, valid)
    np.testing.assert_allclose(s2.values[valid], expected[valid], rtol=1e-6)
    assert (s2.values[~valid] == 0).all()
    # the same folder by path through dpixels_of, under another sensor name and default band names
    other = dpixels_of(folder, pattern="S2_????????.tif", sensor="s2x", scl_suffix=None)
    assert other.sensors["s2x"].bands == ("b1", "b2") and other.sensors["s2x"].valid.sum() == 59


def test_geotiff_series_mask_sidecar_and_empty_date(tmp_path):
    folder, _ = _folder(tmp_path)
    _tif(folder / "S2_20200105_mask.tif", np.array([[1, 0, 1, 1, 1]] * 4, np.uint8))  # 0/1 valid mask
    _tif(folder / "S2_20200601.tif", np.zeros((2, 4, 5), np.uint16), nodata=0)  # a date entirely nodata
    dp = geotiff_series_dpixels(folder, clear_codes=(1,))
    valid = dp.sensors["s2"].valid.reshape(4, 5, 4)
    assert valid[:, 1, 0].sum() == 0 and valid[:, :, 0].sum() == 20 - 4 - 1
    assert not valid[..., 2].any() and dp.sensors["s2"].doy.tolist() == [5, 61, 153, 376]


def test_geotiff_series_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileFormatError, match="no file matching"):
        geotiff_series_dpixels(empty)
    with pytest.raises(FileFormatError, match="not found"):
        geotiff_series_dpixels(tmp_path / "missing")
    undated = tmp_path / "undated"
    undated.mkdir()
    _tif(undated / "scene.tif", np.ones((2, 4, 5), np.uint16))
    with pytest.raises(DateError, match="YYYYMMDD"):
        geotiff_series_dpixels(undated)

    (tmp_path / "f").mkdir()
    folder, _ = _folder(tmp_path / "f")
    bad = _tif(folder / "S2_20200401.tif", np.ones((2, 3, 5), np.uint16))
    with pytest.raises(ShapeMismatchError, match="one grid"):
        geotiff_series_dpixels(folder)
    _tif(bad, np.ones((2, 4, 5), np.uint16), crs="EPSG:32634")
    with pytest.raises(CRSMismatchError, match="EPSG:32634"):
        geotiff_series_dpixels(folder)
    _tif(bad, np.ones((2, 4, 5), np.uint16), transform=Affine(10.0, 0.0, 600001.0, 0.0, -10.0, 5000000.0))
    with pytest.raises(ExtentMismatchError, match="one pixel grid"):
        geotiff_series_dpixels(folder)
    bad.unlink()
    _tif(folder / "S2_20200301_SCL.tif", np.full((2, 3), 4, np.uint8))  # SCL at 20 m on a 10 m image
    with pytest.raises(ShapeMismatchError, match="SCL"):
        geotiff_series_dpixels(folder)

    trunc = tmp_path / "t"
    trunc.mkdir()
    raw = _tif(trunc / "S2_20200101.tif", np.arange(2 * 64 * 64, dtype=np.uint16).reshape(2, 64, 64)).read_bytes()
    (trunc / "S2_20200101.tif").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FileFormatError, match="truncated"):
        geotiff_series_dpixels(trunc)


def test_dpixels_of_unknown_name():
    with pytest.raises(UnknownParameterError, match="ts_presto_algae, ts_presto_fuel"):
        dpixels_of("ts_presto_bloom")


@pytest.mark.realdata
def test_dpixels_of_builtin(shared_data):
    dp = dpixels_of("ts_eolearn_ndvi", root=shared_data)
    assert dp.shape == (101, 100) and dp.sensors["s2"].values.shape == (10100, 68, 1)
    assert dp.sensors["s2"].doy[0] == (_dt.date(2015, 7, 11) - _dt.date(2015, 1, 1)).days + 1
    assert set(dpixels_of("ts_presto_fuel", root=shared_data).sensors) == {"s2", "s1"}


def test_sensor_subfolders_give_s1_and_s2_on_one_grid(tmp_path):
    (tmp_path / "s2").mkdir()
    _folder(tmp_path / "s2")
    (tmp_path / "s1").mkdir()
    vv_vh = np.full((2, 4, 5), -12.5, np.float32)
    vv_vh[:, 0, 0] = np.nan  # missing
    _tif(tmp_path / "s1" / "S1_20191230.tif", vv_vh, nodata=None)
    _tif(tmp_path / "s1" / "S1_20200220.tif", vv_vh + 1, nodata=None)
    dp = dpixels_of(tmp_path)
    assert set(dp.sensors) == {"s1", "s2"} and dp.shape == (4, 5)
    np.testing.assert_array_equal(dp.sensors["s1"].doy, [364, 416])  # days from 1 January 2019
    np.testing.assert_array_equal(dp.sensors["s2"].doy, [370, 426, 741])
    assert dp.sensors["s1"].values[1, 0, 0] == -12.5  # dB, unscaled
    assert not dp.sensors["s1"].valid[0].any() and dp.sensors["s1"].valid[1:].all()
    _tif(tmp_path / "s1" / "S1_20200301.tif", np.zeros((2, 3, 5), np.float32), nodata=None)
    with pytest.raises(ShapeMismatchError):
        dpixels_of(tmp_path)


def test_a_flat_folder_of_s2_and_s1_stacks_reads_as_the_sensor_subfolders(tmp_path):
    split, flat = tmp_path / "split", tmp_path / "flat"
    for folder in (split / "s2", split / "s1", flat):
        folder.mkdir(parents=True)
    for s2 in (split / "s2", flat):
        _folder(s2)
    for s1 in (split / "s1", flat):
        _tif(s1 / "S1_20191230.tif", np.full((2, 4, 5), -12.5, np.float32), nodata=None)
        _tif(s1 / "S1_20200220.tif", np.full((2, 4, 5), -11.5, np.float32), nodata=None)
    want, got = dpixels_of(split), dpixels_of(flat)
    assert set(got.sensors) == {"s1", "s2"} and got.shape == want.shape
    for name in ("s1", "s2"):
        a, b = want.sensors[name], got.sensors[name]
        assert a.bands == b.bands and np.array_equal(a.doy, b.doy) and np.array_equal(a.valid, b.valid)
        np.testing.assert_array_equal(a.values, b.values)
    assert folder_grid(flat).dates == folder_grid(split).dates
    assert set(dpixels_of(flat, pattern="S2*").sensors) == {"s2"}  # a pattern picks one sensor's stacks


def _concat_blocks(read, rows: int, size: int):
    """The blocks of ``size`` rows read by ``read(rows=slice)``, and their d-pixels."""
    return [read(rows=slice(r, min(r + size, rows))) for r in range(0, rows, size)]


def _assert_blocks_equal_full(full, blocks, size):
    assert [b.shape for b in blocks] == [(min(size, 4 - r), 5) for r in range(0, 4, size)]
    for k, b in enumerate(blocks):
        assert b.transform == tuple(GRID @ Affine.translation(0, k * size))[:6] and b.crs == full.crs
        assert int(b.extra["first_year"]) == int(full.extra["first_year"]) and b.name == full.name
    for name, s in full.sensors.items():
        parts = [b.sensors[name] for b in blocks]
        assert all(p.bands == s.bands and np.array_equal(p.doy, s.doy) for p in parts)
        assert np.array_equal(np.concatenate([p.values for p in parts]), s.values)
        assert np.array_equal(np.concatenate([p.valid for p in parts]), s.valid)


def test_geotiff_series_read_in_row_blocks_equals_the_full_read(tmp_path):
    folder, _ = _folder(tmp_path)
    _tif(folder / "S2_20200105_mask.tif", np.array([[1, 0, 1, 1, 1]] * 4, np.uint8))
    _tif(folder / "S2_20200601.tif", np.zeros((2, 4, 5), np.uint16), nodata=0)  # all nodata
    x = np.random.default_rng(1).uniform(0, 1, (2, 4, 5)).astype(np.float32)
    x[1, 2, 1] = np.nan
    with rasterio.open(folder / "S2_20200801.tif", "w", driver="GTiff", width=5, height=4, count=2, dtype="float32",
                       transform=GRID, crs="EPSG:32633") as dst:  # a float date with a NaN and a GDAL mask
        dst.write(x)
        dst.write_mask(np.where(np.arange(5) == 4, 0, 255).astype(np.uint8)[None].repeat(4, 0))
    options = {"bands": ("B04", "B08"), "clear_codes": (1,)}
    full = geotiff_series_dpixels(folder, **options)
    float_date = full.sensors["s2"].valid.reshape(4, 5, 5)[..., 3]  # 2020-08-01
    assert not float_date[:, 4].any() and not float_date[2, 1] and float_date[:, :4].sum() == 15
    for size in (1, 3, 4):
        blocks = _concat_blocks(lambda rows: geotiff_series_dpixels(folder, rows=rows, **options), 4, size)
        _assert_blocks_equal_full(full, blocks, size)
    grid = folder_grid(folder, **options)
    assert grid.shape == (4, 5) and grid.transform == full.transform and grid.crs == full.crs
    assert grid.bands == {"s2": ("B04", "B08")} and grid.first_year == 2020 and len(grid.dates["s2"]) == 5
    assert grid.block_transform(3) == geotiff_series_dpixels(folder, rows=slice(3, 4), **options).transform
    assert folder_grid(folder).bands == {"s2": ("b1", "b2")}
    for bad in (slice(2, 2), slice(0, 9), slice(-1, None), slice(0, 4, 2)):
        with pytest.raises(UnknownParameterError, match="block of rows"):
            geotiff_series_dpixels(folder, rows=bad)
    _tif(folder / "S2_20200301_SCL.tif", np.full((2, 3), 4, np.uint8))  # SCL at 20 m on a 10 m image
    with pytest.raises(ShapeMismatchError, match="SCL"):
        geotiff_series_dpixels(folder, rows=slice(0, 2))
    (folder / "S2_20200301_SCL.tif").unlink()
    _tif(folder / "S2_20200401.tif", np.ones((2, 3, 5), np.uint16))
    with pytest.raises(ShapeMismatchError, match="one grid"):
        folder_grid(folder)
    with pytest.raises(ShapeMismatchError, match="one grid"):
        geotiff_series_dpixels(folder, rows=slice(0, 2))


def test_a_block_without_valid_observations_is_read(tmp_path):
    x = np.ones((2, 4, 5), np.uint16)
    x[:, :2] = 0  # the top two rows are nodata on every date
    for date in ("20200105", "20200301"):
        _tif(tmp_path / f"S2_{date}.tif", x, nodata=0)
    block = geotiff_series_dpixels(tmp_path, rows=slice(0, 2))
    assert block.shape == (2, 5) and not block.sensors["s2"].valid.any()
    assert geotiff_series_dpixels(tmp_path).sensors["s2"].valid.sum() == 2 * 10
    _tif(tmp_path / "S2_20200105.tif", np.zeros((2, 4, 5), np.uint16), nodata=0)
    _tif(tmp_path / "S2_20200301.tif", np.zeros((2, 4, 5), np.uint16), nodata=0)
    with pytest.raises(NoDataError, match="no valid observation"):
        geotiff_series_dpixels(tmp_path)  # the whole folder must hold data
    assert not geotiff_series_dpixels(tmp_path, rows=slice(2, 4)).sensors["s2"].valid.any()


def test_sensor_subfolders_read_in_row_blocks_equal_the_full_read(tmp_path):
    (tmp_path / "s2").mkdir()
    _folder(tmp_path / "s2")
    (tmp_path / "s1").mkdir()
    vv_vh = np.random.default_rng(2).uniform(-20, -5, (2, 4, 5)).astype(np.float32)
    vv_vh[:, 0, 0] = np.nan
    vv_vh[0, 3, 2] = np.nan
    _tif(tmp_path / "s1" / "S1_20191230.tif", vv_vh, nodata=None)
    _tif(tmp_path / "s1" / "S1_20200220.tif", vv_vh + 1, nodata=None)
    full = dpixels_of(tmp_path)
    for size in (1, 3):
        blocks = _concat_blocks(lambda rows: dpixels_of(tmp_path, rows=rows), 4, size)
        _assert_blocks_equal_full(full, blocks, size)
    assert int(blocks[0].extra["first_year"]) == 2019 and blocks[0].sensors["s2"].doy.tolist() == [370, 426, 741]
    grid = folder_grid(tmp_path)
    assert grid.shape == (4, 5) and grid.first_year == 2019 and grid.transform == full.transform
    assert grid.bands == {"s2": ("b1", "b2"), "s1": ("b1", "b2")} and len(grid.dates["s1"]) == 2
    _tif(tmp_path / "s1" / "S1_20200301.tif", np.zeros((2, 4, 5), np.float32), nodata=None,
         transform=Affine(10.0, 0.0, 600000.0, 0.0, -10.0, 5000010.0))  # a shifted grid
    with pytest.raises(ExtentMismatchError):
        folder_grid(tmp_path)
    (tmp_path / "s1" / "S1_20200301.tif").unlink()
    _tif(tmp_path / "s1" / "S1_20200301.tif", np.zeros((2, 6, 5), np.float32), nodata=None)
    with pytest.raises(ShapeMismatchError):
        dpixels_of(tmp_path, rows=slice(0, 2))  # the blocks have equal shapes, the files do not


def test_s1_orbit_folders_are_pooled_in_time_order(tmp_path):
    (tmp_path / "s2").mkdir()
    _folder(tmp_path / "s2")
    for orbit, dates, level in (("s1_ascending", ("20200110", "20200301"), -15.0),
                                ("s1_descending", ("20200110", "20200205"), -10.0)):
        (tmp_path / orbit).mkdir()
        for k, d in enumerate(dates):
            _tif(tmp_path / orbit / f"S1_{d}.tif", np.full((2, 4, 5), level + k, np.float32), nodata=None)
    dp = dpixels_of(tmp_path)
    s1 = dp.sensors["s1"]
    assert set(dp.sensors) == {"s1", "s2"} and s1.doy.tolist() == [10, 10, 36, 61]
    assert s1.values[0, :, 0].tolist() == [-15.0, -10.0, -9.0, -14.0]  # ascending first on the shared date
    assert [b.sensors["s1"].values.shape for b in _concat_blocks(lambda rows: dpixels_of(tmp_path, rows=rows), 4, 2)] \
        == [(10, 4, 2)] * 2
    grid = folder_grid(tmp_path)
    assert set(grid.bands) == {"s1", "s2"} and len(grid.dates["s1"]) == 4
    _tif(tmp_path / "s1_descending" / "S1_20200205.tif", np.zeros((1, 4, 5), np.float32), nodata=None)
    _tif(tmp_path / "s1_descending" / "S1_20200110.tif", np.zeros((1, 4, 5), np.float32), nodata=None)
    with pytest.raises(BandMismatchError, match="same bands"):
        dpixels_of(tmp_path)
